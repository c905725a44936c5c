"""The gallery: which examples exist, what each depends on, and running the stale ones.

- **Discovery.** ``examples()`` maps each ``gallery/<family>/plot_<name>.py`` to its
  family, in the order the family page presents the architectures; ``arch_meta(name)``
  reads the section's title and its ``module-download`` phrases (task, idea, loss) from
  the page itself.
- **Dependency hashes.** An example's hash covers its file, every repo module it imports
  (transitively, in ``code/`` and ``gallery/_lib/``), the repo files it read when it
  last ran, ``requirements*.txt``, ``conf.py``, the device kind, the smoke flag and the
  seed. The hash is stored beside sphinx-gallery's ``.md5`` and in the record; a record
  whose hash no longer matches is stale.
- **Runs.** Before sphinx-gallery renders the gallery, ``run_stale_examples`` runs every
  stale example, for every seed the build asks for, side by side in worker processes
  (one torch thread each), longest first. sphinx-gallery then finds them current and
  only renders them. A failed example fails the build, naming the file, the seed and the
  error.
"""

import ast
import copy
import functools
import gc
import hashlib
import json
import os
import re
import sys
import time
import traceback
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

import _record

logger = logging.getLogger(__name__)

ROOT = _record.ROOT
CODE = ROOT / "code"
LIB = ROOT / "gallery" / "_lib"
GALLERY = ROOT / "gallery"
DOCS = ROOT / "docs"
#: Where an example's imports are looked for (its own family folder comes first).
IMPORT_DIRS = (CODE, LIB)


# --------------------------------------------------------------------------- discovery
# ----


@functools.cache
def examples():
    """``{name: (family, path)}`` for every gallery/<family>/plot_<name>.py, in page
    order."""
    found = {}
    for p in sorted(GALLERY.glob("*/plot_*.py")):
        name, family = p.stem[len("plot_") :], p.parent.name
        if name in found:
            raise ExtensionError(
                f"two examples named {name!r}: {found[name][1]} and {p}"
            )
        found[name] = (family, p)

    def order(item):
        name, (family, path) = item
        fam = _record.FAMILIES.index(family) if family in _record.FAMILIES else 99
        return fam, section_position(family, name), path.name

    return dict(sorted(found.items(), key=order))


def family_of(name):
    """The family of an example, or an ExtensionError listing the known names."""
    try:
        return examples()[name][0]
    except KeyError:
        raise ExtensionError(
            f"no example named {name!r} (gallery/*/plot_{name}.py); known: "
            f"{', '.join(examples())}"
        ) from None


@functools.cache
def _page(family):
    page = DOCS / "architectures" / f"{family}.rst"
    return page.read_text(encoding="utf-8") if page.exists() else ""


def section_position(family, name):
    """Where ``.. _arch-<name>:`` sits on its family page, so tables list architectures
    in the order the page presents them (MLP, CNN, RNN rather than alphabetically)."""
    text = _page(family)
    pos = text.find(f".. _arch-{name}:")
    return pos if pos >= 0 else len(text) + 1


class PageOrderSortKey:
    """sphinx-gallery's ``within_subsection_order``: a family's examples in page
    order."""

    def __init__(self, src_dir):
        self.family = Path(src_dir).name

    def __call__(self, filename):
        return (
            section_position(self.family, Path(filename).stem[len("plot_") :]),
            filename,
        )


META_KEYS = ("title", "task", "idea", "loss")


@functools.cache
def arch_meta(name):
    """The section's title and its one-line phrases, read from the family page:

    .. code-block:: rst

       .. _arch-vae:

       Variational autoencoder (VAE)
       -----------------------------
       ...
       .. module-download:: vae
          :task: generate digits
          :idea: ...
          :loss: ...
          :title: VAE        (optional: a shorter name for the tables)
    """
    family = family_of(name)
    text = _page(family)
    label = text.find(f".. _arch-{name}:")
    if label < 0:
        raise ExtensionError(
            f"docs/architectures/{family}.rst has no section '.. _arch-{name}:'"
        )
    heading = next(ln for ln in text[label:].splitlines()[1:] if ln.strip())
    meta = {"title": heading.strip(), "family": family}
    m = re.search(
        rf"^\.\. module-download:: {name}\n((?:[ \t]+:\w+:.*\n)*)", text, re.M
    )
    if not m:
        raise ExtensionError(
            f"docs/architectures/{family}.rst: no '.. module-download:: {name}'"
        )
    for key, value in re.findall(r"^[ \t]+:(\w+):[ \t]*(.*)$", m.group(1), re.M):
        meta[key] = value.strip()
    missing = [k for k in META_KEYS[1:] if not meta.get(k)]
    if missing:
        raise ExtensionError(
            f"docs/architectures/{family}.rst, '.. module-download:: {name}': give "
            + ", ".join(f":{k}:" for k in missing)
            + " (the phrases of the front page's table)"
        )
    return meta


def clear_caches():
    for f in (examples, _page, arch_meta, dependencies):
        f.cache_clear()


# ------------------------------------------------------------------ dependency hashes
# ----


@functools.lru_cache(maxsize=1024)
def parse(source, filename="<unknown>"):
    """``ast.parse``, once per distinct source text: the downloads and the dependency
    hashes look at the same 80 files many times per build (a no-change rebuild spent
    20 s parsing them again). The trees are shared, so callers only read them."""
    return ast.parse(source, filename=filename)


@functools.lru_cache(maxsize=1024)
def _imported_names(source, filename):
    names = set()
    for node in ast.walk(parse(source, filename)):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return frozenset(names)


def local_imports(path):
    """Names of repo modules (``code/``, ``gallery/_lib/``) that a Python file
    imports."""
    try:
        names = _imported_names(Path(path).read_text(encoding="utf-8"), str(path))
    except SyntaxError as e:
        raise ExtensionError(
            f"{path}, line {e.lineno}: cannot parse it: {e.msg}"
        ) from None
    return {n for n in names if _module_path(n)}


def _module_path(name):
    for d in IMPORT_DIRS:
        if (d / f"{name}.py").exists():
            return d / f"{name}.py"
    return None


@functools.cache
def dependencies(example):
    """The repo modules an example imports, transitively (a sorted tuple of paths)."""
    seen, todo = set(), list(local_imports(example))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(local_imports(_module_path(n)) - seen)
    return tuple(sorted(_module_path(n) for n in seen))


@functools.cache
def device_kind():
    """``cuda``, ``mps`` or ``cpu``: what the examples will run on
    (``CHEATSHEET_DEVICE`` overrides the check, which imports torch)."""
    forced = os.environ.get("CHEATSHEET_DEVICE", "").strip()
    if forced:
        if forced not in ("cpu", "cuda", "mps"):
            raise ExtensionError(
                f"CHEATSHEET_DEVICE={forced!r}: expected cpu, cuda or mps"
            )
        return forced
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


def build_inputs():
    """The files every example depends on: the pinned requirements and conf.py."""
    return sorted(ROOT.glob("requirements*.txt")) + [ROOT / "conf.py"]


def dependency_hash(example, seed=0, reads=()):
    """The hash that decides whether an example (for one seed) must run again."""
    h = hashlib.sha256(
        f"schema={_record.SCHEMA}\nsmoke={_record.smoke()}\nseed={seed}\n"
        f"device={device_kind()}\n".encode()
    )
    files = [Path(example), *dependencies(Path(example)), *build_inputs()]
    files += [ROOT / r for r in reads]
    for p in files:
        rel = p.relative_to(ROOT).as_posix() if p.is_relative_to(ROOT) else p.name
        data = p.read_bytes() if p.exists() else b"<missing>"
        h.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


def out_dir(srcdir, seed):
    """Where sphinx-gallery's output of one seed goes: ``docs/examples`` for seed 0 (the
    pages), a scratch folder under ``_build`` for the others."""
    if seed == 0:
        return Path(srcdir) / "examples"
    return _record.base_dir() / "seeds" / f"seed{seed}"


def deps_file(target):
    return Path(f"{target}.deps")


def stored_deps(target):
    """``(hash, reads)`` from the ``.deps`` file beside an example's output (None, () if
    none)."""
    f = deps_file(target)
    try:
        data = json.loads(f.read_text())
        return data["hash"], tuple(data.get("reads", ()))
    except (OSError, ValueError, KeyError, TypeError):
        return None, ()


def current_hash(srcdir, name, seed):
    """The dependency hash that a fresh record of (example, seed) carries now."""
    family, path = examples()[name]
    _, reads = stored_deps(out_dir(srcdir, seed) / family / path.name)
    return dependency_hash(path, seed, reads)


# ------------------------------------------------------------------------------ runs
# ----


def plotting(app):
    v = app.config.sphinx_gallery_conf.get("plot_gallery", True)
    return str(v).strip().lower() not in ("0", "false", "no", "")


def n_jobs():
    """Worker processes: ``CHEATSHEET_JOBS``, else one per core (on a GPU, at most 4
    share it)."""
    raw = os.environ.get("CHEATSHEET_JOBS", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise ExtensionError(
                f"CHEATSHEET_JOBS={raw!r}: expected a whole number >= 1"
            )
        return int(raw)
    cores = (
        len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count()
    )
    return min(cores or 1, 4) if device_kind() == "cuda" else cores or 1


def _expected_seconds(name, seed):
    try:
        return json.loads((_record.records_dir(seed) / f"{name}.json").read_text())[
            "seconds"
        ]
    except (OSError, ValueError, KeyError):
        return 60.0


def run_stale_examples(app):
    """builder-inited: run every stale (example, seed) in a pool, before
    sphinx-gallery."""
    clear_caches()
    only = _record.only()
    unknown = [n for n in only if n not in examples()]
    if unknown:
        raise ExtensionError(
            f"CHEATSHEET_ONLY: no gallery/*/plot_{unknown[0]}.py (known: "
            f"{', '.join(examples())})"
        )
    if not plotting(app):
        return
    conf = app.config.sphinx_gallery_conf
    tasks = []
    for seed in range(_record.n_seeds()):
        for name, (family, path) in examples().items():
            if only and name not in only:
                continue
            target = out_dir(app.srcdir, seed) / family / path.name
            old, reads = stored_deps(target)
            new = dependency_hash(path, seed, reads)
            md5 = Path(f"{target}.md5")
            rec = _record.records_dir(seed) / f"{name}.json"
            if old == new and md5.exists() and rec.exists() and name not in only:
                continue
            md5.unlink(missing_ok=True)
            tasks.append((name, family, path, seed, target, new))
    if not tasks:
        return
    tasks.sort(key=lambda t: -_expected_seconds(t[0], t[3]))
    jobs = min(n_jobs(), len(tasks))
    device = device_kind()
    share = f", {jobs} sharing one {device.upper()} device" if device != "cpu" else ""
    logger.info(
        f"[cheatsheet] running {len(tasks)} example run(s) in {jobs} worker(s), one "
        f"thread "
        f"each{share}, seeds {sorted({t[3] for t in tasks})}"
    )
    t0 = time.perf_counter()
    failures = []
    for done, (task, result) in enumerate(_pool(tasks, conf, jobs), 1):
        name, family, path, seed, target, new = task
        if result["error"]:
            failures.append((path, seed, result["error"]))
            status = "FAILED"
        else:
            # the hash the record carries covers the files the run read
            reads = result["reads"]
            final = dependency_hash(path, seed, reads)
            deps_file(target).write_text(json.dumps({"hash": final, "reads": reads}))
            if final != new:
                _restamp(seed, name, final)
            status = f"{result['seconds']:.0f} s"
        logger.info(
            f"[cheatsheet] {done}/{len(tasks)} {path.name} (seed {seed}): {status}"
        )
    wall = time.perf_counter() - t0
    logger.info(f"[cheatsheet] example runs took {wall:.0f} s wall")
    if failures:
        lines = [f"{len(failures)} example run(s) failed:"]
        for path, seed, err in failures:
            lines += [f"--- {path.relative_to(ROOT)} (seed {seed}) ---", err.rstrip()]
        raise ExtensionError("\n".join(lines))


def _restamp(seed, name, new_hash):
    """The run read repo files beyond its imports: store the hash that includes them."""
    path = _record.records_dir(seed) / f"{name}.json"
    data = json.loads(path.read_text())
    data["deps_hash"] = new_hash
    _record.write(_record.Record.from_json(data, source=path), path.parent)


def _pool(tasks, conf, jobs):
    """Yield ``(task, result)`` as each run ends; each run in a worker process."""
    from joblib import Parallel, delayed

    srcdirs = {t[1]: GALLERY / t[1] for t in tasks}
    run = Parallel(
        n_jobs=jobs,
        backend="loky",
        pre_dispatch="n_jobs",
        batch_size=1,
        return_as="generator_unordered",
    )
    calls = (
        delayed(_run_one)(i, t[2].name, t[4].parent, srcdirs[t[1]], conf, t[3], t[5])
        for i, t in enumerate(tasks)
    )
    for i, result in run(calls):
        yield tasks[i], result


_READS = set()
_HOOKED = []


def _audit(event, args):
    if event == "open" and _HOOKED and isinstance(args[0], (str, bytes, os.PathLike)):
        mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
        if "r" in mode and "+" not in mode:
            _READS.add(os.fsdecode(args[0]))


def _repo_reads():
    """The repo files an example opened for reading, beyond the Python modules (which
    the import scan covers) and the build's own outputs."""
    out = set()
    skip = {"_build", ".venv", ".git", "__pycache__"}
    for raw in _READS:
        try:
            p = Path(raw).resolve()
            rel = p.relative_to(ROOT)
        except (ValueError, OSError):
            continue
        if p.suffix in (".py", ".pyc") or skip & set(rel.parts) or not p.is_file():
            continue
        if rel.parts[:2] == ("docs", "examples"):
            continue
        out.add(rel.as_posix())
    return sorted(out)


def _run_one(index, fname, target_dir, src_dir, conf, seed, deps_hash):
    """In a worker: run one example for one seed through sphinx-gallery (which writes
    its page, figures and md5) with a clean set of repo modules."""
    from sphinx_gallery.gen_rst import generate_file_rst

    if seed:  # sphinx-gallery writes below its source folder: the seed's scratch one
        conf = copy.copy(conf)
        conf["src_dir"] = str(Path(target_dir).parent)

    os.environ.update(CHEATSHEET_SEED=str(seed), CHEATSHEET_DEPS_HASH=deps_hash)
    for mod in [m for m, v in sys.modules.items() if _is_repo_module(v)]:
        del sys.modules[mod]  # each example imports the repo's modules afresh
    if not _HOOKED:
        sys.addaudithook(_audit)
        _HOOKED.append(True)
    _READS.clear()
    Path(target_dir).mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        _, _, _, out_vars = generate_file_rst(fname, target_dir, src_dir, conf)
        error = out_vars.get("formatted_exception")
    except (
        Exception
    ):  # a failure in the hooks (no record, say) rather than in the script
        error = traceback.format_exc()
    return index, dict(
        error=error, reads=_repo_reads(), seconds=time.perf_counter() - t0
    )


def _is_repo_module(module):
    f = getattr(module, "__file__", None)
    if not f:
        return False
    p = Path(f).resolve()
    return p.is_relative_to(CODE) or p.is_relative_to(GALLERY)


_started = {}


def reset_example(gallery_conf, fname, when):
    """sphinx-gallery calls this before and after each example: seed, one thread, free
    memory, and check that the example wrote a fresh record of the right name and
    seed."""
    import random

    import matplotlib.pyplot as plt
    import numpy as np

    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    plt.close("all")
    seed = _record.seed()
    if when == "before":
        _started[fname] = time.time()
        random.seed(seed)
        np.random.seed(seed)
        if torch is not None:
            torch.manual_seed(seed)
            torch.set_num_threads(int(os.environ.get("CHEATSHEET_THREADS", "1")))
        return
    gc.collect()
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
    name = Path(fname).stem[len("plot_") :]
    rec = _record.records_dir(seed) / f"{name}.json"
    if not rec.exists() or rec.stat().st_mtime < _started.get(fname, 0) - 1:
        raise ExtensionError(
            f"{fname}: the example ran but wrote no record {rec.name}: it must call "
            f'run = start("{name}") and end with run.finish() (see '
            f"gallery/_lib/_example.py)"
        )
    found = _record.read(rec)
    if found.seed != seed:
        raise ExtensionError(
            f"{fname}: its record says seed {found.seed}, the build ran {seed}"
        )
