"""IntroVAE (Huang, Li, He, Sun and Tan, "IntroVAE: Introspective Variational
Autoencoders for Photographic Image Synthesis", NeurIPS 2018). A VAE whose encoder
doubles as the discriminator of a GAN, with no extra network: the encoder is trained to
give real images a small KL divergence from the prior and generated images
(reconstructions and prior samples) a KL of at least a margin m, while the decoder is
trained to make the encoder give its images a small KL. On real data the encoder and
decoder still form an ordinary VAE (reconstruction plus KL), which keeps training
stable; the adversarial term is what sharpens the samples. As in the authors' code,
each step updates the encoder first, then the decoder, whose images are scored by the
updated encoder.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


class Encoder(nn.Module):
    """q(z|x) for 1x28x28 images: two strided convolutions, then the mean and
    log-variance."""

    def __init__(self, z_dim=16, width=16, hidden=256):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * w * 49, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 2 * z_dim),
        )

    def forward(self, x):
        mu, logvar = self.net(x.view(-1, 1, 28, 28)).chunk(2, dim=1)
        return mu, logvar


class Decoder(nn.Module):
    """p(x|z): Bernoulli logits of shape (batch, 1, 28, 28)."""

    def __init__(self, z_dim=16, width=16, hidden=256):
        super().__init__()
        self.z_dim, w = z_dim, width
        self.net = nn.Sequential(
            nn.Linear(z_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 2 * w * 49),
            nn.ReLU(),
            nn.Unflatten(1, (2 * w, 7, 7)),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, 2, 1),
        )

    def forward(self, z):
        return self.net(z)


def kl_normal(mu, logvar):
    """KL(N(mu, diag exp(logvar)) || N(0, I)) per example, summed over latent
    dimensions."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def encoder_loss(enc, dec, x, margin=40.0, alpha=0.25, beta=1.0):
    """The encoder's loss, in nats per image, and what the decoder's step needs:

        L_E = KL(x) + alpha * sum_s [m - KL(sg(x_s))]^+ + beta * recon

    with x_s the reconstruction x_r and a prior sample x_p, gradients stopped. Its
    beta * recon term is also the decoder's reconstruction term (the only part of L_E
    that reaches the decoder). Returns (loss_enc, (x_r, x_p) or None when alpha = 0,
    stats)."""
    mu, logvar = enc(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    logits_r = dec(z)
    recon = (
        F.binary_cross_entropy_with_logits(logits_r, x, reduction="none")
        .flatten(1)
        .sum(1)
    )
    kl_real = kl_normal(mu, logvar)
    loss, kl_fake, fakes = kl_real + beta * recon, torch.zeros_like(kl_real), None
    if alpha > 0:  # alpha = 0 is a plain VAE: no generated images are needed
        fakes = (torch.sigmoid(logits_r), torch.sigmoid(dec(torch.randn_like(z))))
        kl_fake = [kl_normal(*enc(xs.detach())) for xs in fakes]
        loss = loss + alpha * sum(F.relu(margin - k) for k in kl_fake)
        kl_fake = kl_fake[1]
    stats = dict(
        recon=recon.mean().item(),
        kl_real=kl_real.mean().item(),
        kl_fake=kl_fake.mean().item(),
    )
    return loss.mean(), fakes, stats


def decoder_adv_loss(enc, fakes, alpha=0.25):
    """The decoder's adversarial term, alpha * sum_s KL(x_s), scored by the encoder as
    it is now (after its own step); with beta * recon from ``encoder_loss`` this is
    L_G = alpha * sum_s KL(x_s) + beta * recon."""
    return alpha * sum(kl_normal(*enc(xs)) for xs in fakes).mean()


def train_step(enc, dec, opt_e, opt_d, x, margin=40.0, alpha=0.25, beta=1.0):
    """One step as in the authors' code: the encoder steps on L_E first; then the
    decoder steps on L_G, with the KL of its images measured by the updated encoder.
    Each loss reaches its own network only."""
    loss_e, fakes, stats = encoder_loss(enc, dec, x, margin, alpha, beta)
    opt_e.zero_grad(), opt_d.zero_grad()
    # the encoder gets all of L_E; the decoder gets only beta * recon from it
    loss_e.backward(retain_graph=alpha > 0)
    opt_e.step()
    if alpha > 0:
        loss_g = decoder_adv_loss(enc, fakes, alpha)
        loss_g.backward(inputs=list(dec.parameters()))  # never the encoder
    opt_d.step()
    return stats


def train(
    enc,
    dec,
    x_train,
    *,
    epochs=10,
    batch_size=100,
    lr=1e-3,
    margin=40.0,
    alpha=0.25,
    beta=1.0,
    device="cpu",
    seed=None,
    log=None,
):
    """Adam for each network, one ``train_step`` per batch; ``alpha=0`` trains a plain
    VAE with the same networks. Returns the last batch's ``recon``, ``kl_real`` and
    ``kl_fake`` (the KL of prior samples) per epoch; ``log(epoch, hist)`` is called
    after each epoch when given."""
    if seed is not None:
        torch.manual_seed(seed)
    enc.to(device), dec.to(device)
    opt_e = torch.optim.Adam(enc.parameters(), lr=lr)
    opt_d = torch.optim.Adam(dec.parameters(), lr=lr)
    hist = {"recon": [], "kl_real": [], "kl_fake": []}
    for epoch in range(epochs):
        enc.train(), dec.train()
        for idx in torch.randperm(len(x_train)).split(batch_size):
            x = x_train[idx].to(device)
            stats = train_step(enc, dec, opt_e, opt_d, x, margin, alpha, beta)
        for k in hist:
            hist[k].append(stats[k])
        if log is not None:
            log(epoch, hist)
    return hist


@torch.no_grad()
def sample(dec, n, *, device="cpu"):
    """Decode z ~ N(0, I): pixel probabilities of shape (n, 1, 28, 28)."""
    dec.eval()
    return torch.sigmoid(dec(torch.randn(n, dec.z_dim, device=device)))


def laplacian_variance(images):
    """Sharpness of each image: the variance of its discrete Laplacian (blur lowers
    it)."""
    k = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(
        1, 1, 3, 3
    )
    return F.conv2d(images.view(-1, 1, 28, 28).float().cpu(), k).flatten(1).var(dim=1)


if __name__ == "__main__":
    torch.manual_seed(0)
    x = (torch.rand(256, 1, 28, 28) > 0.7).float()
    enc, dec = (
        Encoder(z_dim=4, width=4, hidden=32),
        Decoder(z_dim=4, width=4, hidden=32),
    )
    hist = train(enc, dec, x, epochs=3, batch_size=64, margin=10.0)
    print(
        f"introvae: reconstruction loss per epoch "
        f"{[round(v, 1) for v in hist['recon']]}"
    )
