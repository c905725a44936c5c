"""Copy-complete sections: every section shows its module's import lines before the
code it includes and, after it, a collapsed "Helpers used above" block with every
function, class and constant of the module that the shown objects call (transitively).
Copying a section's code blocks in page order then gives a program with no undefined
name. All of it is generated from the module's source at build time, so it cannot
drift; a name that the shown code uses and that neither the module nor Python defines
fails the build, naming the section and the name.

The analysis is static: ``free_globals`` finds the global names a piece of code reads
(through ``symtable``, so comprehensions, class bodies and nested functions scope as
Python scopes them), and ``ModuleIndex`` maps each top-level name of a module to the
statement that defines it and to the names that statement needs.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import symtable
from pathlib import Path

from docutils import nodes
from sphinx.errors import ExtensionError

BUILTINS = frozenset(dir(builtins)) | {"__name__", "__file__", "__doc__"}


def free_globals(src):
    """The global names that ``src`` reads and does not bind itself (builtins
    excluded)."""
    top = symtable.symtable(src, "<snippet>", "exec")
    bound = {
        s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()
    }
    used = set()

    def walk(table):
        for s in table.get_symbols():
            if table is top:
                if s.is_referenced() and not (s.is_assigned() or s.is_imported()):
                    used.add(s.get_name())
            elif s.is_global() and s.is_referenced():
                used.add(s.get_name())
        for child in table.get_children():
            walk(child)

    walk(top)
    return used - bound - BUILTINS


def bound_names(src):
    """The names that code binds at its top level (definitions, assignments,
    imports)."""
    top = symtable.symtable(src, "<snippet>", "exec")
    return {
        s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()
    }


def _skeleton(node):
    """A definition with every function body replaced by ``pass``: what runs when the
    definition itself runs (decorators, defaults, base classes, class bodies)."""
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
            sub.body = [ast.Pass()]
            sub.returns = None
            for a in sub.args.args + sub.args.kwonlyargs + sub.args.posonlyargs:
                a.annotation = None
    return ast.unparse(node)


def _is_main_guard(stmt):
    return isinstance(stmt, ast.If) and "__main__" in ast.unparse(stmt.test)


class ModuleIndex:
    """A module's import lines and, for each top-level name, the statement that binds
    it, the names it needs when called (``needs``) and when defined (``needs_now``)."""

    def __init__(self, path):
        self.path = Path(path)
        self.source = self.path.read_text(encoding="utf-8")
        tree = ast.parse(self.source, filename=str(path))
        lines = self.source.splitlines()
        self.imports, self.imported = [], set()
        self.defs = {}  # name -> (order, source)
        self.needs, self.needs_now = {}, {}
        for order, stmt in enumerate(tree.body):
            if _is_main_guard(stmt):
                continue
            start = min(
                [stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])]
            )
            seg = "\n".join(lines[start - 1 : stmt.end_lineno])
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self.imports.append(seg)
                self.imported |= bound_names(seg)
                continue
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue  # the module docstring
            names = bound_names(seg)
            now = free_globals(
                _skeleton(stmt)
                if isinstance(stmt, (ast.FunctionDef, ast.ClassDef))
                else seg
            )
            for n in names:
                self.defs[n] = (order, seg)
                self.needs[n] = free_globals(seg)
                self.needs_now[n] = now

    def import_block(self):
        return "\n".join(self.imports)


@functools.cache
def _index(path, mtime):
    return ModuleIndex(path)


def index(path):
    p = Path(path)
    return _index(str(p), p.stat().st_mtime_ns)


class UnresolvedName(Exception):
    pass


def resolve(shown_src, modules):
    """For code shown from ``modules`` (ModuleIndex, in page order): the helpers it
    needs, as ``(first, later)`` lists of ``(module, source)`` in module order:
    ``first`` must run before the shown code is defined (base classes, decorators,
    defaults, constants), ``later`` only before it runs. Raises UnresolvedName listing
    the names no module defines or imports."""
    shown = bound_names(shown_src)
    imported = set().union(*(m.imported for m in modules)) if modules else set()
    owner = {}
    for m in modules:
        for n in m.defs:
            owner.setdefault(n, m)

    needed, now, todo, missing = {}, set(), list(free_globals(shown_src)), set()
    # names the shown code needs when it is defined
    try:
        now_names = free_globals(_skeletons(shown_src))
    except SyntaxError:
        now_names = set()
    todo_now = list(now_names)
    while todo:
        n = todo.pop()
        if n in shown or n in imported or n in needed:
            continue
        m = owner.get(n)
        if m is None:
            missing.add(n)
            continue
        needed[n] = m
        todo.extend(m.needs[n])
    while todo_now:
        n = todo_now.pop()
        if n in shown or n in imported or n in now or n not in needed:
            continue
        now.add(n)
        todo_now.extend(needed[n].needs_now[n])
    if missing:
        raise UnresolvedName(sorted(missing))
    seen, first, later = set(), [], []
    for n, m in sorted(
        needed.items(), key=lambda kv: (modules.index(kv[1]),) + (kv[1].defs[kv[0]][0],)
    ):
        seg = m.defs[n][1]
        if (m.path, seg) in seen:
            continue  # one statement binding several names
        seen.add((m.path, seg))
        (first if n in now else later).append((m, seg))
    return first, later


def _skeletons(src):
    tree = ast.parse(src)
    return "\n".join(_skeleton(s) for s in tree.body)


# -------------------------------------------------------------------- the doctree
# ----


class helpers_details(nodes.General, nodes.Element):
    """A collapsed block (``<details>`` in HTML) holding the helpers' code."""


def visit_details_html(self, node):
    self.body.append(
        self.starttag(node, "details", CLASS="helpers")
        + f"<summary>{self.encode(node['summary'])}</summary>\n"
    )


def depart_details_html(self, node):
    self.body.append("</details>\n")


def visit_details_other(self, node):
    pass


def depart_details_other(self, node):
    pass


def _code(text, source):
    block = nodes.literal_block(text, text, language="python")
    block["source"] = str(source)
    block["classes"].append("generated-snippet")
    return block


def _section_title(section):
    titles = [c for c in section.children if isinstance(c, nodes.title)]
    return titles[0].astext() if titles else "?"


def _arch_sections(doctree):
    for section in doctree.findall(nodes.section):
        for i in section["ids"]:
            if i.startswith("arch-"):
                yield i[len("arch-") :], section
                break


def _code_blocks(section):
    """The Python literal blocks of one architecture section, in page order."""
    out = []
    for block in section.findall(nodes.literal_block):
        lang = block.get("language", "python")
        if lang not in ("python", "python3", "py", "default", "ipython"):
            continue
        out.append(block)
    return out


def complete_sections(app, doctree):
    """doctree-read: add the import block and the helpers to every architecture
    section whose code comes from ``code/``."""
    code_dir = (Path(app.confdir) / "code").resolve()
    docname = app.env.docname
    problems = []
    for name, section in _arch_sections(doctree):
        blocks = _code_blocks(section)
        included = [
            b
            for b in blocks
            if b.get("source") and Path(b["source"]).resolve().is_relative_to(code_dir)
        ]
        if not included:
            continue
        paths = []
        for b in included:
            p = Path(b["source"]).resolve()
            if p not in paths:
                paths.append(p)
        modules = [index(p) for p in paths]
        shown = "\n\n".join(b.astext() for b in blocks)
        try:
            first, later = resolve(shown, modules)
        except UnresolvedName as e:
            title = _section_title(section)
            names = ", ".join(repr(n) for n in e.args[0])
            mods = ", ".join(f"code/{p.name}" for p in paths)
            problems.append(
                f"section '{title}' (arch-{name}): the code it shows uses {names}, "
                f"which {mods} neither defines nor imports (and Python has no such "
                f"builtin), so the section cannot be copied whole"
            )
            continue
        except SyntaxError as e:
            title = _section_title(section)
            problems.append(f"section '{title}' (arch-{name}): cannot parse: {e}")
            continue
        # the import lines (and what the shown code needs when it is defined) first
        head = []
        for m in modules:
            text = m.import_block()
            early = [seg for mm, seg in first if mm is m]
            if early:
                text += "\n\n\n" + "\n\n\n".join(early)
            if text.strip():
                head.append(_code(text, m.path))
        if head:
            cap = nodes.paragraph(classes=["snippet-caption"])
            cap += nodes.Text(
                "Imports of "
                + ", ".join(f"{p.name}" for p in paths)
                + (" (and what the code below needs first)" if first else "")
                + ":"
            )
            anchor = included[0]
            parent = anchor.parent
            i = parent.index(anchor)
            for k, node in enumerate([cap, *head]):
                parent.insert(i + k, node)
        if later:
            details = helpers_details(
                summary=f"Helpers used above ({len(later)}, from "
                + ", ".join(p.name for p in paths)
                + ")"
            )
            for m, seg in later:
                details += _code(seg, m.path)
            last = included[-1]
            parent = last.parent
            parent.insert(parent.index(last) + 1, details)
    if problems:
        raise ExtensionError(
            f"docs/{docname}.rst: "
            + "; ".join(problems)
            + ". Define the name in the module (or import it there), or stop using it."
        )


def reached(idx, names):
    """The top-level names of a module that ``names`` reach through it
    (transitively)."""
    seen, todo = set(), list(names)
    while todo:
        n = todo.pop()
        if n in seen or n not in idx.defs:
            continue
        seen.add(n)
        todo.extend(idx.needs[n])
    return seen
