"""Shared test set-up: code/ (the architectures) and gallery/_lib/ (the examples'
helpers) are folders of modules on sys.path (never packages)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for d in ("docs/_ext", "gallery/_lib", "code"):
    sys.path.insert(0, str(ROOT / d))
os.environ.setdefault("MPLBACKEND", "Agg")

# --no-color: CI=true makes Sphinx colour its log, and the tests read the log
SPHINX = [
    sys.executable,
    "-m",
    "sphinx",
    "-b",
    "html",
    "-W",
    "--keep-going",
    "--no-color",
    "-c",
    ".",
]


def copy_tree(dst):
    """A copy of the project's sources (no build outputs) to build and edit in
    isolation."""
    ignore = shutil.ignore_patterns(
        "examples", "_generated", "sg_execution_times.rst", "__pycache__", "*.pyc"
    )
    for name in ("code", "gallery", "docs"):
        shutil.copytree(ROOT / name, dst / name, ignore=ignore)
    shutil.copy(ROOT / "conf.py", dst / "conf.py")
    for req in ROOT.glob("requirements*.txt"):
        shutil.copy(req, dst / req.name)
    return dst


def build(tree, smoke=True, extra_env=None, timeout=1500, extra_args=()):
    """Run sphinx-build in ``tree``; returns the CompletedProcess (stdout and stderr
    merged)."""
    env = dict(
        os.environ,
        MPLBACKEND="Agg",
        PYTHONUNBUFFERED="1",
        CHEATSHEET_RECORDS=str(tree / "_build" / "records"),
    )
    env["CHEATSHEET_SMOKE"] = "1" if smoke else "0"
    # a copy is no git checkout: its records name the commit of the tree it copies
    import _record  # on sys.path once this module has run

    env.setdefault("CHEATSHEET_COMMIT", _record.commit() or "")
    env.update(extra_env or {})
    cmd = SPHINX + [*extra_args, "-d", "_build/doctrees", "docs", "_build/html"]
    return subprocess.run(
        cmd,
        cwd=tree,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def smoke_site(tmp_path_factory):
    """The whole site built once in smoke mode with warnings as errors (shared by the
    build and browser tests)."""
    reuse = os.environ.get("CHEATSHEET_TEST_SITE")
    if reuse:  # a tree already built in smoke mode, for quick reruns of these tests
        tree = Path(reuse).resolve()
        return tree, subprocess.CompletedProcess(
            [], 0, "build succeeded (reused)", None
        )
    tree = copy_tree(tmp_path_factory.mktemp("site"))
    proc = build(tree)
    return tree, proc
