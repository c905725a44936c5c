"""Architecture diagrams drawn from text kept in the page (``.. arch-diagram::``).

The grammar, one item per line (``#`` starts a comment)::

    id: label [kind] @col,row     a box; kind is one of KIND_STYLE (default layer);
                                  without @col,row it goes one column right of the
                                  previous box
    a -> b: label                 an arrow (``-->`` dashed), with an optional label

With no arrows at all, the boxes are chained in the order given. ``parse_diagram``
checks the text and says which line it cannot read; ``draw_diagram`` renders an SVG with
matplotlib.
"""

import hashlib
import re
import textwrap

from docutils.parsers.rst import Directive, directives

from .pages import gen_dir, parse_rst

#: Bump when the drawing changes, so cached SVGs are redrawn.
DIAGRAM_VERSION = "v5"
#: Layout, in diagram units: column and row pitch, box width and height.
DX, DY, BOX_W, BOX_H = 2.7, 1.45, 2.1, 0.86
#: Inches per diagram unit.
INCH_PER_UNIT = 0.58
#: A character's width as a share of the font size (for fitting labels into boxes).
CHAR_WIDTH = 0.58
#: Labels longer than this wrap at spaces.
WRAP_CHARS = 17

KIND_STYLE = {  # face colour, edge colour
    "data": ("#dbeafe", "#2563eb"),
    "layer": ("#ede9fe", "#7c3aed"),
    "latent": ("#fef3c7", "#d97706"),
    "op": ("#e0f2fe", "#0891b2"),
    "loss": ("#fee2e2", "#dc2626"),
    "aux": ("#f1f5f9", "#64748b"),
}
NODE_RE = re.compile(
    r"^(?P<id>[A-Za-z_][\w]*)\s*:\s*(?P<label>.*?)\s*"
    r"(?:\[(?P<kind>\w+)\])?\s*(?:@\s*(?P<col>-?\d+(?:\.\d+)?)\s*,\s*"
    r"(?P<row>-?\d+(?:\.\d+)?))?\s*$"
)
EDGE_RE = re.compile(
    r"^(?P<a>[A-Za-z_]\w*)\s*(?P<arrow>-->|->)\s*(?P<b>[A-Za-z_]\w*)\s*"
    r"(?::\s*(?P<label>.*))?$"
)


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
            edges.append(
                (e["a"], e["b"], e["arrow"] == "-->", (e["label"] or "").strip())
            )
            continue
        m = NODE_RE.match(line)
        if not m:
            raise ValueError(
                f"line {n}: cannot read {line!r} (expected 'id: label [kind] @col,row'"
                f" or 'a -> b')"
            )
        kind = m["kind"] or "layer"
        if kind not in KIND_STYLE:
            raise ValueError(
                f"line {n}: unknown kind {kind!r} (one of {', '.join(KIND_STYLE)})"
            )
        if m["col"] is not None:
            col, row = float(m["col"]), float(m["row"])
        else:
            col += 1
        if m["id"] in nodes_:
            raise ValueError(f"line {n}: node {m['id']!r} defined twice")
        nodes_[m["id"]] = dict(
            label=m["label"].replace("\\n", "\n"), kind=kind, col=col, row=row
        )
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
    """Render the parsed diagram to an SVG file: rounded boxes coloured by kind,
    straight arrows between neighbours, and a bracket over the row for an edge that
    skips columns."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    dx, dy, w, h = DX, DY, BOX_W, BOX_H
    pos = {k: (v["col"] * dx, -v["row"] * dy) for k, v in nodes_.items()}
    far = [
        (a, b)
        for a, b, _, _ in edges
        if abs(pos[a][1] - pos[b][1]) < 1e-6 and abs(pos[a][0] - pos[b][0]) > dx * 1.5
    ]
    lift = {}  # each far edge gets its own level above its row
    for a, b in sorted(far, key=lambda e: abs(pos[e[0]][0] - pos[e[1]][0])):
        lift[(a, b)] = 0.32 + 0.3 * sum(1 for e in lift if pos[e[0]][1] == pos[a][1])
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    # labels of edges between neighbours in a row sit just above the boxes, in the gap
    row_label = any(
        lab and (a, b) not in lift and abs(pos[a][1] - pos[b][1]) < 1e-6
        for a, b, _, lab in edges
    )
    top = max(
        [y + h / 2 + lift[e] for e in lift for y in [pos[e[0]][1]]]
        + [max(ys) + h / 2 + (0.3 if row_label else 0)]
    )
    x0, x1 = min(xs) - w / 2 - 0.15, max(xs) + w / 2 + 0.15
    y0, y1 = min(ys) - h / 2 - 0.2, top + 0.3
    scale = INCH_PER_UNIT
    fig = plt.figure(figsize=((x1 - x0) * scale, (y1 - y0) * scale))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.axis("off")
    for k, v in nodes_.items():
        face, edge = KIND_STYLE[v["kind"]]
        x, y = pos[k]
        ax.add_patch(
            FancyBboxPatch(
                (x - w / 2, y - h / 2),
                w,
                h,
                boxstyle="round,pad=0.02,rounding_size=0.14",
                fc=face,
                ec=edge,
                lw=1.6,
                zorder=2,
            )
        )
        lines = []
        for part in v["label"].split("\n"):  # long labels wrap at spaces
            lines += (
                textwrap.wrap(part, WRAP_CHARS)
                if len(part) > WRAP_CHARS and " " in part
                else [part]
            )
        longest = max(len(s) for s in lines)
        room_w, room_h = w * scale * 72 - 8, h * scale * 72 - 4  # points inside the box
        size = min(11.0, room_w / (CHAR_WIDTH * longest), room_h / (1.25 * len(lines)))
        ax.text(
            x,
            y,
            "\n".join(lines),
            ha="center",
            va="center",
            fontsize=size,
            color="#111827",
            zorder=3,
            linespacing=1.1,
        )
    grey = "#6b7280"
    for a, b, dashed, label in edges:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        ls = (0, (4, 3)) if dashed else "-"
        if (a, b) in lift:
            yt = ya + h / 2 + lift[(a, b)]
            ax.plot(
                [xa, xa, xb],
                [ya + h / 2, yt, yt],
                color=grey,
                lw=1.5,
                ls=ls,
                zorder=1,
                solid_capstyle="round",
            )
            start, end = (xb, yt), (xb, yb + h / 2)
            lx, ly = (xa + xb) / 2, yt + 0.04
        else:
            start, end = _clip(xa, ya, xb, yb, w, h)
            lx, ly = (xa + xb) / 2, (ya + yb) / 2 + 0.1
            if abs(ya - yb) < 1e-6:
                ly = ya + h / 2 + 0.03
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-|>",
                mutation_scale=14,
                lw=1.5,
                color=grey,
                linestyle=ls,
                shrinkA=0,
                shrinkB=0,
                zorder=4,
            )
        )
        if label:
            ax.text(
                lx,
                ly,
                label,
                ha="center",
                va="bottom",
                fontsize=8.5,
                color="#374151",
                zorder=5,
                bbox=dict(fc="white", ec="none", alpha=0.85, pad=0.6),
            )
    fig.savefig(path, format="svg", transparent=True)
    plt.close(fig)


def _clip(xa, ya, xb, yb, w, h):
    """Start and end points of an arrow on the borders of two boxes centred at a and
    b."""
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
            raise self.error(f"arch-diagram: {e}") from None
        key = hashlib.sha256((text + DIAGRAM_VERSION).encode()).hexdigest()[:16]
        out = gen_dir(env.app) / "diagrams"
        out.mkdir(exist_ok=True)
        svg = out / f"diagram-{key}.svg"
        if not svg.exists():
            draw_diagram(nodes_, edges, svg)
        caption = self.options.get("caption", "")
        alt = caption or "architecture diagram"
        rst = [
            f".. figure:: /_generated/diagrams/{svg.name}",
            f"   :alt: {alt}",
            "   :class: arch-diagram",
        ]
        if "width" in self.options:
            rst.append(f"   :width: {self.options['width']}")
        if caption:
            rst += ["", f"   {caption}"]
        return parse_rst(self, "\n".join(rst))


# ---------------------------------------------------------------- per-section
# directives ----
