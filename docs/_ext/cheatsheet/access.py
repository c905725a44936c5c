"""Accessibility fixes to the theme's markup, made as each page is written:

- the sidebar's and the toctrees' captions carry ``role="heading"`` without the
  ``aria-level`` a heading role needs: they get level 2;
- code blocks, wide tables and wide display math scroll sideways inside their own box:
  each such box is focusable (``tabindex="0"``), so a keyboard can scroll it;
- sphinx-gallery's thumbnail links hide their text behind the card: they get it as
  ``aria-label``.

Colours that fail contrast in the dark theme are fixed in ``_static/cheatsheet.css``.
"""

from __future__ import annotations

import re

_HEADING = re.compile(r'role="heading"(?![^>]*aria-level)')
_PRE = re.compile(r"<pre(?=[ >])(?![^>]*tabindex)")
_THUMB = re.compile(
    r'(<img alt="" src="[^"]*_thumb[^"]*" />\s*<p>)<a class="reference internal" '
    r'href="([^"]+)"><span class="doc">([^<]+)</span></a>'
)
_WRAPPER = re.compile(r'<div class="table-wrapper(?P<rest>[^"]*)"(?![^>]*tabindex)')


def fix_markup(text):
    text = _HEADING.sub('role="heading" aria-level="2"', text)
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


def setup(app):
    # after the theme (furo builds its navigation tree at the default priority)
    app.connect("html-page-context", html_page_context, priority=900)
