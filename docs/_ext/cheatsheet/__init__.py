"""The cheatsheet's Sphinx extension; each concern is a module of its own:

- ``gallery``: discovery of the examples, their dependency hashes, and running the stale
  ones side by side (for every seed the build asks for) before sphinx-gallery renders
  them;
- ``diagrams``: ``arch-diagram``, a schematic drawn from text kept in the page;
- ``results``: the record-driven directives (``results``, ``results-table``,
  ``results-plots``, ``results-curves``, ``overview-table``) and ``results.json``;
- ``pages``: ``module-download``, ``example-figure``, ``families-toctree``,
  ``bibliography``;
- ``snippets``: copy-complete sections (import lines and the helpers the shown code
  calls, generated from the module);
- ``downloads``: example downloads that run on their own, the plumbing hidden from the
  example pages, their links back to the sections;
- ``links``: "View source", "Report a problem" and "Open in Colab" from one repository
  address;
- ``access``: the theme's markup made accessible (heading levels, focusable scroll
  boxes);
- ``fast``: lazy, sized, compact images and math rendered at build time;
- ``sheet``: the printable cheatsheet page (``make pdf``).

The record itself (its fields, reading, writing, validating) is
``gallery/_lib/_record.py``.
"""

from . import (
    access,
    diagrams,
    downloads,
    fast,
    gallery,
    links,
    pages,
    results,
    sheet,
    snippets,
)


def _builder_inited(app):
    gallery.run_stale_examples(app)
    results.clear()


def setup(app):
    app.connect(
        "builder-inited", _builder_inited, priority=100
    )  # before sphinx-gallery (500)
    app.connect("builder-inited", downloads.write_downloads, priority=900)
    app.connect("env-get-outdated", pages.reread_on_new_records)
    app.connect("source-read", downloads.example_page)
    app.connect("doctree-read", snippets.complete_sections, priority=400)
    app.connect("doctree-read", fast.compact_images, priority=400)
    app.connect("build-finished", results.write_results_json)
    app.connect("build-finished", downloads.copy_notebooks)
    app.connect("build-finished", fast.prerender_math, priority=900)
    app.add_node(
        snippets.helpers_details,
        html=(snippets.visit_details_html, snippets.depart_details_html),
        latex=(snippets.visit_details_other, snippets.depart_details_other),
        text=(snippets.visit_details_other, snippets.depart_details_other),
    )
    links.setup(app)
    access.setup(app)
    sheet.setup(app)
    app.add_directive("arch-diagram", diagrams.ArchDiagram)
    app.add_directive("module-download", pages.ModuleDownload)
    app.add_directive("example-figure", pages.ExampleFigure)
    app.add_directive("families-toctree", pages.FamiliesToctree)
    app.add_directive("bibliography", pages.Bibliography)
    app.add_directive("results", results.Results)
    app.add_directive("results-table", results.ResultsTable)
    app.add_directive("results-plots", results.ResultsPlots)
    app.add_directive("results-curves", results.ResultsCurves)
    app.add_directive("overview-table", results.OverviewTable)
    return {"version": "2.0", "parallel_read_safe": False, "parallel_write_safe": True}
