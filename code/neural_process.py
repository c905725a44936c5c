"""Neural Process (Garnelo, Schwarz, Rosenbaum, Viola, Rezende, Eslami and Teh, "Neural
Processes", ICML 2018 workshop; with the deterministic path of Kim et al., "Attentive
Neural Processes", ICLR 2019, without attention). A model of functions: given a context
set of (x, y) pairs from one function (here the pixels of one digit, x the coordinates
and y the intensity), it predicts a Gaussian over y at any target x. Each context pair
is encoded on its own and the codes are averaged, so the prediction does not depend on
the order of the context and works for any number of points. A deterministic path
carries the mean code r; a latent path gives a Gaussian over a global z, whose samples
are coherent whole functions (one digit each), trained with an ELBO.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class NeuralProcess(nn.Module):
    """x: (B, N, x_dim) coordinates, y: (B, N, y_dim) values. Context sets are
    aggregated by the mean over N. ``z_dim=0`` drops the latent path: a conditional
    neural process (CNP), deterministic given the context."""

    def __init__(self, x_dim=2, y_dim=1, h=128, r_dim=128, z_dim=64):
        super().__init__()
        self.z_dim = z_dim
        self.det = mlp([x_dim + y_dim, h, h, r_dim])  # deterministic path
        if z_dim:
            self.lat = mlp([x_dim + y_dim, h, h, 2 * z_dim])  # latent path (per point)
        self.dec = mlp([x_dim + r_dim + z_dim, h, h, h, 2 * y_dim])

    def latent(self, x, y, n_context=None):
        """q(z | set) = N(mu, sigma) from the mean over the set's per-point codes. With
        ``n_context``, also q(z | the set's first n_context points), from the same
        codes (one pass of the latent path for both)."""
        codes = self.lat(torch.cat([x, y], -1))

        def q(c):
            mu, s = c.mean(1).chunk(2, -1)
            return mu, 0.1 + 0.9 * torch.sigmoid(s)

        return q(codes) if n_context is None else (q(codes), q(codes[:, :n_context]))

    def forward(self, xc, yc, xt, z=None):
        """Predictive mean and standard deviation at targets xt (B, T, x_dim). Without
        z, a z is drawn from q(z | context)."""
        r = self.det(torch.cat([xc, yc], -1)).mean(1)  # (B, r_dim), order-free
        if z is None and self.z_dim:
            mu, sigma = self.latent(xc, yc)
            z = mu + sigma * torch.randn_like(mu)
        code = r if not self.z_dim else torch.cat([r, z], -1)  # one per image
        # The decoder reads [x_t, code] at every target. Its first layer is linear, so
        # W [x_t; code] + b = W_x x_t + (W_c code + b): the code's part is computed once
        # per image, not once per target (the same numbers, about 40% less work).
        first, W = self.dec[0], self.dec[0].weight
        xd = xt.shape[-1]
        h = xt @ W[:, :xd].T + (code @ W[:, xd:].T + first.bias)[:, None]
        mean, s = self.dec[1:](h).chunk(2, -1)
        return mean, 0.05 + 0.95 * F.softplus(s)


def gaussian_kl(mu_q, sig_q, mu_p, sig_p):
    """KL(N(mu_q, sig_q^2) || N(mu_p, sig_p^2)), summed over the last dimension."""
    var_ratio = (sig_q / sig_p) ** 2
    return 0.5 * (var_ratio + ((mu_q - mu_p) / sig_p) ** 2 - 1 - var_ratio.log()).sum(
        -1
    )


def np_loss(model, xt, yt, n_context):
    """Negative ELBO per image: -E_{q(z|C,T)} log N(yt; mean, std) summed over targets
    + KL(q(z | C and T) || q(z | C)) (the context posterior stands in for the prior).
    The targets include the context: it is their first ``n_context`` points. Without a
    latent path (a CNP) only the negative log-likelihood remains."""
    xc, yc = xt[:, :n_context], yt[:, :n_context]
    if not model.z_dim:
        mean, std = model(xc, yc, xt)
        return -torch.distributions.Normal(mean, std).log_prob(yt).sum((1, 2)).mean()
    (mu_t, sig_t), (mu_c, sig_c) = model.latent(xt, yt, n_context)
    z = mu_t + sig_t * torch.randn_like(mu_t)
    mean, std = model(xc, yc, xt, z=z)
    nll = -torch.distributions.Normal(mean, std).log_prob(yt).sum((1, 2))
    return (nll + gaussian_kl(mu_t, sig_t, mu_c, sig_c)).mean()


def pixel_grid(size=28):
    """Coordinates of every pixel, scaled to [-1, 1]: shape (size*size, 2),
    row-major."""
    ii, jj = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    return torch.stack([ii, jj], -1).view(-1, 2).float() / (size - 1) * 2 - 1


def train(
    model,
    images,
    *,
    steps=1000,
    batch_size=16,
    n_target=300,
    max_context=200,
    lr=5e-4,
    device="cpu",
    seed=None,
    log=None,
):
    """Each step: a batch of images, a random number (3 to ``max_context``) of context
    pixels, and a random set of target pixels that contains the context. Returns the
    per-step ``loss`` (nats per image); ``log(step, hist)`` is called every 100 steps
    when given."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    grid = pixel_grid().to(device)
    y_all = images.flatten(1)[..., None]  # (N, 784, 1)
    hist = {"loss": []}
    for step in range(steps):
        idx = torch.randint(len(images), (batch_size,))
        y = y_all[idx].to(device)
        n_c = int(torch.randint(3, max_context + 1, ()))
        perm = torch.randperm(784, device=device)[: max(n_target, n_c)]
        xt, yt = grid[perm].expand(batch_size, -1, -1), y[:, perm]
        loss = np_loss(model, xt, yt, n_c)
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist["loss"].append(loss.item())
        if log is not None and step % 100 == 0:
            log(step, hist)
    return hist


def context_split(n_images, n_context, seed=0):
    """For each image, a random permutation of its 784 pixels: the first
    ``n_context`` are the context, the rest the unseen targets. Shape (n_images,
    784)."""
    g = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randperm(784, generator=g) for _ in range(n_images)])


@torch.no_grad()
def log_likelihood(model, images, n_context, *, samples=16, seed=0, device="cpu"):
    """Held-out predictive log-likelihood of the pixels not in the context, per
    pixel: log (1/S) sum_s prod_t p(y_t | z_s, context) with z_s ~ q(z | context), the
    product over all unseen pixels of an image (a joint score: it rewards samples
    that are coherent across pixels). A CNP's is the sum of its marginals."""
    model.eval()
    grid = pixel_grid().to(device)
    y = images.flatten(1)[..., None].to(device)
    perm = context_split(len(images), n_context, seed).to(device)
    ctx, tgt = perm[:, :n_context], perm[:, n_context:]
    xc, yc = grid[ctx], torch.gather(y, 1, ctx[..., None])
    xt, yt = grid[tgt], torch.gather(y, 1, tgt[..., None])
    lls = torch.stack(
        [
            torch.distributions.Normal(*model(xc, yc, xt)).log_prob(yt).sum((1, 2))
            for _ in range(samples if model.z_dim else 1)
        ]
    )
    n_draws = len(lls)
    return ((torch.logsumexp(lls, 0) - math.log(n_draws)) / tgt.shape[1]).mean().item()


if __name__ == "__main__":
    torch.manual_seed(0)
    imgs = torch.rand(32, 1, 28, 28)
    model = NeuralProcess(h=32, r_dim=32, z_dim=8)
    hist = train(model, imgs, steps=20, batch_size=4, n_target=100)["loss"]
    print(f"neural_process: loss first {hist[0]:.1f}, last {hist[-1]:.1f}")
    print(
        f"held-out log-likelihood per unseen pixel, 50 context points: "
        f"{log_likelihood(model, imgs[:4], 50, samples=2):.3f}"
    )
