"""The reader's side, on the built site: sections whose code copies whole, downloads
that run in an empty folder, example pages that link back and hide the site's plumbing,
links from one repository address, the licence, and the printable cheatsheet."""

import builtins
import json
import os
import re
import shutil
import subprocess
import symtable
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from cheatsheet import downloads, gallery
from conftest import ROOT, build
from test_build import GOOD, _mini_tree

BUILTINS = set(dir(builtins)) | {"__name__", "__file__"}


def free_names(src):
    """Global names a program reads and never binds (builtins aside): what stops it
    with NameError. An independent check of the build's own analysis."""
    top = symtable.symtable(src, "<section>", "exec")
    bound = {
        s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()
    }
    used = set()

    def walk(t):
        for s in t.get_symbols():
            top_level = t is top and not (s.is_assigned() or s.is_imported())
            if s.is_referenced() and (top_level or (t is not top and s.is_global())):
                used.add(s.get_name())
        for c in t.get_children():
            walk(c)

    walk(top)
    return used - bound - BUILTINS


def html_id(name):
    """The id HTML gives the label ``arch-<name>`` (docutils turns _ into -)."""
    return "arch-" + name.replace("_", "-")


def ids_to_names():
    return {html_id(n): n for n in gallery.examples()}


def sections(html_dir):
    """``{name: (page, [code block text in page order])}`` of every architecture
    section of the built family pages."""
    out = {}
    for page in sorted((html_dir / "architectures").glob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for sec in soup.find_all("section"):
            ids = [sec.get("id", "")] + [
                s.get("id", "") for s in sec.find_all("span", recursive=False)
            ]
            name = next(
                (ids_to_names().get(i) for i in ids if i in ids_to_names()), None
            )
            if not name:
                continue
            blocks = [
                pre.get_text()
                for pre in sec.select(
                    "div.highlight-python pre, div.highlight-default pre"
                )
            ]
            out[name] = (page.name, blocks)
    return out


def test_every_section_is_copy_complete(smoke_site):
    """Copying a section's code blocks in page order gives a program with no undefined
    name, whose definitions run (torch and the module's imports only). Fails if a
    section shows an object that calls a helper the page does not show (the state
    before: `random_shift` in the CNN, `double_conv` in the U-Net, ...), or shows a
    class before the base class it needs."""
    tree, proc = smoke_site
    assert proc.returncode == 0, proc.stdout[-3000:]
    found = sections(tree / "_build" / "html")
    assert set(found) >= set(gallery.examples()), set(gallery.examples()) - set(found)
    problems = {n: sorted(free_names("\n\n".join(b))) for n, (_, b) in found.items()}
    problems = {n: v for n, v in problems.items() if v}
    complete = len(found) - len(problems)
    print(f"copy-complete sections: {complete}/{len(found)}")
    assert not problems, problems
    # the definitions run: each section's program in a fresh namespace
    programs = {n: "\n\n".join(b) for n, (_, b) in found.items()}
    runner = textwrap.dedent("""\
        import json, sys, traceback
        progs = json.load(sys.stdin)
        bad = {}
        for name, src in progs.items():
            try:
                exec(compile(src, name, "exec"), {"__name__": "section_" + name})
            except Exception:
                bad[name] = traceback.format_exc(limit=1)[-400:]
        print(json.dumps(bad))
        """)
    run = subprocess.run(
        [sys.executable, "-c", runner],
        input=json.dumps(programs),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tree,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    bad = json.loads(run.stdout.strip().splitlines()[-1])
    assert not bad, bad


def test_free_name_check_catches_a_missing_helper():
    """The control of the check above: a function calling a helper that is not there
    is reported; one whose helper follows it is not."""
    assert free_names("def f(x):\n    return g(x)\n") == {"g"}
    assert (
        free_names("def f(x):\n    return g(x)\n\ndef g(x):\n    return x\n") == set()
    )
    assert (
        free_names("import torch\nclass A(torch.nn.Module):\n    k = len([1])\n")
        == set()
    )


TINY_HELPERS = '''"""A tiny module."""
import math

SCALE = 2.0


def helper(x):
    return math.sqrt(x) * SCALE


class Tiny:
    def f(self, x):
        return helper(x)
'''


def test_section_whose_helper_cannot_be_resolved_fails_the_build(tmp_path):
    """Fails if the build lets a section show code that calls a name its module
    neither defines nor imports: the build must stop, naming the section and the
    name."""
    tree = _mini_tree(tmp_path, GOOD)
    (tree / "code" / "tiny.py").write_text(
        "class Tiny:\n    def f(self, x):\n        return missing_helper(x)\n"
    )
    proc = build(tree, timeout=300)
    assert proc.returncode != 0
    assert "section 'Tiny'" in proc.stdout and "'missing_helper'" in proc.stdout, (
        proc.stdout[-2000:]
    )


def test_section_shows_imports_and_collapsed_helpers(tmp_path):
    """The control: the same section, its helper defined in the module, builds; the
    page shows the module's imports before the class and the helper and constant it
    uses in a collapsed block after it."""
    tree = _mini_tree(tmp_path, GOOD)
    (tree / "code" / "tiny.py").write_text(TINY_HELPERS)
    proc = build(tree, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    page = (tree / "_build/html/architectures/basics.html").read_text()
    soup = BeautifulSoup(page, "html.parser")
    blocks = [p.get_text() for p in soup.select("div.highlight pre")]
    assert blocks[0].strip() == "import math"
    assert "class Tiny" in blocks[1]
    details = soup.select_one("details.helpers")
    assert details is not None and "Helpers used above" in details.get_text()
    shown = details.get_text()
    assert "def helper" in shown and "SCALE = 2.0" in shown
    assert free_names("\n".join(blocks)) == set()


def test_repository_url_that_is_not_a_url_fails_the_build(tmp_path):
    tree = _mini_tree(tmp_path, GOOD)
    proc = build(tree, extra_args=["-D", "cheatsheet_repository=my fork"], timeout=300)
    assert proc.returncode != 0
    assert "cheatsheet_repository = 'my fork' is not a repository URL" in proc.stdout


def test_links_follow_the_repository_address(tmp_path):
    """With an address every page links its source and a prefilled issue, and the
    example opens in Colab from the notebooks branch; without one there are none."""
    tree = _mini_tree(tmp_path, GOOD)
    repo = "https://github.com/someone/dl-cheatsheet"
    proc = build(tree, extra_args=["-D", f"cheatsheet_repository={repo}"], timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:]
    html = tree / "_build" / "html"
    page = BeautifulSoup(
        (html / "architectures/basics.html").read_text(), "html.parser"
    )
    hrefs = {a.get_text(): a["href"] for a in page.select("nav.page-links a")}
    assert hrefs["View source"] == f"{repo}/blob/main/docs/architectures/basics.rst"
    assert hrefs["Report a problem"].startswith(f"{repo}/issues/new?title=")
    assert "architectures%2Fbasics.html" in hrefs["Report a problem"]
    ex = BeautifulSoup(
        (html / "examples/basics/plot_tiny.html").read_text(), "html.parser"
    )
    links = {a.get_text(): a["href"] for a in ex.select("nav.page-links a")}
    assert links["Open in Colab"] == (
        "https://colab.research.google.com/github/someone/dl-cheatsheet/blob/"
        "notebooks/basics/plot_tiny.ipynb"
    )
    assert links["View source"].endswith("/blob/main/gallery/basics/plot_tiny.py")
    assert (html / "notebooks/basics/plot_tiny.ipynb").exists()
    assert "MIT licence" in page.get_text() and "CC BY 4.0" in page.get_text()

    plain = build(tree, timeout=300)
    assert plain.returncode == 0, plain.stdout[-3000:]
    text = (html / "architectures/basics.html").read_text()
    assert "page-links" not in text and "colab" not in text.lower()


# ------------------------------------------------------------------- the examples
# ----


def example_pages(html_dir):
    for name, (family, path) in gallery.examples().items():
        yield name, family, html_dir / "examples" / family / f"{path.stem}.html"


def test_every_example_links_back_to_its_section(smoke_site):
    tree, _ = smoke_site
    html = tree / "_build" / "html"
    missing = []
    for name, family, page in example_pages(html):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        back = soup.select_one(".example-backlink a")
        if not back or not back["href"].endswith(f"{family}.html#{html_id(name)}"):
            missing.append(name)
    assert not missing, missing


def test_example_pages_hide_the_plumbing_and_keep_the_table(smoke_site):
    """The rendered code reads as plain PyTorch: no record calls, no smoke switch; the
    printed metrics table stays. Fails if the page shows `run = start(...)`,
    `run.metric(...)`, `scale(...)` or `if SMOKE:`."""
    tree, _ = smoke_site
    html = tree / "_build" / "html"
    shown = []
    for name, _family, page in example_pages(html):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        code = "\n".join(p.get_text() for p in soup.select("div.highlight-Python pre"))
        for bad in (r"run = start\(", r"\brun\.", r"(?<![\w.])scale\(", r"\bSMOKE\b"):
            if re.search(bad, code):
                shown.append((name, bad))
        out = soup.get_text()
        assert "(* the headline metric)" in out, name
    assert not shown, shown


def _downloads(page):
    """The .py and .ipynb files an example page offers, as the site serves them."""
    soup = BeautifulSoup(page.read_text(), "html.parser")
    found = {}
    for a in soup.select("a.download"):
        href = a["href"]
        for ext in (".py", ".ipynb"):
            if href.endswith(ext):
                found[ext] = (page.parent / href).resolve()
    return found


def notebook_as_script(nb_path, folder):
    """Run a notebook's cells as Jupyter would, without Jupyter: ``%%writefile`` cells
    write their file, ``%pip`` lines are left out (the packages are installed here;
    the test checks the pins instead), the rest runs in order."""
    nb = json.loads(Path(nb_path).read_text())
    code, pips = [], []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"])
        if src.startswith("%%writefile "):
            first, _, body = src.partition("\n")
            (folder / first.split()[1]).write_text(body)
            continue
        lines = []
        for ln in src.splitlines():
            if ln.startswith("%pip "):
                pips.append(ln)
            elif ln.startswith(("%", "!")):
                continue
            else:
                lines.append(ln)
        code.append("\n".join(lines))
    return "\n\n".join(code), pips


def _run(script, folder):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH",) and not k.startswith("CHEATSHEET_")
    }
    env.update(CHEATSHEET_SMOKE="1", MPLBACKEND="Agg", OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, script],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=900,
    )


@pytest.mark.timeout(3600)  # 76 smoke runs: about 8 minutes on two free cores
def test_every_download_runs_in_an_empty_folder(smoke_site, tmp_path):
    """Each example's .py and .ipynb, as the built site serves them, run in a folder
    holding nothing else (smoke mode), and the notebook's first cell pins every
    package its code imports. Fails for sphinx-gallery's own downloads, which stop at
    `ModuleNotFoundError: No module named '_example'`."""
    tree, proc = smoke_site
    assert proc.returncode == 0, proc.stdout[-3000:]
    html = tree / "_build" / "html"
    jobs = []
    for name, _family, page in example_pages(html):
        found = _downloads(page)
        assert set(found) == {".py", ".ipynb"}, (name, found)
        for ext, src in found.items():
            d = tmp_path / f"{name}{ext.replace('.', '-')}"
            d.mkdir()
            if ext == ".py":
                shutil.copy(src, d / src.name)
                jobs.append((name, ext, d, src.name))
            else:
                script, pips = notebook_as_script(src, d)
                (d / "notebook.py").write_text(script)
                pinned = {
                    p.split("==")[0].lower() for ln in pips for p in ln.split()[2:]
                }
                path = gallery.examples()[name][1]
                need = {n.lower() for n, _, _ in downloads.requirements(path)}
                assert need <= pinned and "torch" in pinned, (name, need - pinned)
                jobs.append((name, ext, d, "notebook.py"))
    with ThreadPoolExecutor(max_workers=max(1, len(os.sched_getaffinity(0)))) as pool:
        results = list(pool.map(lambda j: (j, _run(j[3], j[2])), jobs))
    failed = {
        f"{j[0]}{j[1]}": r.stdout[-1500:]
        for j, r in results
        if r.returncode != 0 or "(* the headline metric)" not in r.stdout
    }
    print(
        f"downloads that run in an empty folder: {len(jobs) - len(failed)}/{len(jobs)}"
    )
    assert not failed, failed


def test_sphinx_gallerys_own_download_would_not_run(tmp_path):
    """The control of the test above: the example file alone (what sphinx-gallery
    offers) fails in an empty folder, so the test can tell."""
    name, (family, path) = next(iter(gallery.examples().items()))
    shutil.copy(path, tmp_path / path.name)
    proc = _run(path.name, tmp_path)
    assert proc.returncode != 0 and "ModuleNotFoundError" in proc.stdout


# ------------------------------------------------------------- sections and licence
# ----


@pytest.mark.xfail(
    reason="the evidence helpers add the rubric to their sections; remove this mark "
    "once their branches are merged",
    strict=False,
)
def differences_missing(rst_text):
    """The sections of a family page without a "Differences from the paper" rubric
    followed by a list (before the next directive)."""
    missing = []
    parts = re.split(r"^\.\. _arch-(\w+):", rst_text, flags=re.M)
    for name, body in zip(parts[1::2], parts[2::2]):
        m = re.search(
            r"^\.\. rubric:: Differences from the paper\n\n(.*?)(?=^\.\. |\Z)",
            body,
            re.M | re.S,
        )
        if not m or not re.match(r"\s*[-*] \S", m.group(1)):
            missing.append(name)
    return missing


def test_differences_check_tells_a_list_from_none():
    """The control: a rubric with a list passes, a missing rubric or one with prose
    only does not (the first version of the check failed every section, lists
    included, because a list item starts at column 0)."""
    good = (
        ".. _arch-a:\n\nA\n-\n\n.. rubric:: Differences from the paper\n\n"
        "- one\n- two\n"
    )
    prose = good.replace("- one\n- two", "Nothing changed.")
    assert differences_missing(good) == []
    assert differences_missing(prose) == ["a"]
    assert differences_missing(good.replace("Differences from", "Notes on")) == ["a"]


def test_every_section_has_differences_from_the_paper():
    missing = []
    for rst in sorted((ROOT / "docs" / "architectures").glob("*.rst")):
        missing += [f"{rst.stem}/{n}" for n in differences_missing(rst.read_text())]
    assert not missing, (
        f"sections without a 'Differences from the paper' list: {missing}"
    )


def test_licence_and_citation():
    lic = (ROOT / "LICENSE").read_text()
    assert "MIT License" in lic and "CC BY 4.0" in lic or "Attribution 4.0" in lic
    cff = (ROOT / "CITATION.cff").read_text()
    assert re.search(r"^cff-version: 1\.2\.0$", cff, re.M)
    for key in ("title:", "authors:", "license:", "message:"):
        assert key in cff, key


def test_printable_cheatsheet(smoke_site):
    """The build writes cheatsheet.html with a box per architecture (its loss formula
    rendered, its headline and its link) and, with Chromium, cheatsheet.pdf: A4
    landscape, a few pages; the front page links it."""
    tree, _ = smoke_site
    html = tree / "_build" / "html"
    soup = BeautifulSoup((html / "cheatsheet.html").read_text(), "html.parser")
    boxes = soup.select("div.box")
    assert len(boxes) == len(gallery.examples())
    for box in boxes:
        assert box.select_one("h3 a")["href"].endswith(
            tuple(f"#{html_id(n)}" for n in gallery.examples())
        )
        assert box.select_one(".num b"), box.get_text()[:80]
    # every section's "Loss function" has a display equation, so every box shows one
    # (failed when the boxes were looked up by vae_nf and the sections stored as
    # vae-nf: the nine names with an underscore had none, and 34/43 passed a 3/4 bar)
    no_math = [
        b.select_one("h3").get_text()
        for b in boxes
        if not b.select_one("mjx-container, div.math")
    ]
    assert not no_math, no_math
    assert all(b.select_one(".phrase") for b in boxes)
    index = (html / "index.html").read_text()
    assert 'href="cheatsheet.pdf"' in index
    pdf = html / "cheatsheet.pdf"
    if not pdf.exists():
        pytest.skip("no Chromium: cheatsheet.pdf not printed")
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 2 <= pages <= 8, pages
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    w, h = float(box.group(1)), float(box.group(2))
    assert abs(w - 842) < 2 and abs(h - 595) < 2, (w, h)  # A4 landscape, in points


def test_family_pages_are_light(smoke_site):
    """Every image of a family page has its width and height (no layout shift), all
    but the first load lazily, raster figures are WebP; with the npm packages
    installed the math is SVG made at build time and no page loads MathJax. Fails
    for the pages before: eight full-size PNGs loaded eagerly and 1.2 MB of MathJax."""
    from cheatsheet import fast

    tree, _ = smoke_site
    html = tree / "_build" / "html"
    prerendered = fast.node_modules(ROOT) is not None
    for page in sorted((html / "architectures").glob("*.html")):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        imgs = soup.select("article img")
        assert imgs, page.name
        for i, img in enumerate(imgs):
            assert img.get("width") and img.get("height"), (page.name, img["src"])
            assert (img.get("loading") == "lazy") == (i > 0), (page.name, img["src"])
            assert not img["src"].endswith(".png"), (page.name, img["src"])
        if prerendered:
            assert not soup.select('script[src*="mathjax"]'), page.name
            assert soup.select("mjx-container svg"), page.name
