"""result.json: its one definition, written atomically, read back with its shape checked,
and the checksums of the data files it vouches for.

A job's result.json says its ``status`` (:class:`JobStatus`: ``running`` with its pid and
host, ``complete``, or ``failed`` with the error), the nnsweep version, the resolved
config and the overrides; once complete, the environment (in a SLURM job its ids too:
``nnsweep.job.run.environment``), one :class:`ReplicateResult` per replicate, each data
file's size and sha256 (``files``), and the figures that could not be drawn
(``figures_failed``), if any.
"""

import hashlib
import json
import math
from enum import Enum
from pathlib import Path
from typing import Any, TypedDict, get_args, get_type_hints

import numpy as np

from nnsweep.atomic import atomic_path
from nnsweep.job.csv_tables import LAYERS_CSV, LOSS_CSV

RESULT_JSON = "result.json"
PARAMS_NPZ = "params.npz"  # written by nnsweep.job.params_npz
DATA_FILES = (LOSS_CSV, LAYERS_CSV, PARAMS_NPZ)  # checksummed here; figures can be redrawn


class JobStatus(str, Enum):
    """A job's status as result.json records it."""

    RUNNING = "running"  # with the pid and host of the process that holds the folder
    COMPLETE = "complete"  # the data files are written and checksummed
    FAILED = "failed"  # with the error and its traceback

    def __str__(self) -> str:
        return self.value


class _HeldOutResult(TypedDict, total=False):
    """With held-out data (``dataset.test_n`` > 0) only."""

    final_test_loss: float | None
    final_test_accuracy: float | None


Confusion = list[list[int]]  # K x K counts: row the true class, column the predicted one


class _ConfusionResult(TypedDict, total=False):
    """The final confusion matrices; None where the outputs are not finite. Absent from
    results written before nnsweep kept them."""

    confusion: Confusion | None  # on the training data
    test_confusion: Confusion | None  # on the held-out data, with dataset.test_n > 0


class ReplicateResult(_HeldOutResult, _ConfusionResult):
    """One replicate's entry in result.json's ``replicates``, in the order written; a loss
    that is not finite is None (JSON's null)."""

    replicate: int
    seed: int  # the seed its initialisation (and minibatch orders) came from
    final_loss: float | None
    final_accuracy: float | None  # None where the outputs are not finite
    epochs: int  # epochs run: to the threshold, the divergence or the cap
    converged: bool  # its loss went below the threshold
    diverged: bool  # its loss stopped being finite
    seconds: float


HELD_OUT_KEYS = tuple(get_type_hints(_HeldOutResult))
CONFUSION_KEYS = tuple(get_type_hints(_ConfusionResult))
REPLICATE_KEYS = tuple(
    k for k in get_type_hints(ReplicateResult) if k not in HELD_OUT_KEYS + CONFUSION_KEYS
)


def json_safe(value: Any) -> Any:
    """Plain Python values; NaN and infinities become None (null): JSON has no such numbers."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_result(result: dict[str, Any], job_dir: Path) -> Path:
    path = Path(job_dir) / RESULT_JSON
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(json_safe(result), indent=2, allow_nan=False) + "\n")
    return path


class DamagedResult(ValueError):
    """A result.json that is not what a job writes, or whose data files do not match it."""


def read_result(job_dir: Path) -> dict[str, Any]:
    """result.json of a job, its shape checked: ValueError if unreadable (invalid JSON or
    UTF-8), DamagedResult if it is JSON of another shape."""
    result = json.loads((Path(job_dir) / RESULT_JSON).read_text())
    problem = shape_problem(result)
    if problem:
        raise DamagedResult(f"{Path(job_dir) / RESULT_JSON}: {problem}")
    return result


def shape_problem(result: Any) -> str | None:
    """What makes ``result`` unlike a result.json that a job writes, or None."""
    if not isinstance(result, dict):
        return f"a JSON {type(result).__name__}, not an object"
    statuses = [s.value for s in JobStatus]
    if result.get("status") not in statuses:
        return (
            f"status {result.get('status')!r} is not {', '.join(statuses[:-1])} or {statuses[-1]}"
        )
    if not isinstance(result.get("config"), dict):
        return "no config"
    if result["status"] != JobStatus.COMPLETE:
        return None
    replicates = result.get("replicates")
    if not isinstance(replicates, list) or not replicates:
        return "complete, but no replicates"
    for r in replicates:
        if not isinstance(r, dict) or any(k not in r for k in REPLICATE_KEYS):
            return f"a replicate without {', '.join(REPLICATE_KEYS)}"
        wrong = next((k for k in r if k in REPLICATE_TYPES and not _is(r[k], k)), None)
        if wrong:
            value, allowed = json.dumps(r[wrong]), _TYPE_WORDS[wrong]
            return f"replicate {r['replicate']}'s {wrong} is {value}, not {allowed}"
        wrong = next((k for k in CONFUSION_KEYS if k in r and not _is_confusion(r[k])), None)
        if wrong:
            value = json.dumps(r[wrong])[:80]
            return f"replicate {r['replicate']}'s {wrong} is {value}, not a K x K table of counts"
    files = result.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(f, dict) for f in files.values()):
        return "files is not a record of sizes and checksums"
    return None


# the scalar fields, each checked against its type
REPLICATE_TYPES = {
    k: v for k, v in get_type_hints(ReplicateResult).items() if k not in CONFUSION_KEYS
}
_JSON_WORDS = {int: "an integer", float: "a number", bool: "true or false", type(None): "null"}
_TYPE_WORDS = {
    k: " or ".join(_JSON_WORDS[t] for t in get_args(v) or (v,)) for k, v in REPLICATE_TYPES.items()
}


def _is(value: Any, key: str) -> bool:
    """Whether ``value`` has the type ReplicateResult gives ``key`` (JSON's numbers: an
    integer is a float too, a boolean is neither)."""
    kinds = get_args(REPLICATE_TYPES[key]) or (REPLICATE_TYPES[key],)
    if isinstance(value, bool):
        return bool in kinds
    if value is None:
        return type(None) in kinds
    if isinstance(value, int):
        return int in kinds or float in kinds
    return isinstance(value, float) and float in kinds


def _is_confusion(value: Any) -> bool:
    """None, or K >= 2 lists of K counts (non-negative integers)."""
    if value is None:
        return True
    if not isinstance(value, list) or len(value) < 2:
        return False
    return all(
        isinstance(row, list)
        and len(row) == len(value)
        and all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in row)
        for row in value
    )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_records(job_dir: Path) -> dict[str, dict[str, Any]]:
    """Size and sha256 of each data file in ``job_dir``, for result.json's ``files``."""
    paths = [Path(job_dir) / name for name in DATA_FILES if (Path(job_dir) / name).is_file()]
    return {p.name: {"size": p.stat().st_size, "sha256": sha256(p)} for p in paths}


def file_mismatch(job_dir: Path, result: dict[str, Any]) -> str | None:
    """Why the data files of ``job_dir`` differ from result.json's record, or None. A result
    written before files were recorded is not checked."""
    for name, expected in result.get("files", {}).items():
        path = Path(job_dir) / name
        if not path.is_file():
            return f"{name} is missing"
        size = path.stat().st_size
        if size != expected.get("size"):
            return f"{name} has {size} bytes, result.json says {expected.get('size')}"
        if sha256(path) != expected.get("sha256"):
            return f"{name}'s sha256 differs from result.json's"
    return None
