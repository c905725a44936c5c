"""What the three segmentation examples (U-Net, FCN, SegNet) share: the nuclei split,
training tiles, the tuned classical baseline and the measuring sticks.

Every network is scored on whole regions (the 512x64 validation strip, the 512x128 test
strip) predicted in one pass, not on tiles, so that nuclei are counted whole. Metrics:

- pooled IoU of nucleus pixels;
- boundary F-score: the share of predicted boundary pixels within ``tol`` pixels of a
  true boundary (precision) and of true boundary pixels within ``tol`` pixels of a
  predicted one (recall), combined by their harmonic mean (Csurka et al., BMVC 2013;
  ``tol=2`` here, about a tenth of a nucleus' diameter);
- objects: connected components of the predicted mask (4-connected, components under
  ``MIN_SIZE`` pixels dropped) matched to the true nuclei: the object F1 at IoU >= 0.5,
  the nuclei **merged** (they share their main component with another nucleus) and the
  nuclei **split** (two or more components lie mostly inside them).
"""

import numpy as np
import torch
from scipy import ndimage
from skimage.feature import peak_local_max
from skimage.filters import gaussian
from skimage.measure import label
from skimage.segmentation import find_boundaries, watershed

import toydata

MIN_SIZE = 20  # pixels; a nucleus here has a median area of about 350


def tiles(a, tile=64, stride=32):
    """Overlapping ``tile`` x ``tile`` tiles of a 2-D array or tensor, ``stride`` apart,
    as a tensor (N, 1, tile, tile)."""
    a = torch.as_tensor(a)
    h, w = a.shape
    return torch.stack(
        [
            a[r : r + tile, c : c + tile]
            for r in range(0, h - tile + 1, stride)
            for c in range(0, w - tile + 1, stride)
        ]
    )[:, None]


def data():
    """Training tiles and the validation and test regions.

    Returns ``train`` (``x``, ``m``: 64x64 tiles (N, 1, 64, 64) of the image and the
    mask, 32 pixels apart; ``region``: the whole training region's ``(image, mask,
    labels)`` as NumPy arrays) and ``val``, ``test`` (``x``, ``m``: the whole strip as
    tensors (1, 1, 512, W); ``labels``: a NumPy array (512, W))."""
    regions = toydata.nuclei_regions()
    img, mask, lab = regions["train"]
    train = dict(x=tiles(img), m=tiles(mask), region=regions["train"])

    def strip(k):
        i, m, lab = regions[k]
        t = lambda a: torch.tensor(a)[None, None]  # noqa: E731
        return dict(x=t(i), m=t(m), labels=lab)

    return train, strip("val"), strip("test")


@torch.no_grad()
def probability(model, x, device):
    """The model's probability of "nucleus" for a whole region (1, 1, H, W), on the
    CPU."""
    model.to(device).eval()
    return torch.sigmoid(model(x.to(device))).cpu()


def components(pred):
    """Connected components (4-connected) of a binary mask, tiny ones dropped."""
    comp = label(np.asarray(pred, bool), connectivity=1)
    sizes = np.bincount(comp.ravel())
    small = np.flatnonzero(sizes < MIN_SIZE)
    comp[np.isin(comp, small[small > 0])] = 0
    return label(comp > 0, connectivity=1)


def components_of(labels):
    """True nuclei with their pieces under ``MIN_SIZE`` pixels (cut by a region's edge)
    dropped, so that they are held to the same rule as predictions."""
    labels = labels.copy()
    sizes = np.bincount(labels.ravel())
    labels[np.isin(labels, np.flatnonzero((sizes > 0) & (sizes < MIN_SIZE)))] = 0
    return labels


def boundary_f(pred, truth, tol=2):
    """Boundary F-score of two binary masks (2-D arrays) at a tolerance of ``tol``
    pixels."""
    bp = find_boundaries(np.asarray(pred, bool), mode="inner")
    bt = find_boundaries(np.asarray(truth, bool), mode="inner")
    if not bp.any() or not bt.any():
        return float(bp.any() == bt.any())
    precision = (ndimage.distance_transform_edt(~bt)[bp] <= tol).mean()
    recall = (ndimage.distance_transform_edt(~bp)[bt] <= tol).mean()
    return float(2 * precision * recall / max(precision + recall, 1e-12))


def objects(comp, labels):
    """Object-level scores of predicted components against the true nuclei: ``f1``
    (IoU >= 0.5 matches), ``merged`` and ``split`` (numbers of true nuclei), ``n_pred``
    and ``n_true``."""
    labels = components_of(labels)
    t_ids = np.unique(labels[labels > 0])
    p_ids = np.unique(comp[comp > 0])
    if not len(p_ids):
        return dict(f1=0.0, merged=0, split=0, n_pred=0, n_true=len(t_ids))
    t_idx = np.searchsorted(t_ids, labels)
    p_idx = np.searchsorted(p_ids, comp)
    both = (labels > 0) & (comp > 0)
    ov = np.zeros((len(t_ids), len(p_ids)))
    np.add.at(ov, (t_idx[both], p_idx[both]), 1)
    t_area = np.bincount(labels.ravel())[t_ids].astype(float)
    p_area = np.bincount(comp.ravel())[p_ids].astype(float)
    iou = ov / (t_area[:, None] + p_area[None, :] - ov + 1e-12)
    tp = int((iou >= 0.5).sum())  # IoU > 0.5 pairs are one-to-one
    fp, fn = len(p_ids) - tp, len(t_ids) - tp
    # each nucleus' main component (if it covers half the nucleus), and each
    # component's main nucleus (if half the component lies inside it)
    main_p = np.where(ov.max(1, initial=0) >= 0.5 * t_area, ov.argmax(1), -1)
    shared = np.bincount(main_p[main_p >= 0], minlength=len(p_ids))
    merged = int(sum(shared[j] > 1 for j in main_p if j >= 0))
    main_t = np.where(ov.max(0, initial=0) >= 0.5 * p_area, ov.argmax(0), -1)
    owned = np.bincount(main_t[main_t >= 0], minlength=len(t_ids))
    return dict(
        f1=2 * tp / max(2 * tp + fp + fn, 1),
        merged=merged,
        split=int((owned > 1).sum()),
        n_pred=len(p_ids),
        n_true=len(t_ids),
    )


def scores(pred, region):
    """All metrics of a binary mask (H, W) for a region from ``data()``."""
    pred = np.asarray(pred, bool)
    truth = region["m"][0, 0].numpy() > 0.5
    union = (pred | truth).sum()
    out = dict(
        iou=float((pred & truth).sum() / union) if union else 1.0,
        boundary_f=boundary_f(pred, truth),
    )
    out.update(objects(components(pred), region["labels"]))
    return out


def classical(x, sigma, level, min_distance):
    """Blur (Gaussian, ``sigma`` pixels), threshold at ``level`` and, unless
    ``min_distance`` is None, split touching blobs by a watershed of the distance
    transform seeded at its maxima ``min_distance`` apart (the standard pipeline for
    nuclei). Returns a binary mask (H, W)."""
    img = x[0, 0].numpy()
    fg = (gaussian(img, sigma=sigma) if sigma else img) > level
    if min_distance is None:
        return fg
    dist = ndimage.distance_transform_edt(fg)
    peaks = peak_local_max(dist, min_distance=min_distance, labels=label(fg))
    markers = np.zeros(fg.shape, int)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    split = watershed(-dist, markers, mask=fg, watershed_line=True)
    return split > 0


def tune_classical(val, metric="boundary_f"):
    """The classical pipeline's settings that score best on the validation strip: blur
    of 0-2 pixels, threshold 0.05-0.50, watershed off or seeds 3-7 pixels apart."""
    grid = [
        (sigma, level, md)
        for sigma in (0, 1, 2)
        for level in np.arange(0.05, 0.51, 0.05).round(2).tolist()
        for md in (None, 3, 5, 7)
    ]
    return max(grid, key=lambda s: scores(classical(val["x"], *s), val)[metric])


def show_strips(test, masks, title):
    """The test strip (rotated to lie flat), its truth and each named binary mask,
    coloured by connected component."""
    import matplotlib.pyplot as plt

    rows = [("image", test["x"][0, 0].numpy())]
    rows += [("truth", test["m"][0, 0].numpy() > 0.5)] + list(masks.items())
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 1.7 * len(rows)))
    for r, (ax, (name, a)) in enumerate(zip(axes, rows)):
        if r == 0:
            ax.imshow(a.T[::-1], cmap="gray", vmin=0, vmax=1)
        else:  # one colour per component, background black
            comp = components(a).T[::-1]
            ax.set_facecolor("black")
            ax.imshow(
                np.where(comp == 0, np.nan, comp % 20),
                cmap="tab20",
                vmin=0,
                vmax=19,
                interpolation="nearest",
            )
        ax.set_ylabel(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    plt.tight_layout()
    plt.show()


def show_closeup(test, probs, r0=200, c0=40, s=48):
    """The true outline (white) over each model's probability of "nucleus" on a
    crowded ``s`` x ``s`` patch of the test strip."""
    import matplotlib.pyplot as plt

    crops = [("image", test["x"][0, 0])] + [(k, p) for k, p in probs.items()]
    truth = test["m"][0, 0, r0 : r0 + s, c0 : c0 + s].numpy()
    fig, axes = plt.subplots(1, len(crops), figsize=(2 * len(crops), 2.4))
    for i, (ax, (name, a)) in enumerate(zip(axes, crops)):
        cmap = "gray" if i == 0 else "magma"
        ax.imshow(a[r0 : r0 + s, c0 : c0 + s], cmap=cmap, vmin=0, vmax=1)
        ax.contour(truth, levels=[0.5], colors="white", linewidths=0.8)
        ax.set_title(name if i == 0 else f"{name}: P(nucleus)", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    plt.tight_layout()
    plt.show()
