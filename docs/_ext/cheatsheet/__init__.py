"""The cheatsheet's Sphinx extension; each concern is a module of its own:

- ``gallery``: discovery of the examples, their dependency hashes, and running the stale
  ones side by side (for every seed the build asks for) before sphinx-gallery renders
  them;
- ``diagrams``: ``arch-diagram``, a schematic drawn from text kept in the page;
- ``results``: the record-driven directives (``results``, ``results-table``,
  ``results-plots``, ``results-curves``, ``overview-table``) and ``results.json``;
- ``pages``: ``module-download``, ``example-figure``, ``families-toctree``,
  ``bibliography``.

The record itself (its fields, reading, writing, validating) is
``gallery/_lib/_record.py``.
"""

from . import diagrams, gallery, pages, results


def _builder_inited(app):
    gallery.run_stale_examples(app)
    results.clear()


def setup(app):
    app.connect(
        "builder-inited", _builder_inited, priority=100
    )  # before sphinx-gallery (500)
    app.connect("env-get-outdated", pages.always_reread)
    app.connect("build-finished", results.write_results_json)
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
