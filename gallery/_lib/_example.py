"""What every gallery example shares: the device, smoke mode, seeding, and its record.

The architecture modules in ``code/`` never import this file (each of them stands alone
for a reader to copy); only the gallery scripts do.

A gallery script starts with ``run = start("vae")`` and ends with ``run.finish()``.
Between the two it reports each number with ``run.metric(...)`` (exactly one of them
``headline=True``) and each curve that a figure across examples may draw with
``run.series(...)``. ``finish`` prints the metrics table (which sphinx-gallery renders
on the page) and, inside the build, writes the record (``_record.py`` owns its format);
run by hand, a script only prints.
"""

import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

import _record

#: True when the build cuts every example to a few seconds (``CHEATSHEET_SMOKE=1``).
SMOKE = _record.smoke()


def pick_device():
    """CUDA when present, then Apple's MPS, else the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
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


def _reset_peak_memory():
    if DEVICE.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    try:  # Linux: "5" resets the process's peak resident set size (VmHWM)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_memory_mb():
    """Peak memory since ``start``: CUDA's max allocated on a GPU, else the CPU's peak
    RSS."""
    if DEVICE.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (2**20 if sys.platform == "darwin" else 1024)


class Run:
    """One example's run: its seed, timer, metrics, curves and record."""

    def __init__(self, name, seed):
        self.name, self.seed = name, seed
        self.metrics, self.series_ = [], {}
        threads = os.environ.get("CHEATSHEET_THREADS")
        if (
            threads
        ):  # the build: one thread per example, so numbers do not depend on the machine
            torch.set_num_threads(int(threads))
        _reset_peak_memory()
        self.t0 = time.perf_counter()
        seed_everything(seed)
        mode = (
            "smoke mode (a few seconds, numbers not meaningful)"
            if SMOKE
            else "default build"
        )
        where = (
            f"cpu, {torch.get_num_threads()} threads"
            if DEVICE.type == "cpu"
            else DEVICE.type
        )
        print(f"Running on: {where}  ({mode}; seed {seed}; torch {torch.__version__})")

    @property
    def seconds(self):
        return time.perf_counter() - self.t0

    def metric(
        self,
        name,
        value,
        target=None,
        baseline=None,
        higher_is_better=True,
        baseline_name=None,
        fmt=".3f",
        *,
        ablation=None,
        ablation_name=None,
        headline=False,
    ):
        """Report one number. ``target``: the bar it must reach (None: none);
        ``baseline``: the strongest simple alternative, computed in this run, named by
        ``baseline_name``; ``ablation``: the same model without its key idea, named by
        ``ablation_name``; ``headline``: the one number the page leads with."""

        def num(v):
            return None if v is None else float(v)

        self.metrics.append(
            _record.Metric(
                name=name,
                value=float(value),
                target=num(target),
                higher_is_better=bool(higher_is_better),
                baseline=num(baseline),
                baseline_name=baseline_name,
                ablation=num(ablation),
                ablation_name=ablation_name,
                headline=bool(headline),
                fmt=fmt,
            )
        )
        return float(value)

    def series(self, name, x, y, *, x_name="step", y_name=""):
        """Record a curve (``y`` against ``x``) that a figure across examples can
        draw."""
        x, y = [float(v) for v in x], [float(v) for v in y]
        self.series_[name] = _record.Series(x, y, x_name, y_name)

    def table(self):
        """The metrics as a fixed-width text table."""
        rows = [("metric", "value", "target", "baseline", "ablation", "result")]
        for m in self.metrics:

            def f(v, m=m):
                return "-" if v is None else format(v, m.fmt)

            arrow = ">=" if m.higher_is_better else "<="
            target = "-" if m.target is None else f"{arrow} {f(m.target)}"
            base = "-" if m.baseline is None else f"{f(m.baseline)} ({m.baseline_name})"
            abl = "-" if m.ablation is None else f"{f(m.ablation)} ({m.ablation_name})"
            result = {True: "pass", False: "MISS", None: "-"}[m.passed]
            name = m.name + (" *" if m.headline else "")
            rows.append((name, f(m.value), target, base, abl, result))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows
        ]
        return "\n".join(lines + ["(* the headline metric)"])

    def finish(self):
        """Print the table and, inside the build, write the record. Returns the
        record."""
        if not self.metrics:
            raise RuntimeError(f"{self.name}: finish() called with no metric reported")
        heads = [m.name for m in self.metrics if m.headline]
        if len(heads) != 1:
            raise RuntimeError(
                f"{self.name}: exactly one metric must be reported with headline=True, "
                f"got {len(heads)} ({', '.join(heads) or 'none'})"
            )
        seconds = round(self.seconds, 1)
        record = _record.Record(
            name=self.name,
            metrics=self.metrics,
            seed=self.seed,
            smoke=SMOKE,
            seconds=seconds,
            device=DEVICE.type,
            threads=torch.get_num_threads(),
            torch=torch.__version__,
            python=_record.python_version(),
            commit=_record.commit(),
            date=_record.utc_now(),
            cpu=_record.cpu_model(),
            gpu=torch.cuda.get_device_name() if DEVICE.type == "cuda" else None,
            peak_memory_mb=round(peak_memory_mb(), 1),
            deps_hash=os.environ.get("CHEATSHEET_DEPS_HASH") or None,
            series=self.series_,
        )
        print(self.table())
        mem = f", peak memory {record.peak_memory_mb:,.0f} MB"
        print(
            f"\n{self.name}: {seconds:.1f} s on {DEVICE.type}{mem}"
            + (" (smoke)" if SMOKE else "")
        )
        if os.environ.get("CHEATSHEET_RECORDS"):
            _record.write(record, _record.records_dir(self.seed))
        return record


def _caller_file():
    frame = sys._getframe(2)
    return frame.f_code.co_filename if frame else (sys.argv[0] if sys.argv else "")


def start(name, *, seed=None):
    """Begin an example: seed everything, print the device, start the clock.

    ``name`` is the architecture's module name (``vae`` for ``code/vae.py``), and the
    example must be ``gallery/<family>/plot_<name>.py``. The seed is the build's
    (``CHEATSHEET_SEED``, 0 by default) unless given."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(
            f"start(): name must be a module name such as 'vae', got {name!r}"
        )
    here = Path(_caller_file()).name
    if here.startswith("plot_") and here != f"plot_{name}.py":
        raise ValueError(
            f'start("{name}") is called in {here}: the example of {name!r} must be '
            f"named "
            f"plot_{name}.py (or call start({here[5:-3]!r}))"
        )
    return Run(name, _record.seed() if seed is None else int(seed))
