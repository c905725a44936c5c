"""Prototype network for case-based reasoning (Li, Liu, Chen and Rudin, "Deep Learning
for Case-Based Reasoning through Prototypes: A Neural Network that Explains Its
Predictions", AAAI 2018, arXiv:1710.04806). An autoencoder maps each image to a small
latent vector; a prototype layer holds m learned latent vectors and outputs the squared
distance from the input's code to each; a linear layer turns those distances into class
logits. Two extra losses keep every prototype near some training code and every training
code near some prototype, so the decoder can show each prototype as an image and every
prediction reads "this looks like those prototypes". (Not Snell et al.'s few-shot
"prototypical networks", which average a few labelled embeddings per class.)
Simplified: ReLU hidden layers instead of sigmoids, shifts instead of elastic
deformation.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_encoder(w, c):
    """Four 3x3 stride-2 convolutions, 1x28x28 -> wx14x14 -> 7x7 -> 4x4 -> cx2x2, ReLU
    between them (the paper uses sigmoids throughout; ReLUs train much faster) and a
    sigmoid at the end."""
    return nn.Sequential(
        nn.Conv2d(1, w, 3, 2, 1),
        nn.ReLU(),
        nn.Conv2d(w, w, 3, 2, 1),
        nn.ReLU(),
        nn.Conv2d(w, w, 3, 2, 1),
        nn.ReLU(),
        nn.Conv2d(w, c, 3, 2, 1),
        nn.Sigmoid(),
    )


def conv_decoder(w, c):
    """The encoder's mirror image: transposed convolutions cx2x2 -> 4 -> 7 -> 14 ->
    1x28x28, sigmoid pixels."""
    return nn.Sequential(
        nn.ConvTranspose2d(c, w, 3, 2, 1, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(w, w, 3, 2, 1),
        nn.ReLU(),
        nn.ConvTranspose2d(w, w, 3, 2, 1, output_padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(w, 1, 3, 2, 1, output_padding=1),
        nn.Sigmoid(),
    )


class PrototypeNet(nn.Module):
    """Encoder: four stride-2 conv layers, 1x28x28 -> 10x2x2 (a 40-d code). Prototype
    layer: m vectors in that 40-d space. Classifier: logits = W d, d the m squared
    distances. Decoder: the mirror image of the encoder, back to 1x28x28. With
    ``n_prototypes=0`` the head is a plain linear classifier on the code (the
    baseline: the same encoder without prototypes)."""

    def __init__(self, n_prototypes=15, n_classes=10, width=32, code_channels=10):
        super().__init__()
        w, c = width, code_channels
        self.encoder, self.decoder = conv_encoder(w, c), conv_decoder(w, c)
        self.code_shape = (c, 2, 2)
        self.prototypes = nn.Parameter(torch.rand(n_prototypes, c * 4))
        self.classifier = (
            nn.Linear(n_prototypes, n_classes, bias=False)
            if n_prototypes
            else nn.Linear(c * 4, n_classes)
        )

    def encode(self, x):
        return self.encoder(x).flatten(1)  # (N, 40)

    def decode(self, z):
        return self.decoder(z.view(-1, *self.code_shape))

    def forward(self, x):
        """Returns logits (N, K), squared distances to the prototypes (N, m), the codes
        (N, 40) and the reconstructions (N, 1, 28, 28)."""
        z = self.encode(x)
        if not len(self.prototypes):  # the linear baseline
            return self.classifier(z), z.new_zeros(len(z), 0), z, self.decode(z)
        d = torch.cdist(z, self.prototypes) ** 2
        return self.classifier(d), d, z, self.decode(z)


def prototype_loss(logits, d, x_rec, x, y, lam=0.05, lam1=0.05, lam2=0.05):
    """The paper's four terms: cross-entropy + lam * reconstruction (squared error
    summed over pixels) + lam1 * R1 + lam2 * R2 with d[i, j] = ||f(x_i) - p_j||^2: R1 =
    mean over prototypes of the distance to the nearest code in the batch, R2 = mean
    over codes of the distance to the nearest prototype."""
    ce = F.cross_entropy(logits, y)
    rec = ((x_rec - x) ** 2).flatten(1).sum(1).mean()
    if d.shape[1]:
        r1 = d.min(dim=0).values.mean()  # every prototype close to some training code
        r2 = d.min(dim=1).values.mean()  # every training code close to some prototype
    else:  # no prototypes: no R1, R2
        r1 = r2 = ce.new_zeros(())
    total = ce + lam * rec + lam1 * r1 + lam2 * r2
    return total, dict(ce=ce.item(), rec=rec.item(), r1=r1.item(), r2=r2.item())


def shift(x, max_shift=2, generator=None):
    """Translate each image by its own random offset of up to ``max_shift`` pixels (zero
    fill)."""
    n, _, h, w = x.shape
    p = F.pad(x, (max_shift,) * 4)
    d = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=generator).tolist()
    return torch.stack([p[i, :, a : a + h, b : b + w] for i, (a, b) in enumerate(d)])


def train(
    model,
    x,
    y,
    *,
    epochs=20,
    batch_size=128,
    lr=2e-3,
    lam=0.05,
    lam1=0.05,
    lam2=0.05,
    augment=True,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam on the four-term loss (``lam``, ``lam1``, ``lam2`` as in
    ``prototype_loss``); ``seed`` fixes the batch order and shifts. Returns a dict of
    per-epoch means of each term and the total."""
    model.to(device)
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history = {k: [] for k in ("total", "ce", "rec", "r1", "r2")}
    for epoch in range(epochs):
        model.train()
        sums = dict.fromkeys(history, 0.0)
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            xb = shift(x[idx], generator=gen) if augment else x[idx]
            xb, yb = xb.to(device), y[idx].to(device)
            logits, d, _, x_rec = model(xb)
            loss, parts = prototype_loss(logits, d, x_rec, xb, yb, lam, lam1, lam2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            for k, v in dict(parts, total=loss.item()).items():
                sums[k] += v * len(idx)
        for k in history:
            history[k].append(sums[k] / len(x))
        if log:
            log(f"epoch {epoch + 1}: loss {history['total'][-1]:.4f}")
    return history


@torch.no_grad()
def predict(model, x, *, device="cpu", batch_size=500):
    """Predicted labels and the squared distances to every prototype."""
    model.to(device).eval()
    out = [model(b.to(device)) for b in x.split(batch_size)]
    logits, d = (torch.cat([o[i] for o in out]).cpu() for i in (0, 1))
    return logits.argmax(1), d


@torch.no_grad()
def prototype_images(model):
    """The prototypes decoded to images (m, 1, 28, 28) and the class each one votes for
    (the most negative weight in its column of W: a small distance to it raises that
    class most)."""
    model.eval()
    return model.decode(model.prototypes).cpu(), model.classifier.weight.argmin(0).cpu()


if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
    h = train(PrototypeNet(), x, y, epochs=3)
    print("loss", [round(v, 3) for v in h["total"]])
