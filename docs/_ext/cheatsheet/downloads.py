"""Example pages and downloads that stand on their own.

sphinx-gallery offers each example as ``.py``, ``.ipynb`` and ``.zip``; as it writes
them they import ``_example``, ``toydata`` and the architecture's module, none of which
comes with the download. This module writes downloads that run in an empty folder and
points the example pages at them (``docs/_generated/downloads/<family>/``):

- ``plot_<name>.py``: the example with every repo module it imports (transitively:
  ``code/<name>.py``, ``gallery/_lib/*.py``) bundled at its top, registered as modules
  before the example's own imports run;
- ``plot_<name>.ipynb``: sphinx-gallery's notebook, with a first cell that installs the
  pinned packages the example needs and one ``%%writefile`` cell per bundled module;
- ``plot_<name>.zip``: the example, its modules as files, and their pinned
  requirements.

The site's own plumbing (``run = start(...)``, ``run.metric``, ``run.series``,
``run.finish``, ``scale(full, smoke)``, ``if SMOKE:``) keeps working in a download (it
prints the metrics table and writes no record; ``CHEATSHEET_SMOKE=1`` still cuts the run
to seconds) and is hidden from the rendered page, whose code then reads as the default
build ran it. Each example page also links back to its section and, when the
repository is set, opens in Colab. The notebooks are copied to
``_build/html/notebooks/<family>/`` for the Pages workflow's notebook branch.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import io
import json
import re
import shutil
import zipfile
from pathlib import Path

from sphinx.util import logging

from . import gallery, links, snippets

logger = logging.getLogger(__name__)

#: The line of _record.py that finds the repository from the module's own place; a
#: download has no repository around it, so there the folder it runs in stands for it.
ROOT_LINE = "ROOT = Path(__file__).resolve().parents[2]"
ROOT_DOWNLOAD = (
    "ROOT = Path.cwd()  # a download: the folder it runs in (the repository in the "
    "build)"
)
PLUMBING = ("start", "metric", "series", "finish")


def out_root(app):
    return Path(app.srcdir) / "_generated" / "downloads"


# ------------------------------------------------------------------------ bundles
# ----


def bundled_modules(example):
    """The repo modules an example imports, transitively, dependencies first."""
    order = []

    def visit(path, stack):
        if path in order or path in stack:
            return
        for n in sorted(gallery.local_imports(path)):
            visit(gallery._module_path(n), stack | {path})
        order.append(path)

    for n in sorted(gallery.local_imports(example)):
        visit(gallery._module_path(n), frozenset({Path(example)}))
    return order


def module_source(path):
    text = Path(path).read_text(encoding="utf-8")
    if Path(path).name == "_record.py" and ROOT_LINE in text:
        text = text.replace(ROOT_LINE, ROOT_DOWNLOAD, 1)
    return text


@functools.cache
def _pins():
    """``{distribution (lower case): (pinned name, version, no_deps)}`` from the
    requirements files."""
    pins = {}
    for req in sorted(gallery.ROOT.glob("requirements*.txt")):
        no_deps = "data" in req.name
        for line in req.read_text().splitlines():
            m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s#]+)", line.strip())
            if m:
                pins[m.group(1).lower().replace("_", "-")] = (
                    m.group(1),
                    m.group(2),
                    no_deps,
                )
    return pins


@functools.cache
def _top_levels():
    """``{top-level folder or module: distribution}`` of every pinned distribution
    that is installed."""
    out = {}
    for dist in _pins():
        try:
            files = importlib.metadata.distribution(dist).files or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for f in files:
            first = f.parts[0]
            if first.endswith((".dist-info", ".egg-info", ".data")) or first in (
                "..",
                "__pycache__",
            ):
                continue
            out.setdefault(first.removesuffix(".py"), dist)
    return out


@functools.lru_cache(maxsize=1024)
def _imports_and_packages(source):
    """Top-level names of the modules a source imports, and the package folders it
    asks ``_package_dir`` for."""
    names = set()
    for node in ast.walk(gallery.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) == "_package_dir"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(node.args[0].value)
    return frozenset(names)


@functools.lru_cache(maxsize=1024)
def _uses_by_module(source):
    """``{module name: names of it that the source uses}``, from ``module.name`` and
    ``from module import name``."""
    used = {}
    for node in ast.walk(gallery.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            used.setdefault(node.value.id, set()).add(node.attr)
        elif isinstance(node, ast.ImportFrom) and node.module:
            used.setdefault(node.module, set()).update(a.name for a in node.names)
    return used


def _used_of(module_name, sources):
    """The top-level names of a bundled module that the other sources use."""
    used = set()
    for src in sources:
        used |= _uses_by_module(src).get(module_name, set())
    return used


def requirements(example):
    """The pinned distributions an example needs, as ``(name, version, no_deps)``:
    those its own code imports, and those that the parts of the bundled modules it
    reaches import or read data from."""
    mods = bundled_modules(example)
    local = {p.stem for p in mods}
    whole = [Path(example).read_text(encoding="utf-8")]
    whole += [module_source(p) for p in mods if p.parent == gallery.CODE]
    names = set()
    for src in whole:
        names |= _imports_and_packages(src)
    helpers = [p for p in mods if p.parent != gallery.CODE]
    for p in helpers:
        idx = snippets.index(p)
        others = whole + [module_source(q) for q in helpers if q != p]
        reached = snippets.reached(idx, _used_of(p.stem, others))
        # module-level imports run on import; a function's only when it is reached
        names |= _imports_and_packages("\n".join(idx.imports))
        for n in reached:
            names |= _imports_and_packages(idx.defs[n][1])
    names -= local
    dists = {_top_levels()[n] for n in names if n in _top_levels()}
    pins = _pins()
    return sorted((pins[d] for d in dists), key=lambda t: (t[2], t[0].lower()))


def pip_lines(reqs):
    plain = [f"{n}=={v}" for n, v, nd in reqs if not nd]
    data = [f"{n}=={v}" for n, v, nd in reqs if nd]
    lines = []
    if plain:
        lines.append("%pip install -q " + " ".join(plain))
    if data:
        lines.append("%pip install -q --no-deps " + " ".join(data))
    return lines


def _literal(text):
    """A Python string literal holding ``text`` exactly, readable where it can be."""
    if "'''" not in text and not text.endswith("\\") and "\\" not in text:
        return "r'''" + text + "'''"
    return repr(text)


def bundle_py(example, name):
    """The single-file download: the example, its modules bundled at its top."""
    src = Path(example).read_text(encoding="utf-8")
    tree = gallery.parse(src)
    lines = src.splitlines(keepends=True)
    first = tree.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    cut = first.end_lineno if has_doc else 0
    head, rest = "".join(lines[:cut]), "".join(lines[cut:])
    mods = bundled_modules(example)
    listing = ", ".join(f"{p.name}" for p in mods)
    parts = [
        head,
        "\n# %%\n"
        f"# This file runs on its own: the modules it imports ({listing}) are bundled\n"
        "# just below and registered before the example starts; in the repository "
        "they are\n"
        "# code/ and gallery/_lib/. Outside the site's build, run.metric and "
        "run.finish only\n"
        "# print the metrics table; CHEATSHEET_SMOKE=1 cuts the run to seconds.\n"
        "import atexit as _atexit\n"
        "import os as _os\n"
        "import shutil as _shutil\n"
        "import sys as _sys\n"
        "import tempfile as _tempfile\n"
        "import types as _types\n\n"
        "# each module also goes to a temporary file, for tracebacks and for modules "
        "that\n"
        "# read their own source; nothing is left in this folder\n"
        '_here = _tempfile.mkdtemp(prefix="cheatsheet-")\n'
        "_atexit.register(_shutil.rmtree, _here, True)\n\n\n"
        "def _bundled(name, source):\n"
        '    path = _os.path.join(_here, name + ".py")\n'
        '    with open(path, "w", encoding="utf-8") as f:\n'
        "        f.write(source)\n"
        "    module = _types.ModuleType(name)\n"
        "    module.__file__ = path\n"
        "    _sys.modules[name] = module\n"
        '    exec(compile(source, path, "exec"), module.__dict__)\n\n'
        "\n",
    ]
    for p in mods:
        parts.append(
            f"_bundled(\n    {p.stem!r},\n    {_literal(module_source(p))},\n)\n"
        )
    parts.append("\n" + rest.lstrip("\n"))
    return "".join(parts)


def bundle_ipynb(example, name, family, gallery_nb):
    """sphinx-gallery's notebook with a set-up cell and the modules written beside
    it."""
    nb = json.loads(Path(gallery_nb).read_text(encoding="utf-8"))
    mods = bundled_modules(example)
    reqs = requirements(example)

    def md(text):
        return {"cell_type": "markdown", "metadata": {}, "source": text}

    def code(text):
        return {
            "cell_type": "code",
            "execution_count": None,
            "metadata": {},
            "outputs": [],
            "source": text,
        }

    cells = [
        md(
            "**Set-up.** This notebook runs on its own (in Colab, say): the first cell "
            "installs the pinned versions of the packages it needs (the versions the "
            "site was built with), the next ones write the modules it imports "
            f"({', '.join(f'`{p.name}`' for p in mods)}) beside it. Outside the "
            "site's build, `run.metric` and `run.finish` only print the metrics table."
        ),
        code("\n".join(pip_lines(reqs))),
    ]
    for p in mods:
        cells.append(code(f"%%writefile {p.name}\n" + module_source(p)))
    at = 1 if nb["cells"] and nb["cells"][0]["cell_type"] == "markdown" else 0
    nb["cells"][at:at] = cells
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def bundle_zip(example, name):
    """The example, its modules as files and their pinned requirements (fixed dates,
    so an unchanged example gives the same bytes)."""
    buf = io.BytesIO()

    class _Zip(zipfile.ZipFile):
        def writestr(self, name, data):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            super().writestr(info, data)

    with _Zip(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(Path(example).name, Path(example).read_text(encoding="utf-8"))
        for p in bundled_modules(example):
            z.writestr(p.name, module_source(p))
        reqs = requirements(example)
        z.writestr(
            "requirements.txt",
            "".join(f"{n}=={v}\n" for n, v, nd in reqs if not nd)
            + (
                "# install these with pip install --no-deps:\n"
                + "".join(f"# {n}=={v}\n" for n, v, nd in reqs if nd)
                if any(nd for *_, nd in reqs)
                else ""
            ),
        )
    return buf.getvalue()


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def write_downloads(app):
    """builder-inited, after sphinx-gallery: the standalone downloads of every example
    whose page sphinx-gallery wrote."""
    gallery.clear_caches()
    root = out_root(app)
    for name, (family, path) in gallery.examples().items():
        nb = Path(app.srcdir) / "examples" / family / f"plot_{name}.ipynb"
        if not nb.exists():
            continue
        d = root / family
        outs = [d / f"plot_{name}{ext}" for ext in (".py", ".ipynb", ".zip")]
        key, stamp = _bundle_key(path, nb), d / f".plot_{name}.key"
        if all(p.exists() for p in outs) and stamp.exists():
            if stamp.read_text() == key:
                continue  # nothing a bundle is made from has changed
        _write(outs[0], bundle_py(path, name))
        _write(outs[1], bundle_ipynb(path, name, family, nb))
        _write(outs[2], bundle_zip(path, name))
        _write(stamp, key)


def _bundle_key(example, nb):
    """A digest of everything one example's downloads are made from: the example, the
    modules it bundles, sphinx-gallery's notebook, the pins and conf.py, and the code
    that writes the bundles."""
    files = [Path(example), *bundled_modules(example), Path(nb)]
    files += gallery.build_inputs() + [Path(__file__), Path(snippets.__file__)]
    h = hashlib.sha256()
    for p in files:
        h.update(str(p).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def copy_notebooks(app, exception):
    """build-finished: the notebooks at stable paths (``notebooks/<family>/``), which
    the Pages workflow pushes to the branch that Colab opens."""
    if exception is not None or app.builder.format != "html":
        return
    src = out_root(app)
    dst = Path(app.outdir) / "notebooks"
    for nb in src.glob("*/plot_*.ipynb"):
        target = dst / nb.parent.name / nb.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(nb, target)


# --------------------------------------------------------------- the example page
# ----


def _smoke_test(test):
    """True for the test ``SMOKE``, False for ``not SMOKE``, None for anything else."""
    if isinstance(test, ast.Name) and test.id == "SMOKE":
        return True
    if (
        isinstance(test, ast.UnaryOp)
        and isinstance(test.op, ast.Not)
        and isinstance(test.operand, ast.Name)
        and test.operand.id == "SMOKE"
    ):
        return False
    return None


def hide_plumbing(code, uses_seed=None):
    """The code of one rendered cell with the site's plumbing taken out: the record
    calls go, ``scale(full, smoke)`` reads ``full``, ``if SMOKE:`` keeps its ``else``
    (and ``a if SMOKE else b`` reads ``b``),
    ``run.seed`` reads ``seed`` (set to the build's seed, 0, where ``run`` was made;
    ``uses_seed`` says whether any cell of the page reads it). Code that does not parse
    comes back as it was."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines(keepends=True)
    offs = [0]
    for ln in lines:
        offs.append(offs[-1] + len(ln))

    def pos(lineno, col):  # ast's columns count UTF-8 bytes
        chars = len(lines[lineno - 1].encode()[:col].decode(errors="ignore"))
        return offs[lineno - 1] + chars

    edits = []  # (start, end, replacement)

    def span(node):
        return pos(node.lineno, node.col_offset), pos(
            node.end_lineno, node.end_col_offset
        )

    def whole_lines(node):
        start = offs[node.lineno - 1]
        end = offs[node.end_lineno]
        return start, end

    def is_run_call(node, attrs=PLUMBING):
        return (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "run"
            and node.func.attr in attrs
        )

    seed_here = False
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "run"
            and node.attr == "seed"
        ):
            seed_here = True
            s, e = span(node)
            edits.append((s, e, "seed"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "scale"
            and len(node.args) == 2
        ):
            s, e = span(node)
            a, b = span(node.args[0])
            edits.append((s, e, code[a:b]))
        elif isinstance(node, ast.IfExp) and _smoke_test(node.test) is not None:
            # ``x if SMOKE else y`` reads ``y``; ``x if not SMOKE else y`` reads ``x``
            s, e = span(node)
            a, b = span(node.orelse if _smoke_test(node.test) else node.body)
            edits.append((s, e, code[a:b]))

    if uses_seed is None:
        uses_seed = seed_here
    for stmt in ast.walk(tree):
        if not isinstance(stmt, ast.stmt):
            continue
        if isinstance(stmt, ast.Expr) and is_run_call(stmt.value):
            edits.append((*whole_lines(stmt), ""))
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id == "run"
        ):
            indent = lines[stmt.lineno - 1][: stmt.col_offset]
            repl = f"{indent}seed = 0  # the build's seed (make seeds adds 1 and 2)\n"
            edits.append((*whole_lines(stmt), repl if uses_seed else ""))
        elif isinstance(stmt, ast.Assign) and is_run_call(stmt.value, ("metric",)):
            s, e = span(stmt.value)
            if stmt.value.args[1:]:
                a, b = span(stmt.value.args[1])
                edits.append((s, e, code[a:b]))
        elif isinstance(stmt, ast.ImportFrom) and stmt.module == "_example":
            keep = [a for a in stmt.names if a.name not in ("start", "scale", "SMOKE")]
            indent = lines[stmt.lineno - 1][: stmt.col_offset]
            repl = (
                f"{indent}from _example import "
                + ", ".join(
                    a.name + (f" as {a.asname}" if a.asname else "") for a in keep
                )
                + "\n"
                if keep
                else ""
            )
            edits.append((*whole_lines(stmt), repl))
        elif (
            isinstance(stmt, ast.If)
            and isinstance(stmt.test, ast.Name)
            and stmt.test.id == "SMOKE"
        ):
            if stmt.orelse:
                body = "".join(lines[stmt.orelse[0].lineno - 1 : stmt.end_lineno])
                indent = lines[stmt.lineno - 1][: stmt.col_offset]
                inner = lines[stmt.orelse[0].lineno - 1]
                strip = len(inner) - len(inner.lstrip()) - len(indent)
                body = "".join(
                    ln[strip:] if ln.strip() else ln for ln in body.splitlines(True)
                )
                edits.append((*whole_lines(stmt), body))
            else:
                edits.append((*whole_lines(stmt), ""))
    # apply the outermost edits, from the end
    edits.sort(key=lambda t: (t[0], -t[1]))
    kept, last_end = [], -1
    for s, e, r in edits:
        if s >= last_end:
            kept.append((s, e, r))
            last_end = e
    out = code
    for s, e, r in reversed(kept):
        out = out[:s] + r + out[e:]
    out = re.sub(r"\[: (\w+)\]", r"[:\1]", out)  # x[: scale(n, m)] reads x[:n]
    return re.sub(r"\n{4,}", "\n\n\n", out)


_CODE_BLOCK = re.compile(r"(^\.\. code-block:: Python\n\n)((?:(?:    .*)?\n)+)", re.M)


def _rewrite_code_blocks(text):
    uses_seed = bool(re.search(r"\brun\.seed\b", text))

    def sub(m):
        body = m.group(2)
        code = "\n".join(ln[4:] for ln in body.split("\n"))
        new = hide_plumbing(code, uses_seed)
        if new.strip() == code.strip():
            return m.group(0)
        if not new.strip():
            return ""
        indented = "\n".join(
            ("    " + ln) if ln.strip() else "" for ln in new.split("\n")
        )
        return m.group(1) + indented.rstrip("\n") + "\n\n"

    return _CODE_BLOCK.sub(sub, text)


def example_page(app, docname, source):
    """source-read of ``examples/<family>/plot_<name>``: hide the plumbing, link the
    section (and Colab), and point the downloads at the standalone files."""
    parts = docname.split("/")
    if not (
        parts[0] == "examples" and len(parts) == 3 and parts[2].startswith("plot_")
    ):
        return
    family, stem = parts[1], parts[2]
    name = stem[len("plot_") :]
    if name not in gallery.examples():
        return
    text = _rewrite_code_blocks(source[0])
    # the back-link (and Colab) right under the title
    try:
        title = gallery.arch_meta(name)["title"]
    except Exception:
        title = None
    m = re.search(
        rf"^\.\. _sphx_glr_examples_{family}_{stem}\.py:\n\n+(.+)\n(=+)\n", text, re.M
    )
    if m and title:
        line = (
            f"\n.. rst-class:: example-backlink\n\n"
            f"   The full example of :ref:`{title} <arch-{name}>` on the page "
            f":doc:`/architectures/{family}`: the section explains the model, its loss "
            f"and its results; this page is the script that made them."
        )
        colab = links.colab_url(app, family, stem)
        if colab:
            line += (
                f" `Open it in Colab <{colab}>`__ (the notebook installs what it "
                f"needs)."
            )
        text = text[: m.end()] + line + "\n" + text[m.end() :]
    # downloads: the standalone files
    for ext in ("ipynb", "py", "zip"):
        text = re.sub(
            rf"(:download:`[^`<]*<){re.escape(stem)}\.{ext}>`",
            rf"\1/_generated/downloads/{family}/{stem}.{ext}>`",
            text,
        )
    source[0] = text
