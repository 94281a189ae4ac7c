// nnsweep's report page: the runs table (sort, filter, one row per job or per replicate),
// the figures (plotly.js, beside the page) and each job's view. Everything it shows is in
// the page's JSON (#page-data), written by nnsweep.report.web; nothing is fetched.
(function () {
  "use strict";
  performance.mark("nnsweep:start");  // plotly.js is loaded: scripts/bench_report.py times each step
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const views = data.table ? data.table.views : [];
  const viewOf = new Map(views.map((v, i) => [v.job, i]));

  // ---------------------------------------------------------------- values
  const NUMERIC = new Set(["int", "g4", "bool"]);
  const NARROW = 600;  // px: nnsweep.report.web.axes.NARROW
  const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });  // made once: fast
  function show(value, format) {
    if (value === null || value === undefined) return "";
    if (format === "int") return whole.format(value);
    if (format === "g4") return String(parseFloat(Number(value).toPrecision(4)));
    if (format === "bool") return value ? "yes" : "no";
    return String(value);
  }
  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  const escape = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });
  // ascending or descending (dir -1); a missing value last either way
  function compare(a, b, format, dir) {
    const missingA = a === null || a === undefined, missingB = b === null || b === undefined;
    if (missingA || missingB) return missingA === missingB ? 0 : missingA ? 1 : -1;
    if (NUMERIC.has(format)) return dir * (Number(a) - Number(b));
    return dir * collator.compare(String(a), String(b));
  }

  // ---------------------------------------------------------------- the runs table
  function cellHtml(value, column) {
    const right = column.format === "int" || column.format === "g4";
    const bad = column.key === "status" && value !== "complete";
    const cls = right ? ' class="num"' : bad ? ' class="status-bad"' : "";
    if (value === null || value === undefined) return `<td${cls}></td>`;
    if (column.key === "job") {
      return `<td><button type="button" class="job" data-job="${escape(value)}">${escape(value)}</button></td>`;
    }
    if (column.format === "link") return `<td><a href="${escape(value)}">folder</a></td>`;
    return `<td${cls}>${escape(show(value, column.format))}</td>`;
  }

  function headHtml(columns) {
    const cells = columns.map((c, i) => {
      const cls = c.format === "int" || c.format === "g4" ? ' class="num"' : "";
      return `<th scope="col"${cls}><button type="button" data-column="${i}" title="sort by ${escape(c.label)}">${escape(c.label)}</button></th>`;
    });
    return `<thead><tr>${cells.join("")}</tr></thead>`;
  }

  // one view of the table (jobs or replicates): its header and rows, made once
  function buildView(spec) {
    const { columns, rows } = spec;
    const holder = document.createElement("table");
    holder.innerHTML = headHtml(columns) + "<tbody>" +
      rows.map((values) => "<tr>" + values.map((v, i) => cellHtml(v, columns[i])).join("") + "</tr>").join("") +
      "</tbody>";
    performance.mark("nnsweep:rows");
    const elements = holder.tBodies[0].rows;
    const body = rows.map((values, n) => ({
      row: elements[n],
      values,
      text: columns
        .map((c, i) => (c.format === "link" ? "" : c.label + "=" + show(values[i], c.format)))
        .join(" ")
        .toLowerCase(),
    }));
    return { head: holder.tHead, body, columns };
  }

  function runsTable(spec) {
    const table = document.getElementById("runs-table");
    const filter = document.getElementById("filter");
    const perReplicate = document.getElementById("per-replicate");
    const shown = document.getElementById("shown");
    const state = { mode: "jobs", column: null, dir: 1 };
    const built = {};
    const view = () => built[state.mode] || (built[state.mode] = buildView(spec[state.mode]));

    function render() {
      const current = view();
      const rows = current.body.slice();
      if (state.column !== null) {
        const format = current.columns[state.column].format;
        rows.sort((a, b) => compare(a.values[state.column], b.values[state.column], format, state.dir));
      }
      current.head.querySelectorAll("th").forEach((th, i) => {
        if (i === state.column) th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
        else th.removeAttribute("aria-sort");
      });
      const terms = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      let visible = 0;
      const body = document.createElement("tbody");
      for (const r of rows) {
        r.row.hidden = !terms.every((t) => r.text.includes(t));
        visible += r.row.hidden ? 0 : 1;
        body.appendChild(r.row);
      }
      table.replaceChildren(current.head, body);
      const noun = state.mode === "jobs" ? "jobs" : "replicates";
      shown.textContent = `${whole.format(visible)} of ${whole.format(rows.length)} ${noun}`;
    }

    // one listener for every header and job button (a button answers Enter and Space too)
    table.addEventListener("click", (event) => {
      const header = event.target.closest("th button");
      if (header) {
        const i = Number(header.dataset.column);
        state.dir = state.column === i ? -state.dir : 1;
        state.column = i;
        render();
        table.querySelector(`th button[data-column="${i}"]`).focus();
        return;
      }
      const job = event.target.closest("button.job");
      if (job) openView(viewOf.get(job.dataset.job));
    });
    filter.addEventListener("input", render);
    perReplicate.addEventListener("change", () => {
      const sorted = state.column !== null ? view().columns[state.column].key : null;
      state.mode = perReplicate.checked ? "replicates" : "jobs";
      const same = view().columns.findIndex((c) => c.key === sorted);
      state.column = same >= 0 ? same : null;  // the same column stays sorted, where both have it
      render();
    });
    render();
  }

  // ---------------------------------------------------------------- a job's view
  const dialog = document.getElementById("job-view");
  function openView(i) {
    const view = views[i];
    if (!view) return;
    dialog.querySelector("#job-view-title").textContent = "job " + view.job;
    const facts = dialog.querySelector(".job-facts");
    const folder = document.createElement("a");
    folder.href = view.folder;
    folder.textContent = "its folder";
    const parts = [view.status, view.overrides ? "overrides: " + view.overrides : "", view.error]
      .filter(Boolean).join("; ");
    facts.replaceChildren(parts + (parts ? "; " : ""), folder);
    const figures = dialog.querySelector(".job-figures");
    figures.replaceChildren(...view.figures.map(([label, href]) => {
      const figure = document.createElement("figure");
      const img = document.createElement("img");
      img.src = href;
      img.alt = `job ${view.job}: ${label}`;
      const caption = document.createElement("figcaption");
      caption.textContent = label;
      figure.append(img, caption);
      return figure;
    }));
    if (!view.figures.length) figures.textContent = "This job's folder holds no figures.";
    if (!dialog.open) dialog.showModal();
  }

  // ---------------------------------------------------------------- figures
  const hoverLabel = document.getElementById("hover-label");
  function jobHover(element, figure) {
    element.on("plotly_hover", (event) => {
      const point = event.points[0];
      const label = figure.labels[point.customdata];
      if (label === undefined) return;
      const loss = Number(point.y).toPrecision(3);
      const where = figure.kind === "jobs"
        ? `epoch ${whole.format(point.x)}, loss ${loss}`
        : `final loss ${loss}`;
      hoverLabel.textContent = `${label}\n${where}`;
      hoverLabel.style.left = `${Math.max(4, Math.min(event.event.clientX + 14, window.innerWidth - 330))}px`;
      hoverLabel.style.top = `${event.event.clientY + 14}px`;
      hoverLabel.hidden = false;
    });
    element.on("plotly_unhover", () => { hoverLabel.hidden = true; });
    element.on("plotly_click", (event) => {
      const job = event.points[0].customdata;
      if (views[job]) { hoverLabel.hidden = true; openView(job); }
    });
  }

  function place(figure) {
    const container = figure.target
      ? document.getElementById(figure.target)
      : document.querySelector('[data-figures="all"]');
    const element = document.createElement("figure");
    element.id = "figure-" + figure.id;
    const title = document.createElement("h3");
    title.textContent = figure.title;
    const plot = document.createElement("div");
    plot.className = "plot";
    plot.dataset.kind = figure.kind;
    plot.style.height = figure.layout.height + "px";
    const caption = document.createElement("figcaption");
    caption.textContent = figure.caption;
    element.append(title, plot, caption);
    container.appendChild(element);
    return plot;
  }

  function draw(plot, figure) {
    if (typeof Plotly === "undefined") {
      plot.className = "plot-missing";
      plot.textContent = "plotly.min.js is missing beside this page: the figure cannot be drawn.";
      return Promise.resolve();
    }
    // a phone: the panels one above the other, the colour bar above them
    const narrow = figure.narrow && plot.clientWidth < NARROW;
    const layout = narrow ? figure.narrow : figure.layout;
    if (narrow && figure.narrow_colourbar) {
      figure.data.forEach((t) => { if (t.marker && t.marker.colorbar) t.marker.colorbar = figure.narrow_colourbar; });
    }
    plot.style.height = layout.height + "px";
    const config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };
    return Plotly.newPlot(plot, figure.data, layout, config).then(() => {
      plot.dataset.drawn = "true";
      performance.mark("nnsweep:figure " + figure.id);
      if (figure.labels) jobHover(plot, figure);
    });
  }

  // A figure is drawn when it comes near the screen: a 1,000-job sweep's page is usable
  // before the figures below the table are drawn.
  const started = [];
  function drawWhenNear(plot, figure) {
    return new Promise((resolve) => {
      const observer = new IntersectionObserver((entries) => {
        if (!entries.some((e) => e.isIntersecting)) return;
        observer.disconnect();
        const drawing = draw(plot, figure);
        started.push(drawing);
        drawing.then(resolve);
      }, { rootMargin: "150px" });
      observer.observe(plot);
    });
  }

  if (data.table) runsTable(data.table);
  performance.mark("nnsweep:table");
  const drawn = (data.figures || []).map((figure) => drawWhenNear(place(figure), figure));
  performance.mark("nnsweep:placed");
  // interactive: the table built and every figure on the first screen drawn (the observer
  // reports those within a frame or two)
  requestAnimationFrame(() => requestAnimationFrame(() => {
    Promise.all(started).then(() => {
      window.nnsweepReadyMs = performance.now();
      performance.mark("nnsweep:interactive");
      document.documentElement.dataset.ready = "true";
    });
  }));
  Promise.all(drawn).then(() => { document.documentElement.dataset.drawn = "true"; });
})();
