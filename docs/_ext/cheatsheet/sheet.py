"""The printable cheatsheet: ``cheatsheet.html`` (an A4-landscape page written at the
end of the build) and ``cheatsheet.pdf`` (that page printed by headless Chromium).

Every architecture gets a box, family by family: its name, its one-line idea and loss
phrase (from the section's ``module-download``), its loss formula (the first display
equation of the section's "Loss function"), its headline figure as a thumbnail, its
headline number with the target, the seed spread and the verdict (from the records), and
a link to its section. Nothing on it is typed by hand.

``python -m cheatsheet.sheet _build/html`` prints the PDF (``make pdf`` runs it); the
build prints it too when Chromium and Playwright are there (``CHEATSHEET_CHROMIUM`` or
``chromium`` on the PATH).
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import sys
from pathlib import Path
from urllib.parse import urlparse

from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)

SHEET_CSS = """
@page { size: A4 landscape; margin: 7mm 8mm; }
* { box-sizing: border-box; }
html { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 7.6pt; color: #111;
       background: #fff; }
body { margin: 0; }
header { display: flex; justify-content: space-between; align-items: baseline;
         border-bottom: 1.5pt solid #1e3a8a; margin-bottom: 2mm; }
header h1 { font-size: 13pt; margin: 0 0 1mm 0; color: #1e3a8a; }
header p { margin: 0; font-size: 7pt; color: #374151; }
h2 { font-size: 9.5pt; color: #fff; background: #1e3a8a; margin: 1.5mm 0 1.2mm 0;
     padding: 0.6mm 2mm; border-radius: 1mm; break-after: avoid; }
section.family { break-inside: auto; }
.grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 1.6mm; }
.box { border: 0.6pt solid #9ca3af; border-radius: 1.2mm; padding: 1.3mm 1.8mm;
       break-inside: avoid; display: grid; grid-template-columns: 1fr 40mm;
       grid-template-rows: auto auto 1fr auto; column-gap: 1.5mm; height: 45mm;
       overflow: hidden; }
.box h3 { grid-column: 1 / 3; font-size: 8.6pt; margin: 0 0 0.5mm 0; }
.box h3 a { color: #1e3a8a; text-decoration: none; }
.idea { grid-column: 1; grid-row: 2; margin: 0; line-height: 1.25; }
.idea .phrase { display: block; color: #374151; font-style: italic; margin-top: 0.4mm; }
.thumb { grid-column: 2; grid-row: 2; width: 40mm; height: auto; max-height: 17mm;
         object-fit: contain; object-position: top right; justify-self: end; }
.loss { grid-column: 1 / 3; grid-row: 3; overflow: hidden; align-self: center;
        text-align: center; }
.loss svg { max-width: 100%; height: auto; max-height: 13mm; }
.loss mjx-container[display="true"] { margin: 0.4mm 0 !important; }
.num { grid-column: 1 / 3; border-top: 0.4pt solid #d1d5db; padding-top: 0.6mm;
       font-variant-numeric: tabular-nums; line-height: 1.25; }
.pass { color: #166534; font-weight: bold; }
.miss { color: #b91c1c; font-weight: bold; }
.where { color: #4b5563; font-size: 6.4pt; }
.smoke { color: #b91c1c; font-weight: bold; }
"""


def collect_losses(app, doctree):
    """doctree-read: the first display equation after each section's "Loss function"
    rubric."""
    store = getattr(app.env, "cheatsheet_losses", None)
    if store is None:
        store = app.env.cheatsheet_losses = {}
    for section in doctree.findall(nodes.section):
        # docutils turns the label arch-vae_nf into the id arch-vae-nf; the store is
        # keyed by the example's name, vae_nf (no module name has a hyphen)
        name = next(
            (i[5:].replace("-", "_") for i in section["ids"] if i.startswith("arch-")),
            None,
        )
        if not name:
            continue
        seen_rubric = False
        for node in section.findall():
            if isinstance(node, nodes.rubric) and "loss" in node.astext().lower():
                seen_rubric = True
            elif seen_rubric and isinstance(node, nodes.math_block):
                store[name] = node.astext().strip()
                break


def site_url(app):
    """Where the published site lives (for the PDF's links), or None."""
    base = (app.config.html_baseurl or "").rstrip("/")
    if base:
        return base + "/"
    u = urlparse(app.config.cheatsheet_repository or "")
    parts = [p for p in u.path.split("/") if p]
    if u.netloc.lower() == "github.com" and len(parts) >= 2:
        return f"https://{parts[0].lower()}.github.io/{parts[1]}/"
    return None


def _thumb(app, family, name, out):
    from PIL import Image

    src = (
        Path(app.srcdir)
        / "examples"
        / family
        / "images"
        / f"sphx_glr_plot_{name}_001.png"
    )
    if not src.exists():
        return None
    dst = out / "_cheatsheet" / f"{name}.png"
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists() and dst.stat().st_mtime_ns >= src.stat().st_mtime_ns:
        return f"_cheatsheet/{name}.png"  # made from this figure by an earlier build
    with Image.open(src) as im:
        im = im.convert("RGB")
        im.thumbnail((480, 480))
        im.save(dst, optimize=True)
    return f"_cheatsheet/{name}.png"


def _headline(entry):
    from . import results

    rec = entry.record
    if rec is None:
        return "not run in this build"
    m = rec.headline
    parts = [f"<b>{html.escape(m.name)}</b> = {results.fmt(m.value, m.fmt)}"]
    if m.target is not None:
        parts.append(f"target {html.escape(results.target_text(m))}")
    if m.seeds is not None:
        parts.append(f"seeds {html.escape(results.seeds_text(m))}")
    else:
        parts.append("one seed")
    v = {
        "pass": '<span class="pass">pass</span>',
        "MISS": '<span class="miss">MISS</span>',
    }.get(results._record.verdict(m), "")
    text = "; ".join(parts) + (f" &nbsp;{v}" if v else "")
    if rec.stale:
        text += ' <span class="miss">(stale)</span>'
    return text


def write_sheet(app, exception):
    """build-finished: ``cheatsheet.html`` in the output (before the math is
    rendered)."""
    if exception is not None or app.builder.format != "html":
        return
    import _record

    from . import gallery, results

    out = Path(app.outdir)
    entries = results.load(app)
    losses = getattr(app.env, "cheatsheet_losses", {})
    base = site_url(app) or ""
    titles = {}
    for f in _record.FAMILIES:
        page = gallery.DOCS / "architectures" / f"{f}.rst"
        if page.exists():
            titles[f] = page.read_text(encoding="utf-8").splitlines()[0].strip()
    body = []
    smoke = any(e.record and e.record.smoke for e in entries.values())
    commit = next((e.record.commit for e in entries.values() if e.record), None)
    date = next((e.record.date[:10] for e in entries.values() if e.record), "")
    for fam in _record.FAMILIES:
        fam_entries = [e for e in entries.values() if e.family == fam]
        if not fam_entries:
            continue
        body.append(
            f'<section class="family"><h2>{html.escape(titles.get(fam, fam))}</h2>'
            '<div class="grid">'
        )
        for e in fam_entries:
            href = f"{base}architectures/{fam}.html#arch-{e.name.replace('_', '-')}"
            thumb = _thumb(app, fam, e.name, out)
            loss = losses.get(e.name)
            if loss and ("&" in loss or "\\\\" in loss):
                loss = "\\begin{aligned}" + loss + "\\end{aligned}"
            loss_html = (
                f'<div class="math notranslate nohighlight">\\[{html.escape(loss)}\\]'
                "</div>"
                if loss
                else ""
            )
            body.append(
                '<div class="box">'
                f'<h3><a href="{html.escape(href)}">{html.escape(e.title)}</a></h3>'
                f'<p class="idea">{html.escape(e.meta["idea"])}.<span class="phrase">'
                f"Loss: {html.escape(e.meta['loss'])}</span></p>"
                + (
                    f'<img class="thumb" src="{thumb}" alt="headline figure of '
                    f'{html.escape(e.title)}">'
                    if thumb
                    else ""
                )
                + f'<div class="loss">{loss_html}</div>'
                f'<div class="num">{_headline(e)}<br><span class="where">'
                f"{html.escape(href)}</span></div>"
                "</div>"
            )
        body.append("</div></section>")
    note = (
        '<span class="smoke">SMOKE BUILD: numbers mean nothing.</span> '
        if smoke
        else ""
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(app.config.project)}: the printable cheatsheet</title>"
        '<link rel="icon" href="_static/favicon.svg" type="image/svg+xml">'
        f"<style>{SHEET_CSS}</style></head><body>"
        f"<header><h1>{html.escape(app.config.project)}</h1><p>{note}Every "
        "architecture: its idea, its loss, its headline figure and number (with "
        "target, seed spread and verdict) as this build measured them"
        + (f"; commit {html.escape(commit)}, {html.escape(date)}" if commit else "")
        + ". Code MIT, prose and figures CC BY 4.0.</p></header>"
        + "<main>"
        + "".join(body)
        + "</main></body></html>\n"
    )
    (out / "cheatsheet.html").write_text(page, encoding="utf-8")


def print_pdf(outdir, chromium=None):
    """Print ``cheatsheet.html`` to ``cheatsheet.pdf`` with headless Chromium."""
    from playwright.sync_api import sync_playwright

    outdir = Path(outdir).resolve()
    chromium = chromium or chromium_path()
    if not chromium:
        raise RuntimeError(
            "make pdf needs Chromium: install Debian's chromium (apt-get install "
            "chromium) or set CHEATSHEET_CHROMIUM to its path"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--headless", "--no-sandbox", "--disable-gpu"],
        )
        page = browser.new_page()
        page.goto((outdir / "cheatsheet.html").as_uri(), wait_until="load")
        page.pdf(
            path=str(outdir / "cheatsheet.pdf"),
            format="A4",
            landscape=True,
            prefer_css_page_size=True,
            print_background=True,
        )
        browser.close()
    return outdir / "cheatsheet.pdf"


def chromium_path():
    for c in (os.environ.get("CHEATSHEET_CHROMIUM"), shutil.which("chromium")):
        if c and Path(c).exists():
            return c
    return None


def print_after_build(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    if not chromium_path():
        logger.info("[cheatsheet] no Chromium: cheatsheet.pdf not printed (make pdf)")
        return
    try:
        import playwright  # noqa: F401
    except ImportError:
        return
    out = Path(app.outdir)
    stamp = out / ".cheatsheet.sha256"
    digest = hashlib.sha256((out / "cheatsheet.html").read_bytes()).hexdigest()
    if (out / "cheatsheet.pdf").exists() and stamp.exists():
        if stamp.read_text() == digest:
            return  # the page has not changed since it was printed
    pdf = print_pdf(out)
    stamp.write_text(digest)
    logger.info(f"[cheatsheet] printed {pdf.name}")


def setup(app):
    app.connect("doctree-read", collect_losses)
    app.connect("build-finished", write_sheet, priority=600)
    app.connect("build-finished", print_after_build, priority=950)


if __name__ == "__main__":
    path = print_pdf(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    print(f"wrote {path}")
