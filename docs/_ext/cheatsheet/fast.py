"""Fast pages: images that are sized, lazy and compact, and math rendered at build time.

- ``compact_images`` (doctree-read, before Sphinx collects the images): every PNG is
  served as lossless WebP when that is smaller (the examples' matplotlib figures shrink
  by about a third), every image gets its ``width`` and ``height`` (no layout shift) and
  all but the first of a page load lazily.
- ``prerender_math`` (build-finished): when Node and the pinned ``mathjax-full`` (npm,
  ``package.json``) are installed, every formula of every page is rendered to SVG with
  assistive MathML by ``prerender-math.mjs``, and the pages drop the 1 MB MathJax
  script; without them the pages keep the site's own copy of MathJax, loaded
  ``defer``. Either way no request goes to another host.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent


def _svg_size(path):
    head = Path(path).read_text(encoding="utf-8", errors="ignore")[:4000]
    m = re.search(r'viewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)', head)
    if m:
        w, h = float(m.group(1)), float(m.group(2))
        unit = re.search(r'<svg[^>]*\swidth="[\d.]+(pt|px)?"', head)
        k = 4 / 3 if unit and unit.group(1) == "pt" else 1.0
        return round(w * k), round(h * k)
    return None


def _webp(src, gen):
    """A lossless WebP copy of a PNG under ``_generated/webp`` (None when not
    smaller)."""
    from PIL import Image

    data = src.read_bytes()
    key = hashlib.sha256(data).hexdigest()[:16]
    dst = gen / f"{src.stem}-{key}.webp"
    if not dst.exists():
        dst.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(src) as im:
            im.save(dst, "WEBP", lossless=True, method=6, quality=100)
    if dst.stat().st_size >= len(data):
        return None
    return dst


def compact_images(app, doctree):
    env = app.env
    srcdir = Path(app.srcdir)
    gen = srcdir / "_generated" / "webp"
    first = True
    for node in doctree.findall(nodes.image):
        uri = node.get("uri", "")
        if "://" in uri or uri.startswith("data:") or "*" in uri:
            continue
        rel, abspath = env.relfn2path(uri, env.docname)
        path = Path(abspath)
        if not path.is_file():
            continue
        size = None
        if path.suffix.lower() == ".png":
            from PIL import Image

            with Image.open(path) as im:
                size = im.size
            webp = _webp(path, gen)
            if webp is not None:
                node["uri"] = "/" + webp.relative_to(srcdir).as_posix()
                node["candidates"] = {"image/webp": node["uri"]}
        elif path.suffix.lower() == ".svg":
            size = _svg_size(path)
        if (
            size
            and "width" not in node
            and "height" not in node
            and "scale" not in node
        ):
            node["width"], node["height"] = str(size[0]), str(size[1])
            # the size is only a hint for layout: no "open the full image" link
            node["classes"].append("no-scaled-link")
        if not first:
            node["loading"] = "lazy"
        first = False


# --------------------------------------------------------------------------- math
# ----

_INLINE = re.compile(
    r'<span class="math notranslate nohighlight">\\\((.*?)\\\)</span>', re.S
)
_DISPLAY = re.compile(
    r'(<div class="math notranslate nohighlight"[^>]*>\s*(?:<span class="eqno">.*?'
    r"</span>)?\s*)\\\[(.*?)\\\]\s*(</div>)",
    re.S,
)
_SCRIPT = re.compile(
    r'\s*<script [^>]*src="[^"]*_static/mathjax/tex-chtml\.js[^"]*"[^>]*>'
    r"</script>"
)


def node_modules(root):
    """The npm packages' folder (``CHEATSHEET_NODE_MODULES``, else the project's
    ``node_modules``) when ``node`` and mathjax-full are installed, else None."""
    if not shutil.which("node"):
        return None
    for d in (os.environ.get("CHEATSHEET_NODE_MODULES"), Path(root) / "node_modules"):
        if d and (Path(d) / "mathjax-full").is_dir():
            return Path(d).resolve()
    return None


def render_tex(pages, root):
    """For each page's ``[(tex, display), ...]``: its SVGs and its glyph cache (one
    ``<svg>`` of shared paths), and the stylesheet, rendered by Node."""
    proc = subprocess.run(
        [
            shutil.which("node"),
            str(HERE / "prerender-math.mjs"),
            str(node_modules(root)),
        ],
        input=json.dumps({"pages": pages}),
        capture_output=True,
        text=True,
        cwd=root,
        timeout=600,
    )
    if proc.returncode:
        raise ExtensionError(f"prerender-math.mjs failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout)
    if out["errors"]:
        raise ExtensionError(
            "MathJax could not render: " + "; ".join(out["errors"][:5])
        )
    return out["css"], out["pages"]


_NOISE = re.compile(
    r'\sdata-c="[^"]*"|\sdata-mml-node="(?!mtable|merror|mtr|mtd)[^"]*"'
)


def _slim(svg):
    """MathJax's SVG without the attributes only its own scripts read (a third of the
    bytes): which character a glyph is and which MathML node a group came from, kept
    for the tables and errors its stylesheet draws."""
    return _NOISE.sub("", svg)


def _substitute(text, svgs):
    """Put the SVGs in place of the TeX, in the order the TeX was found (inline first,
    then display)."""
    svgs = [_slim(x) for x in svgs]
    n_inline = len(_INLINE.findall(text))
    inline, display = iter(svgs[:n_inline]), iter(svgs[n_inline:])
    text = _INLINE.sub(
        lambda m: (
            '<span class="math notranslate nohighlight">' + next(inline) + "</span>"
        ),
        text,
    )
    return _DISPLAY.sub(lambda m: m.group(1) + next(display) + m.group(3), text)


def prerender_math(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    root = Path(app.confdir)
    if not node_modules(root):
        logger.info(
            "[cheatsheet] math left to the browser's MathJax (no node or no "
            "node_modules/mathjax-full: npm ci renders it at build time)"
        )
        return
    out = Path(app.outdir)
    pages = {}
    for page in sorted(out.rglob("*.html")):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        if "math notranslate nohighlight" not in text:
            continue
        found = [(html.unescape(m.group(1)), False) for m in _INLINE.finditer(text)]
        found += [(html.unescape(m.group(2)), True) for m in _DISPLAY.finditer(text)]
        if not found:
            if _SCRIPT.search(text):  # rendered by an earlier build: no script needed
                page.write_text(_SCRIPT.sub("", text), encoding="utf-8")
            continue
        pages[page] = (text, found)
    if not pages:
        return
    css, rendered = render_tex([f for _, f in pages.values()], root)
    (out / "_static" / "mathjax-svg.css").write_text(css, encoding="utf-8")
    for (page, (text, _)), result in zip(pages.items(), rendered):
        text = _substitute(text, result["svgs"])
        depth = len(page.relative_to(out).parts) - 1
        href = "../" * depth + "_static/mathjax-svg.css"
        text = _SCRIPT.sub("", text)
        text = text.replace(
            "</head>",
            f'<link rel="stylesheet" href="{href}" type="text/css" />\n</head>',
            1,
        )
        # the page's glyphs, once, right after <body ...>
        body = re.search(r"<body[^>]*>", text)
        if body:
            text = text[: body.end()] + result["cache"] + text[body.end() :]
        page.write_text(text, encoding="utf-8")
    n = sum(len(f) for _, f in pages.values())
    logger.info(f"[cheatsheet] rendered {n} formulas to SVG at build time")
