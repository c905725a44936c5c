"""The cheatsheet's Sphinx extension.

- Dependency-aware reruns: sphinx-gallery reruns an example only when the example file changes.
  Before it runs, we hash each example together with every ``code/`` module it imports (and what
  those import) and the build mode; when that hash changes we delete sphinx-gallery's ``.md5`` for
  the example, so exactly the examples that depend on an edited module run again.
- ``reset_example``: seeds before each example, frees memory (GPU included) after it, and checks
  that the example wrote its metrics record.
- Directives: ``arch-diagram`` (a schematic drawn from text in the page), ``module-download``,
  ``example-figure``, ``results`` (one example's metrics), ``results-table``/``results-plots``
  (the results page) and ``overview-table`` (the front page).
- At the end of the build: ``results.json`` and the offline MathJax in the output folder.
"""
import ast
import gc
import hashlib
import html
import json
import os
import re
import shutil
import time
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.directives.other import TocTree
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
CODE = ROOT / "code"
GALLERY = ROOT / "gallery"
FAMILIES = ("basics", "encoder_decoders", "latent_variable", "gans", "gans_translation",
            "flows_diffusion", "representation", "rl")


def smoke():
    return os.environ.get("CHEATSHEET_SMOKE", "0") not in ("", "0", "false", "False")


def records_dir():
    default = ROOT / "_build" / ("smoke/records" if smoke() else "records")
    return Path(os.environ.get("CHEATSHEET_RECORDS", default))


def examples():
    """``{name: (family, path)}`` for every gallery/<family>/plot_<name>.py."""
    out = {}
    for p in sorted(GALLERY.glob("*/plot_*.py")):
        out[p.stem[len("plot_"):]] = (p.parent.name, p)
    return dict(sorted(out.items(), key=lambda kv: (
        FAMILIES.index(kv[1][0]) if kv[1][0] in FAMILIES else len(FAMILIES),
        section_position(kv[1][0], kv[0]), kv[1][1].name)))


class PageOrderSortKey:
    """sphinx-gallery's ``within_subsection_order``: a family's examples in the order its page
    presents the architectures (the same order as the tables)."""

    def __init__(self, src_dir):
        self.family = Path(src_dir).name

    def __call__(self, filename):
        stem = Path(filename).stem
        return (section_position(self.family, stem[len("plot_"):]), filename)


def section_position(family, name):
    """Where ``.. _arch-<name>:`` sits on its family page, so tables list architectures in the
    order the page presents them (MLP, CNN, RNN rather than alphabetically)."""
    page = GALLERY.parent / "docs" / "architectures" / f"{family}.rst"
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    pos = text.find(f".. _arch-{name}:")
    return pos if pos >= 0 else len(text) + 1


def load_records():
    """The newest record of each existing example, in gallery order (examples with no record yet
    map to None)."""
    recs = {}
    d = records_dir()
    for name in examples():
        f = d / f"{name}.json"
        recs[name] = json.loads(f.read_text()) if f.exists() else None
    return recs


# ---------------------------------------------------------------- dependency-aware reruns ----

def local_imports(path):
    """Names of code/ modules that a Python file imports."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return {n for n in names if (CODE / f"{n}.py").exists()}


def dependencies(example):
    """The example's code/ modules, transitively (a sorted list of paths)."""
    seen, todo = set(), list(local_imports(example))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(local_imports(CODE / f"{n}.py") - seen)
    return sorted(CODE / f"{n}.py" for n in seen)


def dependency_hash(example):
    h = hashlib.sha256(f"smoke={smoke()}\n".encode())
    for p in [Path(example)] + dependencies(example):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def invalidate_stale_examples(app):
    """Delete sphinx-gallery's md5 of every example whose dependency hash changed."""
    conf = app.config.sphinx_gallery_conf
    if not conf.get("plot_gallery", True) or str(conf.get("plot_gallery")) in ("0", "False"):
        return
    only = os.environ.get("CHEATSHEET_ONLY", "").strip()
    if only and only not in examples():
        raise ExtensionError(f"CHEATSHEET_ONLY={only!r}: no gallery/*/plot_{only}.py "
                             f"(known: {', '.join(examples())})")
    out = Path(app.srcdir) / "examples"
    for name, (family, path) in examples().items():
        target = out / family / path.name
        md5, deps = Path(f"{target}.md5"), Path(f"{target}.deps")
        new = dependency_hash(path)
        if only == name or not deps.exists() or deps.read_text() != new:
            if md5.exists():
                md5.unlink()
            deps.parent.mkdir(parents=True, exist_ok=True)
            deps.write_text(new)


_started = {}


def reset_example(gallery_conf, fname, when):
    """sphinx-gallery calls this before and after each example."""
    import random

    import matplotlib.pyplot as plt
    import numpy as np

    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    plt.close("all")
    if when == "before":
        _started[fname] = time.time()
        random.seed(0)
        np.random.seed(0)
        if torch is not None:
            torch.manual_seed(0)
        return
    gc.collect()
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    name = Path(fname).stem[len("plot_"):]
    rec = records_dir() / f"{name}.json"
    if not rec.exists() or rec.stat().st_mtime < _started.get(fname, 0) - 1:
        raise ExtensionError(f"{fname}: the example ran but wrote no metrics record; it must end "
                             f"with run.finish() (see code/_example.py)")


# ------------------------------------------------------------------------------ helpers ----

def parse_rst(directive, text):
    node = nodes.container()
    directive.state.nested_parse(StringList(text.splitlines(), source="<cheatsheet>"),
                                 directive.content_offset, node)
    return node.children


def fmt(value, spec):
    if value is None:
        return "–"
    try:
        return format(value, spec or ".3g")
    except (TypeError, ValueError):
        return str(value)


def target_text(m):
    if m.get("target") is None:
        return "–"
    return ("≥ " if m.get("higher_is_better", True) else "≤ ") + fmt(m["target"], m.get("fmt"))


def verdict(m):
    return {True: "pass", False: "**MISS**", None: "–"}[m.get("passed")]


def gen_dir(app):
    d = Path(app.srcdir) / "_generated"
    d.mkdir(exist_ok=True)
    return d


def noplot(app):
    v = app.config.sphinx_gallery_conf.get("plot_gallery", True)
    return str(v) in ("0", "False", "false")


# ---------------------------------------------------------------------------- diagrams ----

KIND_STYLE = {  # face colour, edge colour
    "data": ("#dbeafe", "#2563eb"),
    "layer": ("#ede9fe", "#7c3aed"),
    "latent": ("#fef3c7", "#d97706"),
    "op": ("#e0f2fe", "#0891b2"),
    "loss": ("#fee2e2", "#dc2626"),
    "aux": ("#f1f5f9", "#64748b"),
}
NODE_RE = re.compile(r"^(?P<id>[A-Za-z_][\w]*)\s*:\s*(?P<label>.*?)\s*"
                     r"(?:\[(?P<kind>\w+)\])?\s*(?:@\s*(?P<col>-?\d+(?:\.\d+)?)\s*,\s*"
                     r"(?P<row>-?\d+(?:\.\d+)?))?\s*$")
EDGE_RE = re.compile(r"^(?P<a>[A-Za-z_]\w*)\s*(?P<arrow>-->|->)\s*(?P<b>[A-Za-z_]\w*)\s*"
                     r"(?::\s*(?P<label>.*))?$")


def parse_diagram(lines):
    """Nodes ``id: label [kind] @col,row`` and edges ``a -> b: label`` / ``a --> b``."""
    nodes_, edges = {}, []
    col, row = -1.0, 0.0
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        e = EDGE_RE.match(line)
        if e:
            edges.append((e["a"], e["b"], e["arrow"] == "-->", (e["label"] or "").strip()))
            continue
        m = NODE_RE.match(line)
        if not m:
            raise ValueError(f"line {n}: cannot read {line!r} (expected 'id: label [kind] @col,row'"
                             f" or 'a -> b')")
        kind = m["kind"] or "layer"
        if kind not in KIND_STYLE:
            raise ValueError(f"line {n}: unknown kind {kind!r} (one of {', '.join(KIND_STYLE)})")
        if m["col"] is not None:
            col, row = float(m["col"]), float(m["row"])
        else:
            col += 1
        if m["id"] in nodes_:
            raise ValueError(f"line {n}: node {m['id']!r} defined twice")
        nodes_[m["id"]] = dict(label=m["label"].replace("\\n", "\n"), kind=kind, col=col, row=row)
    if not nodes_:
        raise ValueError("a diagram needs at least one node")
    if not edges:
        ids = list(nodes_)
        edges = [(a, b, False, "") for a, b in zip(ids, ids[1:])]
    for a, b, _, _ in edges:
        for x in (a, b):
            if x not in nodes_:
                raise ValueError(f"edge {a} -> {b}: no node {x!r}")
    return nodes_, edges


def draw_diagram(nodes_, edges, path):
    """Render the parsed diagram to an SVG file: rounded boxes coloured by kind, straight arrows
    between neighbours, and a bracket over the row for an edge that skips columns."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    import textwrap

    dx, dy, w, h = 2.7, 1.45, 2.1, 0.86
    pos = {k: (v["col"] * dx, -v["row"] * dy) for k, v in nodes_.items()}
    far = [(a, b) for a, b, _, _ in edges
           if abs(pos[a][1] - pos[b][1]) < 1e-6 and abs(pos[a][0] - pos[b][0]) > dx * 1.5]
    lift = {}  # each far edge gets its own level above its row
    for a, b in sorted(far, key=lambda e: abs(pos[e[0]][0] - pos[e[1]][0])):
        lift[(a, b)] = 0.32 + 0.3 * sum(1 for e in lift if pos[e[0]][1] == pos[a][1])
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    # labels of edges between neighbours in a row sit just above the boxes, in the gap
    row_label = any(lab and (a, b) not in lift and abs(pos[a][1] - pos[b][1]) < 1e-6
                    for a, b, _, lab in edges)
    top = max([y + h / 2 + lift[e] for e in lift for y in [pos[e[0]][1]]]
              + [max(ys) + h / 2 + (0.3 if row_label else 0)])
    x0, x1 = min(xs) - w / 2 - 0.15, max(xs) + w / 2 + 0.15
    y0, y1 = min(ys) - h / 2 - 0.2, top + 0.3
    scale = 0.58
    fig = plt.figure(figsize=((x1 - x0) * scale, (y1 - y0) * scale))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.axis("off")
    for k, v in nodes_.items():
        face, edge = KIND_STYLE[v["kind"]]
        x, y = pos[k]
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.02,"
                                    "rounding_size=0.14", fc=face, ec=edge, lw=1.6, zorder=2))
        lines = []
        for part in v["label"].split("\n"):  # long labels wrap at spaces
            lines += textwrap.wrap(part, 17) if len(part) > 17 and " " in part else [part]
        longest = max(len(s) for s in lines)
        room_w, room_h = w * scale * 72 - 8, h * scale * 72 - 4  # points inside the box
        size = min(11.0, room_w / (0.58 * longest), room_h / (1.25 * len(lines)))
        ax.text(x, y, "\n".join(lines), ha="center", va="center", fontsize=size,
                color="#111827", zorder=3, linespacing=1.1)
    grey = "#6b7280"
    for a, b, dashed, label in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        ls = (0, (4, 3)) if dashed else "-"
        if (a, b) in lift:
            yt = ya + h / 2 + lift[(a, b)]
            ax.plot([xa, xa, xb], [ya + h / 2, yt, yt], color=grey, lw=1.5, ls=ls, zorder=1,
                    solid_capstyle="round")
            start, end = (xb, yt), (xb, yb + h / 2)
            lx, ly = (xa + xb) / 2, yt + 0.04
        else:
            start, end = _clip(xa, ya, xb, yb, w, h)
            lx, ly = (xa + xb) / 2, (ya + yb) / 2 + 0.1
            if abs(ya - yb) < 1e-6:
                ly = ya + h / 2 + 0.03
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, lw=1.5,
                                     color=grey, linestyle=ls, shrinkA=0, shrinkB=0, zorder=4))
        if label:
            ax.text(lx, ly, label, ha="center", va="bottom", fontsize=8.5, color="#374151",
                    zorder=5, bbox=dict(fc="white", ec="none", alpha=0.85, pad=0.6))
    fig.savefig(path, format="svg", transparent=True)
    plt.close(fig)


def _clip(xa, ya, xb, yb, w, h):
    """Start and end points of an arrow on the borders of two boxes centred at a and b."""
    vx, vy = xb - xa, yb - ya

    def cut(sx, sy, sign):
        tx = (w / 2) / abs(vx) if vx else float("inf")
        ty = (h / 2) / abs(vy) if vy else float("inf")
        t = min(tx, ty)
        return sx + sign * vx * t, sy + sign * vy * t
    return cut(xa, ya, 1), cut(xb, yb, -1)


class ArchDiagram(Directive):
    """A schematic drawn from the directive's text (see parse_diagram)."""
    has_content = True
    option_spec = {"caption": directives.unchanged, "width": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        text = "\n".join(self.content)
        try:
            nodes_, edges = parse_diagram(self.content)
        except ValueError as e:
            raise self.error(f"arch-diagram: {e}")
        key = hashlib.sha256((text + "v5").encode()).hexdigest()[:16]
        out = gen_dir(env.app) / "diagrams"
        out.mkdir(exist_ok=True)
        svg = out / f"diagram-{key}.svg"
        if not svg.exists():
            draw_diagram(nodes_, edges, svg)
        caption = self.options.get("caption", "")
        alt = caption or "architecture diagram"
        rst = [f".. figure:: /_generated/diagrams/{svg.name}", f"   :alt: {alt}",
               "   :class: arch-diagram"]
        if "width" in self.options:
            rst.append(f"   :width: {self.options['width']}")
        if caption:
            rst += ["", f"   {caption}"]
        return parse_rst(self, "\n".join(rst))


# ---------------------------------------------------------------- per-section directives ----

class ModuleDownload(Directive):
    """``.. module-download:: vae``: the download link of code/vae.py."""
    required_arguments = 1

    def run(self):
        env = self.state.document.settings.env
        name = self.arguments[0]
        path = CODE / f"{name}.py"
        if not path.exists():
            raise self.error(f"module-download: no code/{name}.py")
        docdir = Path(env.doc2path(env.docname)).parent
        rel = os.path.relpath(path, docdir)
        lines = len(path.read_text(encoding="utf-8").splitlines())
        text = (f".. rst-class:: module-download\n\n"
                f"   :download:`Download {name}.py <{rel}>` ({lines} lines, runs with torch "
                f"alone: ``python {name}.py`` trains a few steps on random data). The snippets "
                f"below are pulled from it.")
        return parse_rst(self, text)


class ExampleFigure(Directive):
    """``.. example-figure:: latent_variable/plot_vae 1``: the example's k-th figure."""
    required_arguments = 2
    has_content = True
    option_spec = {"alt": directives.unchanged, "width": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        ex, k = self.arguments
        family, _, script = ex.partition("/")
        if not (GALLERY / family / f"{script}.py").exists():
            raise self.error(f"example-figure: no gallery/{family}/{script}.py")
        rel = f"examples/{family}/images/sphx_glr_{script}_{int(k):03d}.png"
        if not (Path(env.srcdir) / rel).exists():
            if noplot(env.app):
                return parse_rst(self, f".. note::\n\n   Figure {k} of ``{script}.py`` appears "
                                       f"here once the full build (``make html``) has run it.")
            raise self.error(f"example-figure: {rel} was not made: does {script}.py draw "
                             f"{k} figure(s)?")
        caption = "\n".join("   " + c for c in self.content)
        alt = self.options.get("alt") or (self.content[0] if self.content else script)
        rst = [f".. figure:: /{rel}", f"   :alt: {alt}", "   :class: example-figure"]
        if "width" in self.options:
            rst.append(f"   :width: {self.options['width']}")
        rst += ["", caption] if caption.strip() else []
        return parse_rst(self, "\n".join(rst))


def metrics_table(rec):
    rows = [".. list-table::", "   :header-rows: 1", "   :class: results-table", "",
            "   * - metric", "     - value", "     - target", "     - baseline", "     - result"]
    for m in rec["metrics"]:
        base = fmt(m.get("baseline"), m.get("fmt"))
        if m.get("baseline") is not None and m.get("baseline_name"):
            base += f" ({m['baseline_name']})"
        rows += [f"   * - ``{m['name']}``", f"     - {fmt(m['value'], m.get('fmt'))}",
                 f"     - {target_text(m)}", f"     - {base}", f"     - {verdict(m)}"]
    return "\n".join(rows)


class Results(Directive):
    """``.. results:: vae``: this build's metrics for one example."""
    required_arguments = 1

    def run(self):
        env = self.state.document.settings.env
        name = self.arguments[0]
        if name not in examples():
            raise self.error(f"results: no gallery/*/plot_{name}.py")
        rec = load_records()[name]
        if rec is None:
            if noplot(env.app) or os.environ.get("CHEATSHEET_ONLY"):
                return parse_rst(self, f".. note::\n\n   No results yet for ``{name}``: the full "
                                       f"build (``make html``) runs its example and fills this in.")
            raise self.error(f"results: no record for {name}: did plot_{name}.py run?")
        text = metrics_table(rec)
        mode = " **Smoke build: these numbers come from a few seconds of training and mean " \
               "nothing.**" if rec.get("smoke") else ""
        threads = f", {rec['threads']} threads" if rec["device"] == "cpu" and rec.get("threads") \
            else ""
        text += (f"\n\n.. rst-class:: results-caption\n\n   Measured by this build: "
                 f"{rec['seconds']:.0f} s on {rec['device'].upper()}{threads} "
                 f"(torch {rec.get('torch', '?')}).{mode}")
        return parse_rst(self, text)


# -------------------------------------------------------------- results and front pages ----

def headline(rec):
    m = rec["metrics"][0]
    s = f"{m['name']} = {fmt(m['value'], m.get('fmt'))}"
    if m.get("target") is not None:
        s += f" (target {target_text(m)}: {verdict(m)})"
    return s


SMOKE_BANNER = (".. warning::\n\n   **Smoke build.** Every example below was cut to a few seconds of "
                "training, so these numbers mean nothing (a MISS here says nothing about the "
                "architecture). ``make html`` builds the site with the real numbers.\n\n")


def smoke_banner(recs):
    """The warning that heads a site-wide table when any record in it came from a smoke build."""
    return SMOKE_BANNER if any(r and r.get("smoke") for r in recs.values()) else ""


class ResultsTable(Directive):
    """Every example's metrics in one table."""

    def run(self):
        recs = load_records()
        rows = [".. list-table::", "   :header-rows: 1", "   :class: results-table results-all", "   :widths: 16 24 10 10 18 9 13", "",
                "   * - architecture", "     - metric", "     - value", "     - target",
                "     - baseline", "     - result", "     - seconds"]
        missing = []
        for name, rec in recs.items():
            if rec is None:
                missing.append(name)
                continue
            for i, m in enumerate(rec["metrics"]):
                base = fmt(m.get("baseline"), m.get("fmt"))
                if m.get("baseline") is not None and m.get("baseline_name"):
                    base += f" ({m['baseline_name']})"
                first = i == 0
                rows += [f"   * - {':ref:`' + rec['title'] + ' <arch-' + name + '>`' if first else ''}",
                         f"     - ``{m['name']}``", f"     - {fmt(m['value'], m.get('fmt'))}",
                         f"     - {target_text(m)}", f"     - {base}", f"     - {verdict(m)}",
                         f"     - {rec['seconds']:.0f} ({rec['device']})" if first else "     -"]
        text = "\n".join(rows) if len(rows) > 11 else ".. note::\n\n   No example has run yet."
        text = smoke_banner(recs) + text
        if missing:
            text += ("\n\n.. note::\n\n   Not run in this build tree yet: "
                     + ", ".join(f"``{m}``" for m in missing) + ".")
        return parse_rst(self, text)


class ResultsPlots(Directive):
    """Each example's metrics against their targets, and seconds per example."""

    def run(self):
        env = self.state.document.settings.env
        recs = {k: v for k, v in load_records().items() if v is not None}
        if not recs:
            return []
        out = gen_dir(env.app)
        draw_results(recs, out / "results-targets.svg", out / "results-seconds.svg")
        return parse_rst(self, "\n".join([
            ".. figure:: /_generated/results-targets.svg",
            "   :alt: each metric with a target, as value over target",
            "   :class: results-plot", "   :width: 100%", "",
            "   Every metric that has a target, as the ratio value / target (target / value "
            "where lower is better): right of the line passes.", "",
            ".. figure:: /_generated/results-seconds.svg",
            "   :alt: seconds per example", "   :class: results-plot", "   :width: 100%", "",
            "   Seconds each example took in this build; the lines are the budget on a 2-core "
            "CPU (about 60 s, never over 120 s). Each plot opens full size when clicked "
            "(on a phone: tap, then zoom)."]))


def draw_results(recs, targets_svg, seconds_svg):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = []
    for name, rec in recs.items():
        for m in rec["metrics"]:
            if m.get("target") is None or not m.get("target") or not m.get("value"):
                continue
            r = m["value"] / m["target"] if m.get("higher_is_better", True) else m["target"] / m["value"]
            items.append((f"{rec['title']}: {m['name']}", r, m))
    if items:
        cap = 2.0  # bars beyond twice the target are drawn to the edge; the label says the value
        fig, ax = plt.subplots(figsize=(10, 0.3 * len(items) + 1.3))
        ys = range(len(items))[::-1]
        cols = ["#16a34a" if it[2].get("passed") else "#dc2626" for it in items]
        ax.barh(list(ys), [min(it[1], cap) for it in items], color=cols, height=0.6)
        ax.axvline(1.0, color="#374151", lw=1.2)
        for y, it in zip(ys, items):
            x = min(it[1], cap)
            ax.text(x + 0.02, y, f"{fmt(it[2]['value'], it[2].get('fmt'))} "
                    f"({target_text(it[2])})", va="center", fontsize=7.5)
        ax.set_yticks(list(ys))
        short = [lab if len(lab) <= 48 else lab[:46] + "…" for lab, _, _ in items]
        ax.set_yticklabels(short, fontsize=7.5)
        ax.set_xlim(0, cap + 0.75)
        ax.set_xticks([0, 0.5, 1, 1.5, 2])
        ax.set_xlabel("value / target (target / value when lower is better); ≥ 1 passes; "
                      "capped at 2")
        ax.set_title("Metrics against their targets, this build")
        ax.grid(axis="x", alpha=0.3)
        # fixed margins: the labels are long, and tight_layout gives up on them
        fig.subplots_adjust(left=0.36, right=0.98, top=1 - 0.45 / fig.get_figheight(),
                            bottom=0.75 / fig.get_figheight())
        fig.savefig(targets_svg, format="svg")
        plt.close(fig)
    names = list(recs)
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(names) + 1.2))
    ys = range(len(names))[::-1]
    secs = [recs[n]["seconds"] for n in names]
    devcol = {"cpu": "#2563eb", "cuda": "#16a34a", "mps": "#9333ea"}
    ax.barh(list(ys), secs, color=[devcol.get(recs[n]["device"], "#6b7280") for n in names],
            height=0.6)
    for x, style in ((60, "--"), (120, "-")):
        ax.axvline(x, color="#dc2626", ls=style, lw=1)
    for y, s in zip(ys, secs):
        ax.text(s + 1, y, f"{s:.0f} s", va="center", fontsize=8)
    ax.set_yticks(list(ys))
    ax.set_yticklabels([recs[n]["title"][:40] for n in names], fontsize=8)
    ax.set_xlabel("seconds (bar colour: blue CPU, green CUDA, purple MPS)")
    ax.set_title(f"Seconds per example, total {sum(secs) / 60:.1f} min")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(seconds_svg, format="svg")
    plt.close(fig)


class OverviewTable(Directive):
    """The front page's at-a-glance table, filled from the gallery and this build's records."""

    def run(self):
        recs = load_records()
        rows = [".. list-table::", "   :header-rows: 1", "   :class: overview-table",
                "   :widths: 14 18 30 14 24", "",
                "   * - architecture", "     - task", "     - key idea", "     - loss",
                "     - headline result (this build)"]
        for name, rec in recs.items():
            family, path = examples()[name]
            ex = f":ref:`example <sphx_glr_examples_{family}_{path.stem}.py>`"
            if rec is None:
                rows += [f"   * - :ref:`arch-{name}`", "     - –", "     - –", "     - –",
                         f"     - not run yet ({ex})"]
                continue
            rows += [f"   * - :ref:`{rec['title']} <arch-{name}>`", f"     - {rec['task']}",
                     f"     - {rec['idea']}", f"     - {rec['loss']}",
                     f"     - {headline(rec)}; {rec['seconds']:.0f} s on {rec['device']} ({ex})"]
        if not recs:
            return parse_rst(self, ".. note::\n\n   No architecture has a gallery example yet.")
        return parse_rst(self, smoke_banner(recs) + "\n".join(rows))


# ------------------------------------------------------------- families that exist ----

DOCS = ROOT / "docs"


class FamiliesToctree(TocTree):
    """The toctree of the family pages in their fixed order, listing those that exist (a family
    whose page is not written yet is simply not linked, rather than breaking the build)."""
    required_arguments = 0
    has_content = False

    def run(self):
        pages = [f"architectures/{f}" for f in FAMILIES
                 if (DOCS / "architectures" / f"{f}.rst").exists()]
        self.content = StringList(pages, source="families-toctree")
        self.env.note_dependency(str(DOCS / "architectures"))
        return super().run()


class Bibliography(Directive):
    """Every family's bibliography (docs/bib/<family>.rst), in the fixed family order."""
    has_content = False

    def run(self):
        env = self.state.document.settings.env
        lines = []
        for f in FAMILIES:
            path = DOCS / "bib" / f"{f}.rst"
            if path.exists():
                env.note_dependency(str(path))
                lines += path.read_text().splitlines() + [""]
        self.state_machine.insert_input(StringList(lines, source="bibliography"), "bibliography")
        return []


# ------------------------------------------------------------------------ build events ----

def always_reread(app, env, added, changed, removed):
    """Pages whose content comes from the records are read again on every build."""
    return [d for d in env.found_docs
            if d in ("index", "results", "references") or d.startswith("architectures/")]


def write_results_json(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    recs = [r for r in load_records().values() if r is not None]
    keep = ("name", "title", "seconds", "device", "threads", "smoke", "torch")
    mkeys = ("name", "value", "target", "baseline", "baseline_name", "higher_is_better", "passed")
    data = [{k: r.get(k) for k in keep} | {"metrics": [{k: m.get(k) for k in mkeys}
                                                        for m in r["metrics"]]} for r in recs]
    (out / "results.json").write_text(json.dumps(data, indent=1))
    (out / ".nojekyll").touch()  # static hosts that run Jekyll would hide _static/ otherwise
    copy_mathjax(out)


def copy_mathjax(out):
    import importlib.util

    spec = importlib.util.find_spec("mathjax")
    src = Path(spec.submodule_search_locations[0]) / "static" / "mathjax" / "es5"
    dst = out / "_static" / "mathjax"
    if not (dst / "tex-chtml.js").exists():
        shutil.copytree(src, dst, dirs_exist_ok=True)


def setup(app):
    app.connect("builder-inited", invalidate_stale_examples, priority=100)
    app.connect("env-get-outdated", always_reread)
    app.connect("build-finished", write_results_json)
    app.add_directive("arch-diagram", ArchDiagram)
    app.add_directive("module-download", ModuleDownload)
    app.add_directive("example-figure", ExampleFigure)
    app.add_directive("results", Results)
    app.add_directive("results-table", ResultsTable)
    app.add_directive("results-plots", ResultsPlots)
    app.add_directive("overview-table", OverviewTable)
    app.add_directive("families-toctree", FamiliesToctree)
    app.add_directive("bibliography", Bibliography)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
