"""CapsNet (Sabour, Frosst and Hinton, "Dynamic Routing Between Capsules", NIPS 2017,
arXiv:1710.09829). A capsule is a group of neurons whose output is a vector: its length
is the probability that an entity is present, its direction the entity's pose. Primary
capsules come from a convolution; each predicts every digit capsule's output through its
own learned matrix, and routing-by-agreement sends each primary capsule's output mostly
to the digit capsules whose overall output agrees with its prediction. A margin loss on
the digit capsules' lengths trains the classifier; a decoder that redraws the image from
the correct digit capsule regularises it.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def squash(s, dim=-1, eps=1e-8):
    """v = |s|^2 / (1 + |s|^2) * s / |s|: same direction as s, length in [0, 1)."""
    n2 = (s**2).sum(dim, keepdim=True)
    return n2 / (1 + n2) * s / torch.sqrt(n2 + eps)


def dynamic_routing(u_hat, iterations=3):
    """Routing by agreement. u_hat: predictions (N, n_in, n_out, D) of every input
    capsule for every output capsule. Returns the output capsules v (N, n_out, D).

    Coupling coefficients c = softmax over outputs of logits b, which start at 0 and
    grow by the agreement u_hat . v. As in most implementations, gradients flow only
    through the last iteration (the agreement updates use a detached copy of u_hat)."""
    b = torch.zeros(u_hat.shape[:3], device=u_hat.device)  # (N, n_in, n_out)
    u_detached = u_hat.detach()
    for it in range(iterations):
        c = b.softmax(dim=2)  # each input splits its vote
        if it == iterations - 1:
            return squash((c.unsqueeze(-1) * u_hat).sum(1))  # (N, n_out, D)
        v = squash((c.unsqueeze(-1) * u_detached).sum(1))
        b = b + (u_detached * v.unsqueeze(1)).sum(-1)  # agreement u_hat . v


def decoder(n_in):
    """The reconstruction network: fully connected layers of 512 and 1,024 units, then
    784 sigmoid pixels."""
    return nn.Sequential(
        nn.Linear(n_in, 512),
        nn.ReLU(),
        nn.Linear(512, 1024),
        nn.ReLU(),
        nn.Linear(1024, 28 * 28),
        nn.Sigmoid(),
    )


class CapsNet(nn.Module):
    """Conv 9x9 (28 -> 20), primary capsules from a 9x9 stride-2 conv (20 -> 6: 6x6
    positions x ``n_primary`` types of ``prim_dim``-d capsules), 10 digit capsules of 16
    dimensions, and a fully connected decoder that redraws the digit from the (masked)
    digit capsules. Smaller than the paper's (256 conv channels, 32 primary types) so
    that it trains in a minute on a CPU."""

    def __init__(
        self,
        conv_ch=32,
        n_primary=8,
        prim_dim=8,
        n_classes=10,
        out_dim=16,
        routing_iters=3,
    ):
        super().__init__()
        self.conv = nn.Conv2d(1, conv_ch, 9)
        self.primary = nn.Conv2d(conv_ch, n_primary * prim_dim, 9, stride=2)
        self.prim_dim, self.iters, self.n_classes = prim_dim, routing_iters, n_classes
        n_in = n_primary * 6 * 6
        self.W = nn.Parameter(0.05 * torch.randn(n_in, n_classes, out_dim, prim_dim))
        self.decoder = decoder(n_classes * out_dim)

    def capsules(self, x):
        """Digit capsules (N, 10, 16) of images (N, 1, 28, 28)."""
        p = self.primary(F.relu(self.conv(x)))  # (N, types * D, 6, 6)
        p = p.unflatten(1, (-1, self.prim_dim)).permute(0, 1, 3, 4, 2)
        u = squash(p.flatten(1, 3))  # (N, 288, 8): one capsule per type and position
        u_hat = torch.einsum("ijdk,nik->nijd", self.W, u)  # (N, 288, 10, 16)
        return dynamic_routing(u_hat, self.iters)

    def reconstruct(self, v, labels):
        """Decode from the capsule of class ``labels`` only (the others are masked to
        zero)."""
        mask = F.one_hot(labels, self.n_classes).unsqueeze(-1).to(v.dtype)
        return self.decoder((v * mask).flatten(1)).view(-1, 1, 28, 28)

    def forward(self, x, labels=None):
        """Capsule lengths (N, 10), digit capsules, and the reconstruction from the
        capsule of ``labels`` (the predicted class when no labels are given)."""
        v = self.capsules(x)
        lengths = v.norm(dim=-1)
        if labels is None:
            labels = lengths.argmax(1)
        return lengths, v, self.reconstruct(v, labels)


def margin_loss(lengths, labels, m_plus=0.9, m_minus=0.1, lam=0.5):
    """sum_k T_k max(0, m+ - |v_k|)^2 + lam (1 - T_k) max(0, |v_k| - m-)^2, mean over
    the batch."""
    t = F.one_hot(labels, lengths.shape[1]).to(lengths.dtype)
    loss = (
        t * F.relu(m_plus - lengths) ** 2
        + lam * (1 - t) * F.relu(lengths - m_minus) ** 2
    )
    return loss.sum(1).mean()


def capsnet_loss(lengths, x_rec, x, labels, rec_weight=0.0005):
    """Margin loss plus 0.0005 x the summed squared reconstruction error, as in the
    paper."""
    rec = ((x_rec - x) ** 2).flatten(1).sum(1).mean()
    return margin_loss(lengths, labels) + rec_weight * rec


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
    epochs=8,
    batch_size=64,
    lr=3e-3,
    rec_weight=0.0005,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam with an exponentially decaying learning rate; shift augmentation;
    reconstruction from the true class's capsule (``rec_weight=0``: none). ``seed``
    fixes the batch order and shifts. Returns ``{"loss": [mean loss per epoch]}``."""
    model.to(device)
    gen = None if seed is None else torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    history = {"loss": []}
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            xb, yb = shift(x[idx], generator=gen).to(device), y[idx].to(device)
            lengths, _, x_rec = model(xb, yb)
            loss = capsnet_loss(lengths, x_rec, xb, yb, rec_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        history["loss"].append(total / len(x))
        if log:
            log(f"epoch {epoch + 1}: loss {history['loss'][-1]:.4f}")
    return history


@torch.no_grad()
def predict(model, x, *, device="cpu", batch_size=500):
    """Predicted classes (the longest digit capsule) and the digit capsules."""
    model.to(device).eval()
    vs = torch.cat(
        [
            model.capsules(x[i : i + batch_size].to(device)).cpu()
            for i in range(0, len(x), batch_size)
        ]
    )
    return vs.norm(dim=-1).argmax(1), vs


if __name__ == "__main__":
    torch.manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    h = train(CapsNet(conv_ch=16, n_primary=4), x, y, epochs=3, batch_size=32)
    print("loss", [round(v, 4) for v in h["loss"]])
