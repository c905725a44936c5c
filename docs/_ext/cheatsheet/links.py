"""Links from one repository address (``cheatsheet_repository`` in conf.py): "View
source" and "Report a problem" (a prefilled new issue naming the page) on every page,
"Open in Colab" on every example. Empty: no such links. An address that is not a URL
fails the build at once, saying what to give instead.

The notebooks Colab opens live on their own branch (``cheatsheet_notebooks_branch``),
which the Pages workflow fills from ``_build/html/notebooks/`` after each build.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlencode, urlparse

from sphinx.errors import ConfigError

_PART = re.compile(r"^[A-Za-z0-9_.-]+$")


def check_repository(app, config):
    """config-inited: the address must be ``http(s)://host/owner/repo`` (or empty)."""
    raw = config.cheatsheet_repository
    url = (raw or "").strip().rstrip("/")
    if url.endswith(".git"):
        url = url[: -len(".git")]
    if not url:
        config.cheatsheet_repository = ""
        return
    u = urlparse(url)
    parts = [p for p in u.path.split("/") if p]
    if (
        u.scheme not in ("http", "https")
        or not u.netloc
        or " " in url
        or len(parts) < 2
        or not all(_PART.match(p) for p in parts)
        or u.query
        or u.fragment
    ):
        raise ConfigError(
            f"cheatsheet_repository = {raw!r} is not a repository URL. Give the "
            f"repository's web address, such as https://github.com/<owner>/<repo> (in "
            f"conf.py, or through the environment variable CHEATSHEET_REPOSITORY), or "
            f"leave it empty for a site without source, issue and Colab links."
        )
    if not _PART.match(config.cheatsheet_branch or ""):
        raise ConfigError(
            f"cheatsheet_branch = {config.cheatsheet_branch!r} is not a branch name"
        )
    config.cheatsheet_repository = url


def source_path(app, docname):
    """The repository file a page is made from (None for generated pages)."""
    parts = docname.split("/")
    root = Path(app.confdir)
    if parts[0] == "examples" and len(parts) == 3 and parts[2].startswith("plot_"):
        rel = f"gallery/{parts[1]}/{parts[2]}.py"
    elif parts[0] == "examples" and parts[-1] == "index":
        rel = "gallery/" + "/".join(parts[1:-1] + ["README.txt"])
    else:
        try:
            p = Path(app.env.doc2path(docname))
        except Exception:
            return None
        try:
            rel = p.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return None
    return rel if (root / rel).exists() else None


def colab_url(app, family, stem):
    repo = app.config.cheatsheet_repository
    u = urlparse(repo)
    if not repo or u.netloc.lower() != "github.com":
        return None
    owner, name = [p for p in u.path.split("/") if p][:2]
    branch = app.config.cheatsheet_notebooks_branch
    return (
        f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/"
        f"{family}/{stem}.ipynb"
    )


def page_links(app, pagename, title):
    """The links bar of one page: a list of ``(text, url, css class)``."""
    repo = app.config.cheatsheet_repository
    if not repo:
        return []
    out = []
    rel = source_path(app, pagename)
    if rel:
        branch = app.config.cheatsheet_branch
        out.append(("View source", f"{repo}/blob/{branch}/{quote(rel)}", "source"))
    body = (
        f"Page: {pagename}.html ({title})\n"
        + (f"Source: {rel}\n" if rel else "")
        + "\nWhat is wrong, and where on the page:\n\n"
    )
    query = urlencode({"title": f"Problem on the page: {title}", "body": body})
    out.append(("Report a problem", f"{repo}/issues/new?{query}", "report"))
    parts = pagename.split("/")
    if parts[0] == "examples" and len(parts) == 3 and parts[2].startswith("plot_"):
        url = colab_url(app, parts[1], parts[2])
        if url:
            out.insert(0, ("Open in Colab", url, "colab"))
    return out


def html_page_context(app, pagename, templatename, context, doctree):
    title = re.sub(r"<[^>]+>", "", context.get("title") or pagename)
    context["cheatsheet_links"] = page_links(app, pagename, title)
    context["cheatsheet_repository"] = app.config.cheatsheet_repository
    context["cheatsheet_branch"] = app.config.cheatsheet_branch


def setup(app):
    app.add_config_value("cheatsheet_repository", "", "html", str)
    app.add_config_value("cheatsheet_branch", "main", "html", str)
    app.add_config_value("cheatsheet_notebooks_branch", "notebooks", "html", str)
    app.connect("config-inited", check_repository)
    app.connect("html-page-context", html_page_context)
