"""Records into pages: one example's table (``results``), the results page's tables and
plots (``results-table``, ``results-plots``), curves compared across examples
(``results-curves``), the front page's table (``overview-table``) and ``results.json``.

Everything here reads records through ``_record`` and never from an example's output:
the records are read once per build, checked against the schema (a bad one fails the
build, naming the file and the field), marked stale when their dependency hash no longer
matches the code, and joined with their other seeds' records into per-metric spreads.
"""

import functools
import hashlib
import json
import statistics
from pathlib import Path

from docutils.parsers.rst import Directive, directives
from sphinx.errors import ExtensionError

import _record

from . import gallery
from .pages import gen_dir, parse_rst

STALE = "stale: made by older code"
HEADLINE_MARK = "★"
SEEDS_TARGET_MARK = "†"
SEEDS_TARGET_NOTE = (
    f"{SEEDS_TARGET_MARK} the mean of the seeds' targets: each run sets its target "
    "from its own baseline, and each seed is held to its own run's."
)
RATIO_CAP = 2.0  # the targets plot draws bars beyond twice the target to the edge
LABEL_CHARS = 48  # longest label in the results plots


class Entry:
    """One example: its seed-0 record (or None), its page phrases, and its seeds."""

    def __init__(self, name, record, seeds, stale_seeds):
        self.name, self.record = name, record
        self.meta = gallery.arch_meta(name)
        self.family = self.meta["family"]
        self.seeds = seeds  # fresh records, in seed order (seed 0 included when fresh)
        self.stale_seeds = stale_seeds  # seeds whose record is stale

    @property
    def title(self):
        return self.meta["title"]

    def ref(self):
        return f":ref:`{self.title} <arch-{self.name}>`"

    def example_ref(self, text="example"):
        return f":ref:`{text} <sphx_glr_examples_{self.family}_plot_{self.name}.py>`"


def _read_seed(srcdir, name, seed):
    path = _record.records_dir(seed) / f"{name}.json"
    if not path.exists():
        return None
    try:
        rec = _record.read(path)
    except _record.RecordError as e:
        raise ExtensionError(str(e)) from None
    rec.stale = rec.deps_hash is None or rec.deps_hash != gallery.current_hash(
        srcdir, name, seed
    )
    return rec


def _seed_numbers():
    base = _record.records_dir(0)
    found = {0}
    if base.is_dir():
        for d in base.glob("seed*"):
            if d.is_dir() and d.name[4:].isdigit():
                found.add(int(d.name[4:]))
    return sorted(found)


@functools.cache
def _load(srcdir):
    entries = {}
    seeds = _seed_numbers()
    for name in gallery.examples():
        recs = {s: _read_seed(srcdir, name, s) for s in seeds}
        rec = recs.get(0)
        fresh = [recs[s] for s in seeds if recs[s] is not None and not recs[s].stale]
        stale = [s for s in seeds if recs[s] is not None and recs[s].stale]
        if rec is not None:
            _join_seeds(rec, fresh)
        entries[name] = Entry(name, rec, fresh, stale)
    return entries


def _join_seeds(rec, fresh):
    """Each metric's value, baseline and ablation over the fresh seeds (when there are
    several)."""
    for m in rec.metrics:
        same = [x for r in fresh for x in r.metrics if x.name == m.name]
        values = [x.value for x in same]
        if len(values) > 1:
            m.seeds = _record.summarise(values, m.target, m.higher_is_better)
            targets = [x.target for x in same]
            if m.target is not None and None not in targets and len(set(targets)) > 1:
                # a target that each run sets from its own baseline: each seed is held
                # to its run's target, the mean to the mean of the targets
                m.target = statistics.fmean(targets)
                m.target_over_seeds = True
                m.seeds.passed = sum(
                    _record.meets(v, t, m.higher_is_better)
                    for v, t in zip(values, targets)
                )
        for key in ("baseline", "ablation"):
            other = [getattr(x, key) for x in same if getattr(x, key) is not None]
            if len(other) > 1:
                setattr(m, f"{key}_seeds", _record.summarise(other))


def load(app):
    """``{name: Entry}`` for every example, in page order (read once per build)."""
    return _load(str(app.srcdir))


def clear():
    _load.cache_clear()


# ---------------------------------------------------------------------------- text ----


def fmt(value, spec):
    if value is None:
        return "–"
    try:
        return format(value, spec or ".3g")
    except (TypeError, ValueError):
        return str(value)


def target_text(m):
    if m.target is None:
        return "–"
    text = ("≥ " if m.higher_is_better else "≤ ") + fmt(m.target, m.fmt)
    return text + (f" {SEEDS_TARGET_MARK}" if over_seeds(m) else "")


def over_seeds(m):
    return getattr(m, "target_over_seeds", False)


def verdict_text(m):
    return {"pass": "pass", "MISS": "**MISS**", "-": "–"}[_record.verdict(m)]


def seeds_text(m):
    s = m.seeds
    if s is None:
        return "–"
    spread = f"{fmt(s.mean, m.fmt)} ± {fmt(s.sd, m.fmt)}"
    return spread + (
        f" ({s.passed}/{s.n} pass)" if s.passed is not None else f" ({s.n} seeds)"
    )


def named(value, name, spec):
    if value is None:
        return "–"
    return fmt(value, spec) + (f" ({name})" if name else "")


def compare_cell(m):
    """The baseline and the ablation, one per line (a line block), or a dash."""
    lines = []
    for key in ("baseline", "ablation"):
        value, over = getattr(m, key), getattr(m, f"{key}_seeds")
        if value is None:
            continue
        text = fmt(value, m.fmt)
        if over is not None:  # over the seeds, as the metric's own spread
            text = f"{fmt(over.mean, m.fmt)} ± {fmt(over.sd, m.fmt)}"
        name = getattr(m, f"{key}_name")
        lines.append(f"{key} {text}" + (f" ({name})" if name else ""))
    return "\n       ".join(f"| {x}" for x in lines) if lines else "–"


def metric_cells(m):
    label = f"``{m.name}``" + (f" {HEADLINE_MARK}" if m.headline else "")
    return [
        label,
        fmt(m.value, m.fmt),
        seeds_text(m),
        target_text(m),
        compare_cell(m),
        verdict_text(m),
    ]


def list_table(header, rows, cls, widths=None):
    out = [".. list-table::", "   :header-rows: 1", f"   :class: {cls}"]
    if widths:
        out.append(f"   :widths: {' '.join(map(str, widths))}")
    out.append("")
    for row in [header, *rows]:
        out += [f"   * - {row[0]}"] + [f"     - {c}" for c in row[1:]]
    return "\n".join(out)


METRIC_HEADER = [
    "metric",
    "value",
    "over seeds",
    "target",
    "baseline, ablation",
    "result",
]


def provenance(rec):
    threads = (
        f", {rec.threads} thread{'s' if rec.threads != 1 else ''}"
        if rec.device == "cpu"
        else ""
    )
    where = rec.gpu if rec.device == "cuda" and rec.gpu else rec.cpu
    mem = (
        f", peak memory {rec.peak_memory_mb:,.0f} MB"
        if rec.peak_memory_mb is not None
        else ""
    )
    return (
        f"{rec.seconds:.0f} s on {rec.device.upper()}{threads} ({where}){mem}; torch "
        f"{rec.torch}, "
        f"Python {rec.python}; commit {rec.commit or 'unknown'}, {rec.date}"
    )


SMOKE_BANNER = (
    ".. warning::\n\n   **Smoke build.** Every example below was cut to a few seconds "
    "of "
    "training, so these numbers mean nothing (a MISS here says nothing about the "
    "architecture). ``make html`` builds the site with the real numbers.\n\n"
)


def smoke_banner(entries):
    return SMOKE_BANNER if any(e.record and e.record.smoke for e in entries) else ""


def stale_note(entries):
    stale = [e for e in entries if e.record and e.record.stale]
    if not stale:
        return ""
    names = ", ".join(f"``{e.name}``" for e in stale)
    return (
        f".. warning::\n\n   **{STALE}**: the records of {names} were made before "
        f"their code, data "
        f"or settings last changed; ``make html`` reruns them.\n\n"
    )


# ----------------------------------------------------------------------- directives
# ----


class Results(Directive):
    """``.. results:: vae``: this build's metrics for one example, their seed spread,
    where they were measured, and the link to the full example."""

    required_arguments = 1

    def run(self):
        env = self.state.document.settings.env
        name = self.arguments[0]
        if name not in gallery.examples():
            raise self.error(f"results: no gallery/*/plot_{name}.py")
        e = load(env.app)[name]
        link = f"Full example: {e.example_ref(f'plot_{name}.py')}."
        rec = e.record
        if rec is None:
            if not gallery.plotting(env.app) or _record.only():
                return parse_rst(
                    self,
                    f".. note::\n\n   No results yet for ``{name}``: the full build "
                    f"(``make html``) "
                    f"runs its example and fills this in.\n\n{link}",
                )
            raise self.error(f"results: no record for {name}: did plot_{name}.py run?")
        text = list_table(
            METRIC_HEADER, [metric_cells(m) for m in rec.metrics], "results-table"
        )
        seeds = ", ".join(str(r.seed) for r in e.seeds) or "none fresh"
        notes = [f"Measured by this build: {provenance(rec)}. Fresh seeds: {seeds}."]
        if e.stale_seeds:
            notes.append(
                f"Seeds {', '.join(map(str, e.stale_seeds))}: {STALE} (not counted)."
            )
        notes.append(f"{HEADLINE_MARK} the headline metric.")
        if any(over_seeds(m) for m in rec.metrics):
            notes.append(SEEDS_TARGET_NOTE)
        if len(e.seeds) > 1:
            notes.append("Baselines and ablations: mean ± sd over the seeds.")
        if rec.smoke:
            notes.append(
                "**Smoke build: these numbers come from a few seconds of training and "
                "mean nothing.**"
            )
        text += "\n\n.. rst-class:: results-caption\n\n   " + " ".join(notes)
        if rec.stale:
            text = (
                f".. warning::\n\n   **{STALE}**: ``make html`` reruns this "
                f"example.\n\n" + text
            )
        return parse_rst(self, text + f"\n\n{link}")


class ResultsTable(Directive):
    """Every example's metrics in one table (``:headline:`` for the headline metrics
    only)."""

    option_spec = {"headline": directives.flag}

    def run(self):
        entries = load(self.state.document.settings.env.app)
        only_head = "headline" in self.options
        rows, missing = [], []
        for e in entries.values():
            rec = e.record
            if rec is None:
                missing.append(e.name)
                continue
            metrics = [rec.headline] if only_head else rec.metrics
            for i, m in enumerate(metrics):
                first = i == 0
                arch = e.ref() + (f" ({STALE})" if rec.stale else "") if first else ""
                secs = f"{rec.seconds:.0f}" if first else ""
                rows.append([arch, *metric_cells(m), secs])
        header = ["architecture", *METRIC_HEADER, "s"]
        cls = "results-table results-all" + (" results-headline" if only_head else "")
        widths = [14, 17, 8, 15, 9, 24, 7, 6]
        text = (
            list_table(header, rows, cls, widths)
            if rows
            else ".. note::\n\n   No example has run yet."
        )
        if any(
            over_seeds(m)
            for e in entries.values()
            if e.record
            for m in e.record.metrics
        ):
            text += "\n\n.. rst-class:: results-caption\n\n   " + SEEDS_TARGET_NOTE
        text = smoke_banner(entries.values()) + stale_note(entries.values()) + text
        if missing:
            text += (
                "\n\n.. note::\n\n   Not run in this build tree yet: "
                + ", ".join(f"``{m}``" for m in missing)
                + "."
            )
        return parse_rst(self, text)


class ResultsPlots(Directive):
    """Each metric against its target (with the seed spread), and seconds per
    example."""

    def run(self):
        env = self.state.document.settings.env
        entries = {k: e for k, e in load(env.app).items() if e.record is not None}
        if not entries:
            return []
        out = gen_dir(env.app)
        draw_targets(entries, out / "results-targets.svg")
        draw_seconds(entries, out / "results-seconds.svg")
        lo, hi = _record.BUDGET_S
        return parse_rst(
            self,
            "\n".join(
                [
                    ".. figure:: /_generated/results-targets.svg",
                    "   :alt: each metric with a target, as value over target",
                    "   :class: results-plot",
                    "   :width: 100%",
                    "",
                    "   Every metric that has a target, as the ratio value / target "
                    "(target / "
                    "value where lower is better): right of the line passes. Dots are "
                    "the "
                    "other seeds, where ``make seeds`` ran them.",
                    "",
                    ".. figure:: /_generated/results-seconds.svg",
                    "   :alt: seconds per example",
                    "   :class: results-plot",
                    "   :width: 100%",
                    "",
                    f"   Seconds each example took in this build (seed 0); the lines "
                    f"are the "
                    f"budget on one CPU thread (about {lo} s, never over {hi} s). Each "
                    f"plot "
                    f"opens full size when clicked (on a phone: tap, then zoom).",
                ]
            ),
        )


def _ratio(value, m):
    if not value or not m.target:
        return None
    return value / m.target if m.higher_is_better else m.target / value


def _short(label):
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 2] + "…"


def _pyplot():
    """matplotlib for the results plots: text stays text in the SVGs (selectable,
    searchable, read aloud), not outlines."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"
    import matplotlib.pyplot as plt

    return plt


def draw_targets(entries, path):
    plt = _pyplot()

    items = []
    for e in entries.values():
        for m in e.record.metrics:
            r = _ratio(m.value, m)
            if r is not None:
                others = [_ratio(v, m) for v in (m.seeds.values if m.seeds else [])]
                items.append((f"{e.title}: {m.name}", r, m, [o for o in others if o]))
    if not items:
        fig, ax = plt.subplots(figsize=(6, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no metric has a target", ha="center")
        fig.savefig(path, format="svg")
        plt.close(fig)
        return
    fig, ax = plt.subplots(figsize=(10, 0.3 * len(items) + 1.3))
    ys = list(range(len(items)))[::-1]
    cols = [
        "#16a34a" if _record.verdict(it[2]) == "pass" else "#dc2626" for it in items
    ]
    ax.barh(ys, [min(it[1], RATIO_CAP) for it in items], color=cols, height=0.6)
    for y, it in zip(ys, items):
        if it[3]:
            ax.plot(
                [min(o, RATIO_CAP) for o in it[3]],
                [y] * len(it[3]),
                "o",
                ms=3,
                color="#111827",
            )
    ax.axvline(1.0, color="#374151", lw=1.2)
    for y, it in zip(ys, items):
        m = it[2]
        label = f"{fmt(m.value, m.fmt)} ({target_text(m)})"
        if m.seeds:
            label += f"; {m.seeds.passed}/{m.seeds.n} seeds"
        ax.text(min(it[1], RATIO_CAP) + 0.02, y, label, va="center", fontsize=7.5)
    ax.set_yticks(ys)
    ax.set_yticklabels([_short(it[0]) for it in items], fontsize=7.5)
    ax.set_xlim(0, RATIO_CAP + 0.75)
    ax.set_xticks([0, 0.5, 1, 1.5, 2])
    ax.set_xlabel(
        f"value / target (target / value when lower is better); ≥ 1 passes; capped at "
        f"{RATIO_CAP:g}"
    )
    ax.set_title("Metrics against their targets, this build")
    ax.grid(axis="x", alpha=0.3)
    # fixed margins: the labels are long, and tight_layout gives up on them
    h = fig.get_figheight()
    fig.subplots_adjust(left=0.36, right=0.98, top=1 - 0.45 / h, bottom=0.75 / h)
    fig.savefig(path, format="svg")
    plt.close(fig)


DEVICE_COLOURS = {"cpu": "#2563eb", "cuda": "#16a34a", "mps": "#9333ea"}


def draw_seconds(entries, path):
    plt = _pyplot()

    recs = [e.record for e in entries.values()]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(recs) + 1.2))
    ys = list(range(len(recs)))[::-1]
    secs = [r.seconds for r in recs]
    ax.barh(
        ys,
        secs,
        color=[DEVICE_COLOURS.get(r.device, "#6b7280") for r in recs],
        height=0.6,
    )
    for x, style in zip(_record.BUDGET_S, ("--", "-")):
        ax.axvline(x, color="#dc2626", ls=style, lw=1)
    for y, r in zip(ys, recs):
        mem = f", {r.peak_memory_mb:,.0f} MB" if r.peak_memory_mb is not None else ""
        ax.text(r.seconds + 1, y, f"{r.seconds:.0f} s{mem}", va="center", fontsize=8)
    ax.set_yticks(ys)
    ax.set_yticklabels([_short(e.title) for e in entries.values()], fontsize=8)
    ax.set_xlabel(
        "seconds, with peak memory (bar colour: blue CPU, green CUDA, purple MPS)"
    )
    ax.set_title(f"Seconds per example, total {sum(secs) / 60:.1f} min")
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlim(0, max(max(secs), _record.BUDGET_S[1]) * 1.25)
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


CURVE_COLOURS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#d97706", "#0891b2")


class ResultsCurves(Directive):
    """``.. results-curves:: dqn per_dqn reinforce actor_critic`` with ``:series:
    eval_return``: one series of several examples in one plot, drawn from this build's
    records (the mean over the fresh seeds, with their range as a band)."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {
        "series": directives.unchanged_required,
        "ylabel": directives.unchanged,
    }

    def run(self):
        env = self.state.document.settings.env
        names = self.arguments[0].split()
        series = self.options.get("series")
        if not series:
            raise self.error(
                "results-curves: give :series: (the name passed to run.series)"
            )
        entries = load(env.app)
        for n in names:
            if n not in entries:
                raise self.error(f"results-curves: no example named {n!r}")
        missing = [n for n in names if not entries[n].seeds]
        if missing:
            if not gallery.plotting(env.app) or _record.only():
                return parse_rst(
                    self,
                    ".. note::\n\n   This figure is drawn from the records of "
                    + ", ".join(f"``{n}``" for n in names)
                    + " once the full build (``make html``) has run them.",
                )
            raise self.error(
                f"results-curves: no fresh record for {', '.join(missing)}"
            )
        curves = []
        for n in names:
            runs = []
            for r in entries[n].seeds:
                if series not in r.series:
                    raise self.error(
                        f"results-curves: the record of {n} (seed {r.seed}) has no "
                        f"series "
                        f"{series!r} (it has {', '.join(r.series) or 'none'})"
                    )
                runs.append(r.series[series])
            curves.append((entries[n].title, runs))
        key = hashlib.sha256(
            json.dumps(
                [names, series, [[(s.x, s.y) for s in r] for _, r in curves]],
                sort_keys=True,
            ).encode()
        ).hexdigest()[:16]
        out = gen_dir(env.app) / f"curves-{key}.svg"
        draw_curves(curves, out, self.options.get("ylabel") or series)
        caption = "\n".join("   " + c for c in self.content)
        n_seeds = sorted({len(r) for _, r in curves})
        plural = "s" if max(n_seeds) > 1 else ""
        seeds = f"{'/'.join(map(str, n_seeds))} seed{plural} each"
        rst = [
            f".. figure:: /_generated/{out.name}",
            f"   :alt: {series} of {', '.join(names)}",
            "   :class: example-figure",
            "",
            (caption + "\n\n" if caption.strip() else "")
            + f"   Drawn when the site was built, from each example's record ({seeds}; "
            f"line: "
            f"the mean, band: the range over seeds).",
        ]
        return parse_rst(self, "\n".join(rst))


def draw_curves(curves, path, ylabel):
    import numpy as np

    plt = _pyplot()

    fig, ax = plt.subplots(figsize=(8, 4))
    for (title, runs), col in zip(curves, CURVE_COLOURS):
        grid = np.unique(np.concatenate([np.asarray(s.x, float) for s in runs]))
        lo = max(min(s.x) for s in runs)
        hi = min(max(s.x) for s in runs)
        grid = grid[(grid >= lo) & (grid <= hi)]
        ys = np.array([np.interp(grid, s.x, s.y) for s in runs])
        ax.plot(
            grid,
            ys.mean(0),
            color=col,
            lw=1.8,
            label=f"{title} ({len(runs)} seed{'s' if len(runs) > 1 else ''})",
        )
        if len(runs) > 1:
            ax.fill_between(grid, ys.min(0), ys.max(0), color=col, alpha=0.18, lw=0)
    ax.set(xlabel=curves[0][1][0].x_name, ylabel=curves[0][1][0].y_name or ylabel)
    ax.grid(alpha=0.3)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, format="svg")
    plt.close(fig)


class OverviewTable(Directive):
    """The front page's table: the page's phrases and this build's headline results."""

    def run(self):
        entries = load(self.state.document.settings.env.app)
        if not entries:
            return parse_rst(
                self, ".. note::\n\n   No architecture has a gallery example yet."
            )
        rows = []
        for e in entries.values():
            rec = e.record
            if rec is None:
                result = f"not run yet ({e.example_ref()})"
            else:
                m = rec.headline
                result = f"{m.name} = {fmt(m.value, m.fmt)}"
                if m.seeds:
                    result += f" (seeds: {seeds_text(m)})"
                if m.target is not None:
                    result += f"; target {target_text(m)}: {verdict_text(m)}"
                result += f"; {rec.seconds:.0f} s on {rec.device} ({e.example_ref()})"
                if rec.stale:
                    result += f"; **{STALE}**"
            rows.append(
                [e.ref(), e.meta["task"], e.meta["idea"], e.meta["loss"], result]
            )
        header = [
            "architecture",
            "task",
            "key idea",
            "loss",
            "headline result (this build)",
        ]
        text = list_table(header, rows, "overview-table", [14, 18, 30, 14, 24])
        return parse_rst(
            self, smoke_banner(entries.values()) + stale_note(entries.values()) + text
        )


# ---------------------------------------------------------------------- results.json
# ----


def _seeds_json(s):
    if s is None:
        return None
    return {
        "n": s.n,
        "values": s.values,
        "mean": s.mean,
        "sd": s.sd,
        "passed": s.passed,
    }


def entry_json(e):
    rec = e.record
    out = {"name": e.name, "family": e.family}
    out.update({k: e.meta[k] for k in gallery.META_KEYS})
    if rec is None:
        return out | {"run": False}
    data = rec.to_json()
    data.pop("schema")
    for m, raw in zip(rec.metrics, data["metrics"]):
        for key in ("seeds", "baseline_seeds", "ablation_seeds"):
            raw[key] = _seeds_json(getattr(m, key))
        raw["verdict"] = _record.verdict(m)
    return (
        out
        | data
        | {
            "stale": rec.stale,
            "seeds_run": [r.seed for r in e.seeds],
            "stale_seeds": e.stale_seeds,
        }
    )


def write_results_json(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from .pages import copy_mathjax

    out = Path(app.outdir)
    data = [entry_json(e) for e in load(app).values()]
    (out / "results.json").write_text(json.dumps(data, indent=1))
    (
        out / ".nojekyll"
    ).touch()  # static hosts that run Jekyll would hide _static/ otherwise
    copy_mathjax(out)
