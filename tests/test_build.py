"""The build: the smoke site builds with -W, results are published, reruns follow dependencies,
failures fail loudly, and every module runs with torch alone."""
import ast
import json
import os
import re
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import ROOT, build, copy_tree

import cheatsheet

ARCH_MODULES = sorted(p.stem for p in (ROOT / "code").glob("*.py")
                      if not p.stem.startswith("_") and p.stem != "toydata")


def records(tree):
    d = tree / "_build" / "records"
    return {p.stem: p.stat().st_mtime_ns for p in d.glob("*.json")}


def test_smoke_build_passes_with_warnings_as_errors(smoke_site):
    tree, proc = smoke_site
    problems = [ln for ln in proc.stdout.splitlines()
                if "WARNING" in ln or "ERROR" in ln or "Error" in ln]
    assert proc.returncode == 0, "\n".join(problems[:40]) + "\n...\n" + proc.stdout[-3000:]
    assert "build succeeded" in proc.stdout


def test_every_example_recorded_and_published(smoke_site):
    tree, proc = smoke_site
    assert proc.returncode == 0, proc.stdout[-3000:]
    names = set(cheatsheet.examples())
    assert names, "no gallery examples found"
    data = json.loads((tree / "_build" / "html" / "results.json").read_text())
    assert {r["name"] for r in data} == names
    for r in data:
        assert r["smoke"] is True and r["device"] in ("cpu", "cuda", "mps")
        assert isinstance(r["threads"], int) and r["threads"] >= 1   # CPU numbers depend on it
        assert isinstance(r["seconds"], (int, float)) and r["seconds"] >= 0
        assert r["metrics"], r["name"]
        for m in r["metrics"]:
            assert set(m) >= {"name", "value", "target", "baseline", "higher_is_better", "passed"}
            if m["target"] is None:
                assert m["passed"] is None
            else:
                ok = m["value"] >= m["target"] if m["higher_is_better"] else m["value"] <= m["target"]
                assert m["passed"] is ok
    page = (tree / "_build" / "html" / "results.html").read_text()
    for r in data:
        assert r["title"] in page


def test_each_example_page_says_its_device(smoke_site):
    tree, _ = smoke_site
    for name, (family, path) in cheatsheet.examples().items():
        html = (tree / "_build" / "html" / "examples" / family / f"{path.stem}.html").read_text()
        assert re.search(r"Running on: (cpu|cuda|mps)", html), name


def test_smoke_numbers_are_labelled_as_smoke(smoke_site):
    """A smoke build's numbers mean nothing: the front page and the results page must say so."""
    tree, _ = smoke_site
    for page in ("index.html", "results.html"):
        html = (tree / "_build" / "html" / page).read_text()
        assert "Smoke build." in html, page


def test_each_example_module_has_a_section(smoke_site):
    """Every architecture in the gallery has a section (label arch-<name>) that pulls its code."""
    tree, _ = smoke_site
    pages = " ".join(p.read_text() for p in (ROOT / "docs" / "architectures").glob("*.rst"))
    for name in cheatsheet.examples():
        assert f".. _arch-{name}:" in pages, name
        assert f"code/{name}.py" in pages, name


def test_rebuild_without_change_reruns_nothing_and_edit_reruns_dependents(smoke_site):
    tree, proc = smoke_site
    assert proc.returncode == 0, proc.stdout[-3000:]
    before = records(tree)
    again = build(tree)
    assert again.returncode == 0, again.stdout[-3000:]
    assert records(tree) == before, "a rebuild with no change reran examples"
    assert re.search(r"executed 0 out of \d+", again.stdout), again.stdout[-2000:]

    target = "vae" if (tree / "code" / "vae.py").exists() else ARCH_MODULES[0]
    expected = {name for name, (_, p) in cheatsheet.examples().items()
                if f"{target}.py" in {d.name for d in cheatsheet.dependencies(p)}}
    assert expected, f"no example imports {target}"
    time.sleep(1.1)
    with open(tree / "code" / f"{target}.py", "a") as f:
        f.write("\n# an edit\n")
    third = build(tree)
    assert third.returncode == 0, third.stdout[-3000:]
    after = records(tree)
    rerun = {n for n in after if after[n] != before.get(n)}
    assert rerun == expected


def _mini_tree(tmp_path, example_body, page_extra=""):
    """A one-example site: conf.py, the extension, one family page."""
    tree = copy_tree(tmp_path)
    for d in (tree / "gallery").iterdir():
        if d.is_dir():
            for p in d.glob("plot_*.py"):
                p.unlink()
    (tree / "gallery" / "basics").mkdir(exist_ok=True)
    (tree / "gallery" / "basics" / "README.txt").write_text("Basics\n======\n\nx\n")
    (tree / "gallery" / "basics" / "plot_tiny.py").write_text(example_body)
    (tree / "code" / "tiny.py").write_text("class Tiny:\n    pass\n")
    docs = tree / "docs"
    (docs / "index.rst").write_text(
        "Mini\n====\n\n.. toctree::\n\n   page\n   examples/index\n   results\n")
    (docs / "page.rst").write_text(textwrap.dedent("""\
        Page
        ====

        .. _arch-tiny:

        Tiny
        ----

        .. literalinclude:: ../code/tiny.py
           :pyobject: Tiny
        """) + page_extra)
    for p in ("references.rst", "building.rst"):
        (docs / p).unlink()
    for p in (docs / "architectures").glob("*.rst"):
        p.unlink()
    return tree


GOOD = '''"""
Tiny
====

A tiny example.
"""
from _example import start

run = start("tiny", title="Tiny", task="t", idea="i", loss="l")
run.metric("x", 1.0, target=0.5)
run.finish()
'''


def test_failing_example_fails_the_build_and_names_the_file(tmp_path):
    tree = _mini_tree(tmp_path, GOOD.replace("run.finish()", "raise RuntimeError('boom')"))
    proc = build(tree, timeout=300)
    assert proc.returncode != 0
    assert "plot_tiny.py" in proc.stdout and "boom" in proc.stdout


def test_example_without_record_fails_the_build(tmp_path):
    tree = _mini_tree(tmp_path, GOOD.replace("run.finish()", ""))
    proc = build(tree, timeout=300)
    assert proc.returncode != 0
    assert "plot_tiny.py" in proc.stdout and "no metrics record" in proc.stdout


def test_lost_literalinclude_target_fails_the_build(tmp_path):
    tree = _mini_tree(tmp_path, GOOD, page_extra=(
        "\n.. literalinclude:: ../code/tiny.py\n   :pyobject: Gone\n"))
    proc = build(tree, timeout=300)
    assert proc.returncode != 0
    assert "Gone" in proc.stdout


def test_mini_site_builds(tmp_path):
    """The control for the three failure tests above: the same tree, unbroken, builds."""
    proc = build(_mini_tree(tmp_path, GOOD), timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]


@pytest.mark.parametrize("name", ARCH_MODULES)
def test_module_imports_only_torch_math_numpy(name):
    tree = ast.parse((ROOT / "code" / f"{name}.py").read_text())
    allowed = {"torch", "math", "numpy", "__future__", "typing", "dataclasses", "collections",
               "random"}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module.split(".")[0])
    # imports inside the __main__ block may use more (an environment, say), never code/ modules
    main_imports = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import):
                    main_imports.update(a.name.split(".")[0] for a in sub.names)
                elif isinstance(sub, ast.ImportFrom) and sub.level == 0:
                    main_imports.add(sub.module.split(".")[0])
    code_modules = {p.stem for p in (ROOT / "code").glob("*.py")}
    assert not (found & code_modules), f"{name}.py imports another code/ module"
    assert found - main_imports <= allowed, f"{name}.py imports {found - main_imports - allowed}"


@pytest.mark.parametrize("name", ARCH_MODULES)
def test_module_runs_on_its_own(name, tmp_path):
    """``python code/<name>.py`` in a folder holding only that file trains a few steps."""
    (tmp_path / f"{name}.py").write_bytes((ROOT / "code" / f"{name}.py").read_bytes())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CHEATSHEET_SMOKE")}
    proc = subprocess.run([sys.executable, f"{name}.py"], cwd=tmp_path, env=env, timeout=120,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "loss" in proc.stdout.lower(), proc.stdout[-500:]
