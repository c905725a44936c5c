"""The built site in a real browser: Playwright driving Debian's Chromium against the
smoke build served on localhost (and opened from disk).

Without Chromium these tests skip with one line saying how to enable them."""

import ast
import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import ROOT

CHROMIUM = (
    os.environ.get("CHEATSHEET_CHROMIUM")
    or shutil.which("chromium")
    or "/usr/bin/chromium"
)
if not os.path.exists(CHROMIUM):
    pytest.skip(
        "browser tests skipped: Chromium not found; install Debian's chromium "
        "(apt-get install chromium) or set CHEATSHEET_CHROMIUM to its path to run them",
        allow_module_level=True,
    )

playwright_api = pytest.importorskip("playwright.sync_api")

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(smoke_site):
    tree, proc = smoke_site
    assert proc.returncode == 0, "the smoke build failed: see test_build.py"
    html = tree / "_build" / "html"
    handler = functools.partial(_Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield html, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def context(browser):
    ctx = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    yield ctx
    ctx.close()


def pages(html):
    return sorted(
        str(p.relative_to(html))
        for p in html.rglob("*.html")
        if "_static" not in p.parts and "_sources" not in p.parts
    )


def visit(page, url):
    """Load a page, collect console errors and failed requests, wait for every image."""
    errors = []
    page.on(
        "console",
        lambda m: (
            errors.append(f"{m.text} [{m.location.get('url')}]")
            if m.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a request cut off by leaving the previous page (net::ERR_ABORTED) is not a failure
    # of the site; a missing file shows up as an HTTP error below
    page.on(
        "requestfailed",
        lambda r: (
            None
            if "ERR_ABORTED" in (r.failure or "")
            else errors.append(f"request failed: {r.url} ({r.failure})")
        ),
    )
    page.on(
        "response",
        lambda r: (
            errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None
        ),
    )
    page.goto(url, wait_until="networkidle")
    page.evaluate("""async () => {
        for (const img of document.images) { img.loading = 'eager'; }
        await Promise.all(Array.from(document.images).map(img => img.complete ? null :
            new Promise(r => { img.onload = img.onerror = r; })));
    }""")
    return errors


def broken_images(page):
    return page.evaluate(
        "Array.from(document.images).filter(i => !(i.complete && "
        "i.naturalWidth > 0)).map(i => i.getAttribute('src'))"
    )


def test_every_page_loads_without_console_errors_and_with_all_images(site, context):
    html, base = site
    page = context.new_page()
    hosts = set()
    page.on("request", lambda r: hosts.add(urlparse(r.url).hostname))
    problems = {}
    for rel in pages(html):
        errors = visit(page, f"{base}/{rel}")
        bad = broken_images(page)
        if errors or bad:
            problems[rel] = dict(errors=errors, images=bad)
    assert not problems, problems
    hosts.discard(None)
    assert hosts <= {"127.0.0.1", "localhost"}, (
        f"requests to other hosts: {hosts - {'127.0.0.1'}}"
    )


def test_math_renders_offline(site, context):
    html, base = site
    page = context.new_page()
    visit(page, f"{base}/architectures/latent_variable.html")
    page.wait_for_selector("mjx-container", timeout=15000)
    assert page.locator("mjx-container").count() > 0


def _first_pyobject_include():
    """(page html path, module, object) of the first ``:pyobject:`` literalinclude,
    preferring the VAE's loss."""
    pref = ROOT / "docs" / "architectures" / "latent_variable.rst"
    candidates = ([pref] if pref.exists() else []) + sorted(
        (ROOT / "docs" / "architectures").glob("*.rst")
    )
    for rst in candidates:
        m = re.search(
            r"literalinclude:: \.\./\.\./code/(\w+)\.py\s*\n\s*:pyobject: (\w+)",
            rst.read_text(),
        )
        if m:
            return f"architectures/{rst.stem}.html", m.group(1), m.group(2)
    pytest.fail("no :pyobject: literalinclude on any architecture page")


def _source_of(module, obj):
    src = (ROOT / "code" / f"{module}.py").read_text()
    for node in ast.parse(src).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == obj:
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            return "\n".join(src.splitlines()[start - 1 : node.end_lineno])
    raise LookupError(obj)


def test_copy_button_copies_exactly_the_included_source(site, context):
    html, base = site
    page_path, module, obj = _first_pyobject_include()
    page = context.new_page()
    visit(page, f"{base}/{page_path}")
    block = (
        page.locator("div.highlight")
        .filter(has_text=re.compile(rf"(def|class) {obj}\b"))
        .first
    )
    block.hover()
    block.locator("button.copybtn").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.rstrip("\n") == _source_of(module, obj).rstrip("\n")


def test_every_section_links_its_module_for_download(site, context):
    html, base = site
    page = context.new_page()
    for rst in sorted((ROOT / "docs" / "architectures").glob("*.rst")):
        names = re.findall(r"^\.\. module-download:: (\w+)", rst.read_text(), re.M)
        visit(page, f"{base}/architectures/{rst.stem}.html")
        for name in names:
            link = page.locator(f"a.download[href$='/{name}.py']")
            assert link.count() == 1, (rst.stem, name)
            resp = context.request.get(
                f"{base}/architectures/" + link.get_attribute("href")
            )
            assert (
                resp.ok and resp.body() == (ROOT / "code" / f"{name}.py").read_bytes()
            )


def test_search_for_variational_finds_the_vae_section(site, context):
    html, base = site
    page = context.new_page()
    visit(page, f"{base}/search.html?q=variational")
    page.wait_for_selector("#search-results ul.search li", timeout=20000)
    links = page.eval_on_selector_all(
        "#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))"
    )
    assert any("latent_variable" in (h or "") for h in links), links


def test_dark_mode_toggle_changes_the_colours(site, context):
    html, base = site
    page = context.new_page()
    visit(page, f"{base}/index.html")
    colour = lambda: page.evaluate("getComputedStyle(document.body).backgroundColor")  # noqa: E731
    before = colour()
    seen = {before}
    for _ in range(3):  # furo cycles auto -> dark -> light
        page.locator("button.theme-toggle >> visible=true").first.click()
        seen.add(colour())
    assert len(seen) >= 2, seen


def test_mobile_layout_has_no_sideways_scroll(site, browser):
    html, base = site
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = ctx.new_page()
    for rel in ("index.html", "architectures/latent_variable.html", "results.html"):
        if not (html / rel).exists():
            continue
        visit(page, f"{base}/{rel}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 1, (rel, overflow)
    ctx.close()


def test_site_works_opened_from_disk(site, context):
    html, _ = site
    page = context.new_page()
    for rel in ("index.html", "results.html"):
        errors = visit(page, (html / rel).as_uri())
        assert not errors, (rel, errors)
        assert not broken_images(page), rel


def test_included_code_fits_the_column_at_1280_px(site, browser):
    """No code block on an architecture page scrolls sideways in a 1280 px window (ruff
    keeps every line of code/ within 88 columns; the column holds 90)."""
    html, base = site
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    wide = {}
    for rel in sorted(p.name for p in (html / "architectures").glob("*.html")):
        visit(page, f"{base}/architectures/{rel}")
        n = page.evaluate(
            "Array.from(document.querySelectorAll('article div.highlight pre'))"
            ".filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.textContent"
            ".split('\\n').reduce((a, b) => a.length >= b.length ? a : b))"
        )
        if n:
            wide[rel] = n[:3]
    ctx.close()
    assert not wide, wide


AXE = (
    Path(os.environ.get("CHEATSHEET_NODE_MODULES") or ROOT / "node_modules")
    / "axe-core"
    / "axe.min.js"
)


def axe_violations(page):
    """axe-core's violations on the page: ``[(impact, rule, count, target), ...]``."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']}))"
        ".violations.map(v => [v.impact, v.id, v.nodes.length, "
        "v.nodes[0].target.join(' ')])"
    )
    return [tuple(v) for v in found]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_no_critical_or_serious_accessibility_violations(site, browser, theme):
    """axe-core (npm, pinned) on every page of the site in the light and the dark theme
    finds no critical or serious violation. Seen to fail on the theme's defaults:
    sidebar captions with role="heading" and no aria-level, code blocks that scroll
    but cannot be focused, the red MISS at 3.8:1 on the dark background."""
    if not AXE.exists():
        pytest.skip(f"axe-core not installed ({AXE}): run npm ci (make node)")
    html, base = site
    ctx = browser.new_context()
    ctx.add_init_script(f"localStorage.setItem('theme', '{theme}')")
    page = ctx.new_page()
    bad = {}
    for rel in pages(html):
        page.goto(f"{base}/{rel}", wait_until="load")
        if rel != "cheatsheet.html":  # the print page has no theme of its own
            assert page.evaluate("document.body.dataset.theme") == theme
        serious = [v for v in axe_violations(page) if v[0] in ("critical", "serious")]
        if serious:
            bad[rel] = serious
    ctx.close()
    assert not bad, bad
