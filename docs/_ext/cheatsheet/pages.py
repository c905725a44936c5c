"""Page furniture: the module download line, an example's figure, the family toctree,
the bibliography, and the offline MathJax copied into the output."""

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from sphinx.directives.other import TocTree

import _record

from . import gallery


def parse_rst(directive, text):
    node = nodes.container()
    directive.state.nested_parse(
        StringList(text.splitlines(), source="<cheatsheet>"),
        directive.content_offset,
        node,
    )
    return node.children


def gen_dir(app):
    d = Path(app.srcdir) / "_generated"
    d.mkdir(exist_ok=True)
    return d


class ModuleDownload(Directive):
    """``.. module-download:: vae`` with ``:task:``, ``:idea:``, ``:loss:`` (and
    optionally a short ``:title:``): the download link of code/vae.py. The phrases feed
    the front page's table (``gallery.arch_meta`` reads them from the page, so ``make
    html-noplot`` shows them too)."""

    required_arguments = 1
    option_spec = {k: directives.unchanged_required for k in gallery.META_KEYS}

    def run(self):
        env = self.state.document.settings.env
        name = self.arguments[0]
        path = gallery.CODE / f"{name}.py"
        if not path.exists():
            raise self.error(f"module-download: no code/{name}.py")
        env.note_dependency(str(path))
        docdir = Path(env.doc2path(env.docname)).parent
        rel = os.path.relpath(path, docdir)
        lines = len(path.read_text(encoding="utf-8").splitlines())
        text = (
            f".. rst-class:: module-download\n\n"
            f"   :download:`Download {name}.py <{rel}>` ({lines} lines, runs with "
            f"torch "
            f"alone: ``python {name}.py`` trains a few steps on random data). The "
            f"snippets "
            f"below are pulled from it."
        )
        return parse_rst(self, text)


class ExampleFigure(Directive):
    """``.. example-figure:: vae 1``: the k-th figure of the VAE's example (its family
    is found from its name)."""

    required_arguments = 2
    has_content = True
    option_spec = {"alt": directives.unchanged, "width": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        name, k = self.arguments
        if name not in gallery.examples():
            raise self.error(
                f"example-figure: no example named {name!r} (gallery/*/plot_{name}.py)"
            )
        family = gallery.family_of(name)
        rel = f"examples/{family}/images/sphx_glr_plot_{name}_{int(k):03d}.png"
        if not (Path(env.srcdir) / rel).exists():
            if not gallery.plotting(env.app) or (
                _record.only() and name not in _record.only()
            ):
                # the caption stays (its citations and links still resolve)
                caption = "\n".join("   " + c for c in self.content)
                return parse_rst(
                    self,
                    f".. note::\n\n   Figure {k} of ``plot_{name}.py`` appears here "
                    f"once the full build (``make html``) has run it.\n\n{caption}",
                )
            raise self.error(
                f"example-figure: {rel} was not made: does plot_{name}.py draw {k} "
                f"figure(s)?"
            )
        caption = "\n".join("   " + c for c in self.content)
        alt = self.options.get("alt") or (self.content[0] if self.content else name)
        rst = [f".. figure:: /{rel}", f"   :alt: {alt}", "   :class: example-figure"]
        if "width" in self.options:
            rst.append(f"   :width: {self.options['width']}")
        rst += ["", caption] if caption.strip() else []
        return parse_rst(self, "\n".join(rst))


class FamiliesToctree(TocTree):
    """The toctree of the family pages in their fixed order, listing those that exist (a
    family whose page is not written yet is simply not linked, rather than breaking the
    build)."""

    required_arguments = 0
    has_content = False

    def run(self):
        pages = [
            f"architectures/{f}"
            for f in _record.FAMILIES
            if (gallery.DOCS / "architectures" / f"{f}.rst").exists()
        ]
        self.content = StringList(pages, source="families-toctree")
        # the pages themselves (Sphinx counts a folder as a missing file and would
        # read this page again on every build); a page added or removed changes the
        # records state, which reads it again (reread_on_new_records)
        for f in _record.FAMILIES:
            page = gallery.DOCS / "architectures" / f"{f}.rst"
            if page.exists():
                self.env.note_dependency(str(page))
        return super().run()


class Bibliography(Directive):
    """Every family's bibliography (docs/bib/<family>.rst), in the fixed family
    order."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        lines = []
        for f in _record.FAMILIES:
            path = gallery.DOCS / "bib" / f"{f}.rst"
            if path.exists():
                env.note_dependency(str(path))
                lines += path.read_text().splitlines() + [""]
        self.state_machine.insert_input(
            StringList(lines, source="bibliography"), "bibliography"
        )
        return []


def records_state(app):
    """A digest of everything the record-fed pages show besides their own source: each
    (example, seed) record's bytes and whether it is stale, and the phrases of every
    architecture page (the front page lists them), and the extension's own code."""
    from .results import _seed_numbers  # results imports this module

    h = hashlib.sha256()
    for name in gallery.examples():
        for seed in _seed_numbers():
            path = _record.records_dir(seed) / f"{name}.json"
            h.update(f"{name}/{seed}\0".encode())
            if path.exists():
                h.update(path.read_bytes())
                h.update(gallery.current_hash(app.srcdir, name, seed).encode())
    for page in sorted((gallery.DOCS / "architectures").glob("*.rst")):
        h.update(page.name.encode() + page.read_bytes())
    # and the code that turns records into text (Sphinx does not track an extension)
    for src in sorted(Path(__file__).parent.glob("*.py")):
        h.update(src.name.encode() + src.read_bytes())
    return h.hexdigest()


def reread_on_new_records(app, env, added, changed, removed):
    """The pages whose content comes from the records are read again when a record,
    its staleness or an architecture page changed since the last build (a rebuild
    with nothing changed reads nothing)."""
    state = records_state(app)
    if getattr(env, "cheatsheet_records_state", None) == state:
        return []
    env.cheatsheet_records_state = state
    return [
        d
        for d in env.found_docs
        if d in ("index", "results", "references") or d.startswith("architectures/")
    ]


def copy_mathjax(out):
    """MathJax from the django-static-mathjax package, into ``_static/mathjax``."""
    spec = importlib.util.find_spec("mathjax")
    src = Path(spec.submodule_search_locations[0]) / "static" / "mathjax" / "es5"
    dst = Path(out) / "_static" / "mathjax"
    if not (dst / "tex-chtml.js").exists():
        shutil.copytree(src, dst, dirs_exist_ok=True)
