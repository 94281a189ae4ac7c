"""A real single-node SLURM cluster, for the tests and for a person trying nnsweep on SLURM.

``python -m tests.cluster.slurm up [--dir DIR] [--no-accounting]`` starts one and prints the
``export SLURM_CONF=...`` line that points SLURM's commands (sbatch, squeue, sacct) at it;
``python -m tests.cluster.slurm down [--dir DIR]`` stops it. tests/test_slurm.py starts
and stops one through :func:`up` and :meth:`Cluster.down`.

Everything lives in one folder: the configs, the state, the logs, a fresh munge key,
MariaDB's data. This host is the controller and the only node. The daemons are started in
the foreground as children (``munged`` as the ``munge`` user), so their pids are known
and each is stopped by its pid; ``pids.json`` keeps them for ``down`` from another process.
Accounting (``slurmdbd`` on a MariaDB of its own, on loopback) is on unless asked off:
without it ``sacct`` fails, and submitit learns a cancelled job's end from nothing else.

Where a program is missing, :func:`install` takes Debian's packages with ``apt-get``
(root only); :class:`Unavailable` says in one line why a cluster cannot start here.
"""

import argparse
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("slurm-wlm", "slurm-client", "munge", "slurmdbd", "mariadb-server")
PROGRAMS = ("munged", "slurmctld", "slurmd", "slurmdbd", "mariadbd", "sinfo", "sbatch", "sacct")
DEFAULT_DIR = Path(tempfile.gettempdir()) / "nnsweep-slurm"
PARTITION = "debug"
CLUSTER_NAME = "nnsweep"
PIDS_JSON = "pids.json"
START_TIMEOUT = 60.0  # seconds for the node to be idle; it takes a few
APT_LOCK_WAIT = 600  # seconds apt-get waits for another apt-get (a shared machine)
STOP_ORDER = ("slurmd", "slurmctld", "slurmdbd", "mariadbd", "munged")  # users first


class Unavailable(RuntimeError):
    """A cluster cannot start on this machine (not root, no apt-get): the one-line reason."""


def missing_programs() -> list[str]:
    return [p for p in PROGRAMS if shutil.which(p, path=_sbin_path()) is None]


def _sbin_path() -> str:
    # the daemons live in /usr/sbin, which a non-login root shell may lack on its PATH
    return os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"])


def install() -> None:
    """Debian's SLURM, munge, slurmdbd and MariaDB, through apt-get, where any is missing."""
    missing = missing_programs()
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise Unavailable(f"{', '.join(missing)} missing and no apt-get to install them")
    if os.geteuid() != 0:
        raise Unavailable(f"{', '.join(missing)} missing, and installing them needs root")
    command = ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT}", "install", "-y", "-q"]
    command += ["--no-install-recommends", *PACKAGES]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(command, env=env, capture_output=True).returncode != 0:
        # a fresh machine may have no package lists yet
        update = ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_LOCK_WAIT}", "update", "-q"]
        subprocess.run(update, env=env, capture_output=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"apt-get install {' '.join(PACKAGES)} failed: {last}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    """One cluster's folder and the pids of the daemons started for it."""

    root: Path
    accounting: bool = True
    pids: dict[str, int] = field(default_factory=dict)
    children: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)

    @property
    def conf(self) -> Path:
        return self.root / "etc" / "slurm.conf"

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to use this cluster: SLURM's commands read SLURM_CONF."""
        return {"SLURM_CONF": str(self.conf), "PATH": _sbin_path()}

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        """A SLURM command against this cluster."""
        env = {**os.environ, **self.env}
        return subprocess.run(command, env=env, capture_output=True, text=True, check=check)

    def start(self, name: str, command: list[str], user: str | None = None) -> None:
        log = open(self.root / "log" / f"{name}.out", "ab")  # noqa: SIM115 (the child keeps it)
        child = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            user=user,
            start_new_session=True,  # a Ctrl-C at the terminal goes to the tests, not to these
        )
        log.close()
        self.children[name], self.pids[name] = child, child.pid
        (self.root / PIDS_JSON).write_text(json.dumps(self.pids, indent=1) + "\n")

    def check_alive(self) -> None:
        """RuntimeError naming a daemon that has ended, with the last lines it logged."""
        for name, child in self.children.items():
            if child.poll() is not None:
                logs = [self.root / "log" / f"{name}.log", self.root / "log" / f"{name}.out"]
                said = " ".join(_tail(log) for log in logs if log.is_file())
                raise RuntimeError(f"{name} ended (exit code {child.returncode}): {said}")

    def down(self) -> None:
        """Cancel every job, then stop every daemon started, by its pid, users first."""
        if "slurmctld" in self.pids and _alive(self.pids["slurmctld"], "slurmctld"):
            self.run("scancel", "--full", "--user", pwd.getpwuid(os.getuid()).pw_name, check=False)
            _wait_for(lambda: not self.run("squeue", "-h", check=False).stdout.strip(), 20)
        for name in STOP_ORDER:
            if name in self.pids:
                _stop(self.pids[name], name, self.children.get(name))
        (self.root / PIDS_JSON).unlink(missing_ok=True)


def _alive(pid: int, name: str) -> bool:
    """Whether ``pid`` is still the daemon ``name`` (a pid can be reused once it is gone)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    return state != "Z" and any(Path(os.fsdecode(a)).name == name for a in cmdline[:1])


def _stop(pid: int, name: str, child: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL after 10 s; a child of this process is reaped."""
    if not _alive(pid, name):
        if child is not None:
            child.poll()
        return
    os.kill(pid, signal.SIGTERM)
    if not _wait_for(lambda: not _alive(pid, name), 10):
        os.kill(pid, signal.SIGKILL)
        _wait_for(lambda: not _alive(pid, name), 5)
    if child is not None:
        child.wait(timeout=5)


def _wait_for(condition, seconds: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


def up(
    root: Path = DEFAULT_DIR, accounting: bool = True, timeout: float = START_TIMEOUT
) -> Cluster:
    """Install what is missing, write the configs into ``root`` (emptied first), start the
    daemons and wait until the node is idle. Whatever fails, the daemons started are stopped."""
    install()
    if root.exists():
        shutil.rmtree(root)
    for sub in ("etc", "log", "state", "spool", "munge", "mysql"):
        (root / sub).mkdir(parents=True)
    root.chmod(0o755)  # munged, as the munge user, reaches its folder through this one
    cluster = Cluster(root, accounting)
    try:
        _start_munge(cluster)
        ports = {"ctld": free_port(), "slurmd": free_port(), "dbd": free_port()}
        if accounting:
            _start_accounting(cluster, ports["dbd"], free_port())
        cluster.conf.write_text(slurm_conf(root, ports, accounting))
        cluster.start("slurmctld", ["slurmctld", "-D", "-i"])
        cluster.start("slurmd", ["slurmd", "-D", "-N", socket.gethostname().split(".")[0]])
        _wait_idle(cluster, timeout)
    except BaseException:
        cluster.down()
        raise
    return cluster


def _start_munge(cluster: Cluster) -> None:
    folder = cluster.root / "munge"
    munge = pwd.getpwnam("munge")
    (folder / "munge.key").write_bytes(secrets.token_bytes(1024))  # this cluster's own key
    (folder / "munge.key").chmod(0o400)
    for path in (folder, folder / "munge.key"):
        os.chown(path, munge.pw_uid, munge.pw_gid)
    cluster.start(
        "munged",
        [
            "munged", "--foreground", f"--socket={folder / 'munge.socket'}",
            f"--key-file={folder / 'munge.key'}", f"--pid-file={folder / 'munged.pid'}",
            f"--log-file={folder / 'munged.log'}", f"--seed-file={folder / 'munged.seed'}",
        ],
        user="munge",
    )  # fmt: skip
    _wait_started(cluster, "munged", (folder / "munge.socket").exists, 10)


def _start_accounting(cluster: Cluster, dbd_port: int, db_port: int) -> None:
    """MariaDB on loopback, for slurmdbd alone (no grant tables: nothing else reaches it),
    then slurmdbd, then this cluster registered with it."""
    data = cluster.root / "mysql"
    cluster.start(
        "mariadbd",
        [
            "mariadbd", "--no-defaults", f"--datadir={data}", f"--socket={data}/mysql.sock",
            f"--port={db_port}", "--bind-address=127.0.0.1", "--user=root",
            "--skip-grant-tables", "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=16M", f"--pid-file={data}/mariadbd.pid",
            f"--log-error={cluster.root / 'log' / 'mariadbd.log'}",
        ],
    )  # fmt: skip
    _wait_started(cluster, "mariadbd", lambda: _listening(db_port), 20)
    dbd_conf = cluster.root / "etc" / "slurmdbd.conf"
    dbd_conf.write_text(slurmdbd_conf(cluster.root, dbd_port, db_port))
    dbd_conf.chmod(0o600)  # slurmdbd refuses a config others can read
    cluster.start("slurmdbd", ["slurmdbd", "-D"])
    _wait_started(cluster, "slurmdbd", lambda: _listening(dbd_port), 30)
    cluster.conf.write_text(slurm_conf(cluster.root, {"dbd": dbd_port}, True))  # for sacctmgr
    cluster.run("sacctmgr", "-i", "add", "cluster", CLUSTER_NAME)


def _wait_started(cluster: Cluster, name: str, ready, seconds: float) -> None:
    """Wait until ``ready()``; RuntimeError with the daemon's last log lines if it ends or
    is not ready in time."""

    def started() -> bool:
        cluster.check_alive()
        return ready()

    if not _wait_for(started, seconds):
        logs = [cluster.root / "log" / f"{name}.{kind}" for kind in ("log", "out")]
        said = " ".join(_tail(log) for log in logs if log.is_file())
        raise RuntimeError(f"{name} did not start in {seconds:.0f} s: {said}")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_idle(cluster: Cluster, timeout: float) -> None:
    said = ""

    def idle() -> bool:
        nonlocal said
        cluster.check_alive()
        said = cluster.run("sinfo", "-h", "-N", "-o", "%t", check=False).stdout.strip()
        return said == "idle"

    if not _wait_for(idle, timeout, every=0.25):
        logs = cluster.root / "log"
        raise RuntimeError(
            f"the SLURM node was not idle after {timeout:.0f} s (sinfo says {said or 'nothing'!r});"
            f" slurmctld: {_tail(logs / 'slurmctld.log')}; slurmd: {_tail(logs / 'slurmd.log')}"
        )


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return f"no {path.name}"
    return " | ".join(lines[-3:]) or f"{path.name} is empty"


def node_line() -> str:
    """This host as SLURM sees it (``slurmd -C``): its name, cores and memory."""
    env = {**os.environ, "PATH": _sbin_path()}
    said = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True, env=env)
    words = said.stdout.split("\n")[0].split()
    return " ".join([*words, "NodeAddr=127.0.0.1", "State=UNKNOWN"])


def slurm_conf(root: Path, ports: dict[str, int], accounting: bool) -> str:
    host = socket.gethostname().split(".")[0]
    storage = "accounting_storage/slurmdbd" if accounting else "accounting_storage/none"
    lines = [
        f"ClusterName={CLUSTER_NAME}",
        f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={ports.get('ctld', 6817)}",
        f"SlurmdPort={ports.get('slurmd', 6818)}",
        "AuthType=auth/munge",
        f"AuthInfo=socket={root / 'munge' / 'munge.socket'}",
        "CredType=cred/munge",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"StateSaveLocation={root / 'state'}",
        f"SlurmdSpoolDir={root / 'spool'}",
        f"SlurmctldPidFile={root / 'slurmctld.pid'}",
        f"SlurmdPidFile={root / 'slurmd.pid'}",
        f"SlurmctldLogFile={root / 'log' / 'slurmctld.log'}",
        f"SlurmdLogFile={root / 'log' / 'slurmd.log'}",
        "ProctrackType=proctrack/linuxproc",  # no cgroups needed
        "TaskPlugin=task/none",
        "MpiDefault=none",
        "ReturnToService=2",
        "SchedulerType=sched/backfill",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU_Memory",  # jobs ask for memory, as on a real cluster
        f"AccountingStorageType={storage}",
        "JobAcctGatherType=jobacct_gather/none",
        "JobCompType=jobcomp/none",
        "KillWait=10",  # scancel: SIGTERM, then SIGKILL 10 s later
    ]
    if accounting:
        lines += ["AccountingStorageHost=localhost", f"AccountingStoragePort={ports['dbd']}"]
        # the connection to slurmdbd finds munge's socket here, not in AuthInfo
        lines += [f"AccountingStoragePass={root / 'munge' / 'munge.socket'}"]
    if "slurmd" in ports:
        lines += [node_line(), f"PartitionName={PARTITION} Nodes=ALL Default=YES State=UP"]
    return "\n".join(lines) + "\n"


def slurmdbd_conf(root: Path, dbd_port: int, db_port: int) -> str:
    return (
        "\n".join(
            [
                "AuthType=auth/munge",
                f"AuthInfo=socket={root / 'munge' / 'munge.socket'}",
                "DbdHost=localhost",
                f"DbdPort={dbd_port}",
                "SlurmUser=root",
                "StorageType=accounting_storage/mysql",
                "StorageHost=127.0.0.1",
                f"StoragePort={db_port}",
                "StorageUser=root",
                "StorageLoc=slurm_acct_db",
                f"PidFile={root / 'slurmdbd.pid'}",
                f"LogFile={root / 'log' / 'slurmdbd.log'}",
            ]
        )
        + "\n"
    )


def down(root: Path = DEFAULT_DIR) -> None:
    """Stop the cluster in ``root`` that another process started (its pids.json)."""
    pids_file = root / PIDS_JSON
    if not pids_file.is_file():
        print(f"no cluster running in {root} (no {PIDS_JSON})", file=sys.stderr)
        return
    Cluster(root, pids=json.loads(pids_file.read_text())).down()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster.slurm", description=__doc__)
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"default: {DEFAULT_DIR}")
    parser.add_argument("--no-accounting", action="store_true", help="no slurmdbd, no MariaDB")
    args = parser.parse_args(argv)
    if args.action == "down":
        down(args.dir)
        return
    started = time.monotonic()
    try:
        cluster = up(args.dir, accounting=not args.no_accounting)
    except (Unavailable, RuntimeError) as error:
        sys.exit(f"no cluster: {error}")
    print(f"cluster up in {time.monotonic() - started:.1f} s, partition {PARTITION}; now:")
    print(f"export SLURM_CONF={cluster.conf} PATH=$PATH:/usr/sbin")
    print(f"stop it with: python -m tests.cluster.slurm down --dir {args.dir}")


if __name__ == "__main__":
    main()
