"""The record: what one run of one example measured, and everything that reads or writes
it.

This module is the contract between the examples (which write records through
``_example.py``), the Sphinx extension (which reads them into tables, plots, curves and
``results.json``), ``conf.py`` and the tests. It imports neither torch nor Sphinx, so
each of them can use it. A new field is added here, once: the dataclasses below are the
schema, ``Record.from_json`` validates a file against it and names the file and the
field that break it.

The build's switches live here too, read from the environment each time they are asked
for (a worker process runs several examples, for several seeds):

- ``CHEATSHEET_SMOKE=1``: every example cut to a few seconds (the numbers mean nothing);
- ``CHEATSHEET_ONLY=vae`` (or ``vae,cvae``): run only these examples;
- ``CHEATSHEET_SEED=k``: the seed of this run (0 in the default build; ``make seeds``
  adds 1..N-1);
- ``CHEATSHEET_SEEDS=N``: how many seeds the build runs (1 by default, 3 for ``make
  seeds``);
- ``CHEATSHEET_RECORDS``: the records folder (the build sets it; a script run by hand
  writes none).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import platform
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: The family pages (docs/architectures/<family>.rst), in the order of the site.
FAMILIES = (
    "basics",
    "attention",
    "encoder_decoders",
    "latent_variable",
    "gans",
    "gans_translation",
    "flows_diffusion",
    "representation",
    "rl",
)

SCHEMA = 2
#: Seconds per example on one CPU thread: the aim, and the most any example may take.
BUDGET_S = (60, 150)


class RecordError(ValueError):
    """A record that cannot be read, or breaks the schema; the message names file and
    field."""


def _flag(name):
    return os.environ.get(name, "0").strip() not in ("", "0", "false", "False", "no")


def smoke():
    """True when every example is cut to a few seconds (``CHEATSHEET_SMOKE=1``)."""
    return _flag("CHEATSHEET_SMOKE")


def only():
    """The examples to run (``CHEATSHEET_ONLY=vae`` or ``vae,cvae``): a tuple, empty for
    all."""
    raw = os.environ.get("CHEATSHEET_ONLY", "")
    return tuple(n.strip() for n in raw.split(",") if n.strip())


def _int_env(name, default, lowest):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RecordError(f"{name}={raw!r}: expected a whole number") from None
    if value < lowest:
        raise RecordError(f"{name}={raw!r}: must be at least {lowest}")
    return value


def seed():
    """This run's seed (``CHEATSHEET_SEED``, 0 by default)."""
    return _int_env("CHEATSHEET_SEED", 0, 0)


def n_seeds():
    """How many seeds the build runs (``CHEATSHEET_SEEDS``, 1 by default)."""
    return _int_env("CHEATSHEET_SEEDS", 1, 1)


def base_dir():
    """The build's folder: ``_build`` (``_build/smoke`` in smoke mode)."""
    return ROOT / "_build" / ("smoke" if smoke() else "")


def records_dir(seed_=0):
    """Where the records of one seed go: ``<records>`` for seed 0, ``<records>/seed<k>``
    else."""
    default = base_dir() / "records"
    base = Path(os.environ.get("CHEATSHEET_RECORDS") or default)
    return base if seed_ == 0 else base / f"seed{seed_}"


# ------------------------------------------------------------------------------ schema
# ----


@dataclass
class Seeds:
    """One metric over several seeds: the values in seed order, their mean and standard
    deviation, and how many of them meet the target (None when the metric has none)."""

    n: int
    values: list
    mean: float
    sd: float
    passed: int | None


@dataclass
class Metric:
    name: str
    value: float
    target: float | None = None
    higher_is_better: bool = True
    baseline: float | None = None
    baseline_name: str | None = None
    ablation: float | None = None
    ablation_name: str | None = None
    headline: bool = False
    fmt: str = ".3f"
    #: filled when read, from the other seeds' records (never written to a file)
    seeds: Seeds | None = None
    baseline_seeds: Seeds | None = None
    ablation_seeds: Seeds | None = None

    @property
    def passed(self):
        """True or False against the target, None without one."""
        return meets(self.value, self.target, self.higher_is_better)


@dataclass
class Series:
    """A named curve: ``y`` against ``x`` (for figures that compare examples)."""

    x: list
    y: list
    x_name: str = "step"
    y_name: str = ""


@dataclass
class Record:
    name: str
    metrics: list
    seed: int = 0
    smoke: bool = False
    seconds: float = 0.0
    device: str = "cpu"
    threads: int = 1
    torch: str = ""
    python: str = ""
    commit: str | None = None
    date: str = ""
    cpu: str = ""
    gpu: str | None = None
    peak_memory_mb: float | None = None
    deps_hash: str | None = None
    series: dict = field(default_factory=dict)
    schema: int = SCHEMA
    #: set when read: the dependency hash no longer matches (never written to a file)
    stale: bool = False

    @property
    def headline(self):
        return next(m for m in self.metrics if m.headline)

    def to_json(self):
        out = dataclasses.asdict(self)
        out.pop("stale")
        for m, raw in zip(self.metrics, out["metrics"]):
            for key in ("seeds", "baseline_seeds", "ablation_seeds"):
                raw.pop(key)
            raw["passed"] = m.passed
        return out

    @classmethod
    def from_json(cls, data, source="<record>"):
        """A Record from parsed JSON, checked field by field."""
        where = str(source)
        if not isinstance(data, dict):
            raise RecordError(
                f"{where}: a record is a JSON object, got {type(data).__name__}"
            )
        if data.get("schema") != SCHEMA:
            raise RecordError(
                f"{where}: field 'schema' is {data.get('schema')!r}, expected {SCHEMA} "
                f"(a record from older code: rerun the example)"
            )
        kw = {}
        for f in dataclasses.fields(cls):
            if f.name in ("stale",):
                continue
            if f.name not in data:
                if (
                    f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING
                ):
                    raise RecordError(f"{where}: field {f.name!r} is missing")
                continue
            kw[f.name] = data[f.name]
        _check(where, "name", kw["name"], str)
        for key, kind in RECORD_TYPES.items():
            if key in kw:
                _check(where, key, kw[key], kind)
        if kw.get("device") not in ("cpu", "cuda", "mps"):
            raise RecordError(f"{where}: field 'device' is {kw.get('device')!r}")
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise RecordError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if not isinstance(kw["metrics"], list) or not kw["metrics"]:
            raise RecordError(f"{where}: field 'metrics' must be a non-empty list")
        kw["metrics"] = [
            _metric(f"{where}: field 'metrics[{i}]", m)
            for i, m in enumerate(kw["metrics"])
        ]
        heads = [m.name for m in kw["metrics"] if m.headline]
        if len(heads) != 1:
            raise RecordError(
                f"{where}: exactly one metric must have 'headline': true, found "
                f"{len(heads)}" + (f" ({', '.join(heads)})" if heads else "")
            )
        names = [m.name for m in kw["metrics"]]
        if len(set(names)) != len(names):
            raise RecordError(f"{where}: metric names repeat: {names}")
        if not isinstance(kw.get("series", {}), dict):
            raise RecordError(f"{where}: field 'series' must be an object")
        kw["series"] = {
            k: _series(f"{where}: field 'series.{k}", v)
            for k, v in kw.get("series", {}).items()
        }
        return cls(**kw)


NUMBER = (int, float)
OPT_NUMBER = (int, float, type(None))
OPT_STR = (str, type(None))
RECORD_TYPES = {
    "seed": int,
    "smoke": bool,
    "seconds": NUMBER,
    "device": str,
    "threads": int,
    "torch": str,
    "python": str,
    "commit": OPT_STR,
    "date": str,
    "cpu": str,
    "gpu": OPT_STR,
    "peak_memory_mb": OPT_NUMBER,
    "deps_hash": OPT_STR,
    "schema": int,
}
METRIC_TYPES = {
    "name": str,
    "value": NUMBER,
    "target": OPT_NUMBER,
    "higher_is_better": bool,
    "baseline": OPT_NUMBER,
    "baseline_name": OPT_STR,
    "ablation": OPT_NUMBER,
    "ablation_name": OPT_STR,
    "headline": bool,
    "fmt": str,
}


def _check(where, key, value, kind):
    # bool is an int in Python: keep true/false out of number fields and numbers out of
    # flags
    kinds = kind if isinstance(kind, tuple) else (kind,)
    bad = isinstance(value, bool) and bool not in kinds
    if bad or not isinstance(value, kinds):
        names = "/".join("null" if k is type(None) else k.__name__ for k in kinds)
        raise RecordError(f"{where}: field {key!r} is {value!r}, expected {names}")


def _metric(where, raw):
    if not isinstance(raw, dict):
        raise RecordError(f"{where}' must be an object")
    unknown = set(raw) - set(METRIC_TYPES) - {"passed"}
    if unknown:
        raise RecordError(f"{where}': unknown field(s) {', '.join(sorted(unknown))}")
    for key in ("name", "value"):
        if key not in raw:
            raise RecordError(f"{where}.{key}' is missing")
    for key, kind in METRIC_TYPES.items():
        if key in raw:
            _check(f"{where}'", key, raw[key], kind)
    m = Metric(**{k: v for k, v in raw.items() if k in METRIC_TYPES})
    if "passed" in raw and raw["passed"] != m.passed:
        raise RecordError(
            f"{where}.passed' is {raw['passed']!r} but {m.value} against target "
            f"{m.target} "
            f"gives {m.passed!r}"
        )
    if m.baseline_name is not None and m.baseline is None:
        raise RecordError(f"{where}.baseline_name' is set without a baseline")
    if m.ablation_name is not None and m.ablation is None:
        raise RecordError(f"{where}.ablation_name' is set without an ablation")
    if m.ablation is not None and not m.ablation_name:
        raise RecordError(f"{where}.ablation_name' is missing: say what was ablated")
    return m


def _series(where, raw):
    if not isinstance(raw, dict) or not {"x", "y"} <= set(raw):
        raise RecordError(f"{where}' must be an object with 'x' and 'y'")
    s = Series(**{k: raw[k] for k in ("x", "y", "x_name", "y_name") if k in raw})
    if len(s.x) != len(s.y) or not s.x:
        raise RecordError(
            f"{where}': 'x' and 'y' must be non-empty and of the same length"
        )
    for v in s.x + s.y:
        _check(f"{where}'", "x/y", v, NUMBER)
    return s


def meets(value, target, higher_is_better=True):
    if target is None:
        return None
    return bool(value >= target) if higher_is_better else bool(value <= target)


def summarise(values, target=None, higher_is_better=True):
    """Seeds from a list of values in seed order (the standard deviation is the sample
    one)."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    passed = (
        None
        if target is None
        else sum(meets(v, target, higher_is_better) for v in values)
    )
    return Seeds(len(values), list(values), statistics.fmean(values), sd, passed)


def seeds_met(m):
    """The verdict over seeds (DESIGN.md, Evidence 5): the mean meets the target and at
    least two thirds of the seeds do. None without a target or without seeds."""
    s = m.seeds
    if s is None or m.target is None:
        return None
    return bool(meets(s.mean, m.target, m.higher_is_better) and 3 * s.passed >= 2 * s.n)


def verdict(m):
    """'pass', 'MISS' or '-' for one metric: over the seeds when there are several, else
    the one run's value against the target."""
    v = seeds_met(m) if m.seeds is not None and m.seeds.n > 1 else m.passed
    return {True: "pass", False: "MISS", None: "-"}[v]


# ------------------------------------------------------------------------------- files
# ----


def read(path):
    """The Record in ``path``; a RecordError naming the file when it cannot be read."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RecordError(f"{path}: cannot read the record: {e}") from None
    rec = Record.from_json(data, source=path)
    if rec.name != path.stem:
        raise RecordError(
            f"{path}: field 'name' is {rec.name!r}, but the file is {path.name}"
        )
    return rec


def write(record, folder):
    """Validate and write ``<folder>/<name>.json`` atomically; returns the path."""
    data = record.to_json()
    Record.from_json(json.loads(json.dumps(data)), source=f"record of {record.name}")
    for m in record.metrics:
        if not math.isfinite(m.value):
            print(f"warning: {record.name}: metric {m.name} is {m.value}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{record.name}.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, indent=1, allow_nan=True), encoding="utf-8")
    return tmp.replace(folder / f"{record.name}.json")


# ----------------------------------------------------------------------------
# provenance ----


def commit():
    """The short commit of the tree, with ``+dirty`` when it has uncommitted changes
    (None outside a git checkout). The build computes it once and hands it on in
    ``CHEATSHEET_COMMIT``."""
    if os.environ.get("CHEATSHEET_COMMIT"):
        return os.environ["CHEATSHEET_COMMIT"]
    try:
        run = dict(cwd=ROOT, capture_output=True, text=True, timeout=20)
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], **run)
        if head.returncode:
            return None
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], **run
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_model():
    """The CPU's model name (from /proc/cpuinfo on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def utc_now():
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def python_version():
    return platform.python_version()
