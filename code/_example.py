"""What every gallery example shares: the device, smoke mode, seeding, and the metrics record.

The architecture modules in this folder never import this file (each of them stands alone for a
reader to copy); only the gallery scripts do.

A gallery script starts with ``run = start("vae", ...)`` and ends with ``run.finish()``. Between
the two it reports each number with ``run.metric(...)``. ``finish`` prints the metrics table (which
sphinx-gallery renders on the page) and writes ``<records>/<name>.json``; the build turns those
files into the results page, the front page's table and ``results.json``.
"""
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch

#: Set ``CHEATSHEET_SMOKE=1`` to cut every example to a few seconds (tiny data, few steps).
SMOKE = os.environ.get("CHEATSHEET_SMOKE", "0") not in ("", "0", "false", "False")

ROOT = Path(__file__).resolve().parent.parent


def records_dir():
    """Where records go: ``_build/records`` (or ``_build/smoke/records`` in smoke mode)."""
    default = ROOT / "_build" / ("smoke/records" if SMOKE else "records")
    return Path(os.environ.get("CHEATSHEET_RECORDS", default))


def pick_device():
    """CUDA when present, then Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


DEVICE = pick_device()


def seed_everything(seed=0):
    """Seed Python, NumPy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def scale(full, smoke):
    """``full`` in the default build, ``smoke`` in smoke mode (sizes, epochs, steps)."""
    return smoke if SMOKE else full


class Run:
    """One example's run: its timer, its metrics, and its record."""

    def __init__(self, name, title, task, idea, loss, seed=0):
        for key, value in dict(name=name, title=title, task=task, idea=idea, loss=loss).items():
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"start(): {key} must be a non-empty string, got {value!r}")
        self.name, self.title, self.task, self.idea, self.loss = name, title, task, idea, loss
        self.metrics = []
        self.t0 = time.perf_counter()
        seed_everything(seed)
        mode = "smoke mode (a few seconds, numbers not meaningful)" if SMOKE else "default build"
        where = f"cpu, {torch.get_num_threads()} threads" if DEVICE.type == "cpu" else DEVICE.type
        print(f"Running on: {where}  ({mode}; torch {torch.__version__})")

    @property
    def seconds(self):
        return time.perf_counter() - self.t0

    def metric(self, name, value, target=None, baseline=None, higher_is_better=True,
               baseline_name=None, fmt=".3f"):
        """Report one number. ``target`` is the bar it must reach (None: no target);
        ``baseline`` a reference computed in the same run; ``baseline_name`` says what it is."""
        value = float(value)
        if not math.isfinite(value):
            print(f"warning: metric {name} is {value}")
        passed = None
        if target is not None:
            target = float(target)
            passed = bool(value >= target) if higher_is_better else bool(value <= target)
        self.metrics.append(dict(
            name=name, value=value, target=target,
            baseline=None if baseline is None else float(baseline),
            baseline_name=baseline_name, higher_is_better=bool(higher_is_better),
            passed=passed, fmt=fmt))
        return value

    def table(self):
        """The metrics as a fixed-width text table."""
        rows = [("metric", "value", "target", "baseline", "result")]
        for m in self.metrics:
            f = lambda v: "-" if v is None else format(v, m["fmt"])  # noqa: E731
            arrow = ">=" if m["higher_is_better"] else "<="
            target = "-" if m["target"] is None else f"{arrow} {f(m['target'])}"
            base = f(m["baseline"]) + (f" ({m['baseline_name']})" if m["baseline_name"] else "")
            result = {True: "pass", False: "MISS", None: "-"}[m["passed"]]
            rows.append((m["name"], f(m["value"]), target, base if m["baseline"] is not None else "-", result))
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)

    def finish(self):
        """Print the table and write the record. Returns the record."""
        if not self.metrics:
            raise RuntimeError(f"{self.name}: finish() called with no metric reported")
        seconds = round(self.seconds, 1)
        record = dict(
            name=self.name, title=self.title, task=self.task, idea=self.idea, loss=self.loss,
            seconds=seconds, device=DEVICE.type, threads=torch.get_num_threads(), smoke=SMOKE,
            torch=torch.__version__,
            metrics=[{k: v for k, v in m.items() if k != "fmt"} | {"fmt": m["fmt"]} for m in self.metrics],
        )
        print(self.table())
        print(f"\n{self.name}: {seconds:.1f} s on {DEVICE.type}" + (" (smoke mode)" if SMOKE else ""))
        out = records_dir()
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / f".{self.name}.json.tmp"
        tmp.write_text(json.dumps(record, indent=1))
        tmp.replace(out / f"{self.name}.json")
        return record


def start(name, *, title, task, idea, loss, seed=0):
    """Begin an example: seed everything, print the device, start the clock.

    ``name`` is the module's name (``vae`` for ``code/vae.py``); ``title`` the architecture's name
    as the site spells it; ``task``, ``idea`` and ``loss`` are the short phrases of the front
    page's table (what it is trained to do, its one key idea, its loss in words)."""
    return Run(name, title, task, idea, loss, seed=seed)
