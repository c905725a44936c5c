"""Sphinx configuration of the cheatsheet. Sources are in docs/; build with
``sphinx-build -c . docs _build/html`` (the Makefile does it for you).

The build's switches are environment variables, read by ``gallery/_lib/_record.py``:

- ``CHEATSHEET_SMOKE=1``: every example runs in a few seconds (tiny data, few steps).
- ``CHEATSHEET_ONLY=vae,cvae``: run only these examples (``make example NAME=vae``).
- ``CHEATSHEET_SEEDS=3``: run every example for seeds 0, 1, 2 (``make seeds``).
- ``CHEATSHEET_JOBS=n``: examples side by side (default: one per core).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
for d in ("docs/_ext", "gallery/_lib", "code"):
    sys.path.insert(0, str(ROOT / d))

import _record  # noqa: E402  (found through the path set just above)

# Every example runs with one torch thread and one BLAS thread, whatever the machine, so
# that its numbers do not depend on the core count; the build runs examples side by side
# instead.
for var in (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[var] = "1"
os.environ["CHEATSHEET_THREADS"] = "1"
os.environ.setdefault("CHEATSHEET_RECORDS", str(_record.records_dir()))
os.environ["CHEATSHEET_COMMIT"] = _record.commit() or ""

SMOKE = _record.smoke()
ONLY = _record.only()

project = "Deep-learning architectures cheatsheet"
author = "the cheatsheet's contributors"
copyright = "2026, " + author

extensions = [
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
    "sphinx_copybutton",
    "myst_parser",
    "cheatsheet",  # docs/_ext/cheatsheet/: reruns, diagrams, results, page directives
]

exclude_patterns = [
    "_build",
    "bib/*",
    "_generated/**.txt",
    "**/*.md5",
    "**/*.deps",
    "examples/**/*.ipynb",
    "examples/**/*.py",
    "examples/**/*.zip",
    "examples/**/*.json",
]
suppress_warnings = ["config.cache"]

# -- HTML
# -------------------------------------------------------------------------------------
html_theme = "furo"
html_title = "DL architectures cheatsheet"
html_static_path = ["docs/_static"]
html_css_files = ["cheatsheet.css"]
html_favicon = "docs/_static/favicon.svg"
html_theme_options = {
    "sidebar_hide_name": False,
    "navigation_with_keys": True,
}
html_show_sourcelink = False
html_last_updated_fmt = None
templates_path = ["docs/_templates"]  # the links bar and the licence line in the footer

# -- Links to the repository
# -----------------------------------------------------------------
# One address for every outward link: "View source" and "Report a problem" on each page,
# "Open in Colab" on each example (Colab opens the notebooks from the branch below,
# which .github/workflows/pages.yml fills). Empty: no such links. A fork sets its own
# address here, or CHEATSHEET_REPOSITORY (the Pages workflow passes the repository it
# runs in).
cheatsheet_repository = os.environ.get("CHEATSHEET_REPOSITORY", "")
cheatsheet_branch = os.environ.get("CHEATSHEET_BRANCH", "main")
cheatsheet_notebooks_branch = "notebooks"

# MathJax is served from the site itself (copied from the django-static-mathjax package
# into _static/mathjax at the end of the build): the pages make no request to any other
# host.
mathjax_path = "mathjax/tex-chtml.js"

# Copy exactly the code: no prompts, no line numbers, no console output.
copybutton_exclude = ".linenos, .gp, .go"
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = False

# -- sphinx-gallery
# ---------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../gallery",
    "gallery_dirs": "examples",
    "filename_pattern": rf"/plot_({'|'.join(ONLY)})\.py$" if ONLY else r"/plot_",
    "ignore_pattern": r"/_|__init__\.py",
    "subsection_order": [
        "../gallery/" + f for f in _record.FAMILIES if (ROOT / "gallery" / f).is_dir()
    ],
    # the family page's order
    "within_subsection_order": "cheatsheet.gallery.PageOrderSortKey",
    "reset_modules": ("matplotlib", "cheatsheet.gallery.reset_example"),
    # the extension runs the stale examples side by side before sphinx-gallery renders
    # them
    "parallel": False,
    "reset_modules_order": "both",
    "abort_on_example_error": False,  # run them all, then fail naming every broken file
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_signature": False,
    "image_srcset": [],
    "matplotlib_animations": False,
    "capture_repr": (),
    "min_reported_time": 0,
    # its timing pages pull jQuery and DataTables from CDNs; the results page replaces
    # them
    "write_computation_times": False,
}
