"""Accessibility fixes to the theme's markup, made as each page is written:

- the sidebar's and the toctrees' captions carry ``role="heading"`` without the
  ``aria-level`` a heading role needs: they get level 2;
- code blocks, wide tables and wide display math scroll sideways inside their own box:
  each such box is focusable (``tabindex="0"``), so a keyboard can scroll it;
- docutils marks the bibliography ``role="list"`` though its entries are not list
  items: the role goes;
- sphinx-gallery's thumbnail links hide their text behind the card: they get it as
  ``aria-label``.

Colours that fail contrast in the dark theme are fixed in ``_static/cheatsheet.css``.
"""

from __future__ import annotations

import re

_HEADING = re.compile(r'role="heading"(?![^>]*aria-level)')
_CITATIONS = re.compile(r'<div role="list" class="citation-list">')
_PRE = re.compile(r"<pre(?=[ >])(?![^>]*tabindex)")
_THUMB = re.compile(
    r'(<img alt="" [^>]*src="[^"]*_thumb[^"]*"[^>]*/>\s*(?:</a>\s*)?<p>)'
    r'<a class="reference internal" '
    r'href="([^"]+)"><span class="doc">([^<]+)</span></a>'
)
_WRAPPER = re.compile(r'<div class="table-wrapper(?P<rest>[^"]*)"(?![^>]*tabindex)')


def fix_markup(text):
    text = _HEADING.sub('role="heading" aria-level="2"', text)
    text = _CITATIONS.sub('<div class="citation-list">', text)
    text = _PRE.sub('<pre tabindex="0"', text)
    text = _THUMB.sub(
        r'\1<a class="reference internal" href="\2" aria-label="\3">'
        r'<span class="doc">\3</span></a>',
        text,
    )
    text = _WRAPPER.sub(
        lambda m: f'<div class="table-wrapper{m.group("rest")}" tabindex="0"', text
    )
    return text


def html_page_context(app, pagename, templatename, context, doctree):
    for key, value in list(context.items()):
        if isinstance(value, str) and (
            "<pre" in value or 'role="heading"' in value or "table-wrapper" in value
        ):
            context[key] = fix_markup(value)


def fix_written_pages(app, exception):
    """build-finished: the same fixes over every page in the output, so pages that an
    incremental build did not write again are fixed too (each fix is idempotent)."""
    if exception is not None or app.builder.format != "html":
        return
    from pathlib import Path

    for page in Path(app.outdir).rglob("*.html"):
        if "_static" in page.parts:
            continue
        text = page.read_text(encoding="utf-8")
        fixed = fix_markup(text)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


def setup(app):
    # after the theme (furo builds its navigation tree at the default priority)
    app.connect("html-page-context", html_page_context, priority=900)
    app.connect("build-finished", fix_written_pages, priority=980)
