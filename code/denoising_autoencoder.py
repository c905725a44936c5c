"""Denoising autoencoder (Vincent, Larochelle, Bengio and Manzagol, "Extracting and
Composing Robust Features with Denoising Autoencoders", ICML 2008). Instead of
reproducing its input, the network receives a corrupted copy and is trained to output
the clean original. It cannot succeed by copying, so it must learn what clean images
look like and pull each corrupted image back towards them; the trained network is an
image denoiser, and its encoder a feature extractor that is robust to the corruption.
The paper corrupted by zeroing random pixels; here the corruption is additive Gaussian
noise and the encoder-decoder is convolutional. For Gaussian noise the best denoiser in
squared error is the posterior mean, and E[x | x~] = x~ + sigma^2 grad log p(x~)
(Tweedie; Vincent 2011): a denoiser is an estimate of the score of the noisy data, the
quantity diffusion models learn. ``residual=True`` is the alternative design: one skip
from input to output, the network estimating the noise to subtract (DnCNN).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class DenoisingAutoencoder(nn.Module):
    """Two stride-2 convolutions (28x28x1 -> 14x14x32 -> 7x7x64), a 3x3 convolution in
    the middle, and two stride-2 transposed convolutions back to 28x28x1. It returns
    the denoised image: the sigmoid of the decoder's output, so every pixel lies in
    [0, 1]; with ``residual``, the noisy input minus the decoder's output (an estimate
    of the noise, so the skip carries the image and the network only the correction)."""

    def __init__(self, width=32, residual=False):
        super().__init__()
        w, self.residual = width, residual
        self.encoder = nn.Sequential(
            nn.Conv2d(1, w, 3, stride=2, padding=1),
            nn.ReLU(),  # 14x14
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),
            nn.ReLU(),  # 7x7
            nn.Conv2d(2 * w, 2 * w, 3, padding=1),
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1),
            nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(w, 1, 4, stride=2, padding=1),
        )  # 28x28

    def forward(self, x_noisy):
        out = self.decoder(self.encoder(x_noisy))
        return x_noisy - out if self.residual else torch.sigmoid(out)


def corrupt(x, sigma, generator=None):
    """Additive Gaussian noise: x + sigma * eps, eps ~ N(0, 1) per pixel. ``sigma`` is a
    number or a tensor of one value per image (shape (N,)). The result is not clipped,
    so the noise has exactly the requested mean and standard deviation."""
    sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(
        -1, *[1] * (x.dim() - 1)
    )
    eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + sigma * eps


def denoising_loss(x_hat, x_clean, kind="bce"):
    """The output scored against the CLEAN image (not the noisy input), per pixel:
    ``"bce"``, the cross-entropy for pixel values in [0, 1] (the paper's loss; the
    output must lie in (0, 1)), or ``"mse"``, the squared error. For soft targets both
    are minimised by the same output, the posterior mean E[x | x~]: the choice changes
    the gradients, not what is learned."""
    if kind == "bce":
        return F.binary_cross_entropy(x_hat, x_clean)
    return F.mse_loss(x_hat, x_clean)


def psnr(x_hat, x_clean, peak=1.0):
    """Peak signal-to-noise ratio in dB, 10 log10(peak^2 / MSE), computed per image and
    averaged over the images."""
    mse = ((x_hat - x_clean) ** 2).flatten(1).mean(1)
    return (10 * torch.log10(peak**2 / mse)).mean().item()


def train(
    model,
    x_train,
    *,
    sigma_range=(0.1, 0.7),
    epochs=10,
    batch_size=64,
    lr=2e-3,
    loss="bce",
    device="cpu",
    seed=None,
    log=None,
):
    """Adam on the denoising loss (``loss``: "bce" or "mse"). Each time an image is
    drawn, a fresh noise level sigma is picked uniformly in ``sigma_range`` and fresh
    noise is drawn, so one model learns a range of levels (``(0, 0)``: no noise, a
    plain autoencoder). ``seed`` fixes batches and noise; ``log`` gets a line per
    epoch. Returns ``{"loss": [mean training loss of each epoch]}``."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * math.ceil(len(x_train) / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    lo, hi = sigma_range
    hist = {"loss": []}
    for epoch in range(epochs):
        perm, total = torch.randperm(len(x_train)), 0.0
        for i in range(0, len(x_train), batch_size):
            x = x_train[perm[i : i + batch_size]].to(device)
            sigma = lo + (hi - lo) * torch.rand(len(x), device=device)
            err = denoising_loss(model(corrupt(x, sigma)), x, loss)
            opt.zero_grad()
            err.backward()
            opt.step()
            sched.step()
            total += err.item() * len(x)
        hist["loss"].append(total / len(x_train))
        if log:
            log(f"epoch {epoch + 1}: loss {hist['loss'][-1]:.4f}")
    return hist


@torch.no_grad()
def denoise(model, x_noisy, device="cpu", batch_size=500):
    """The denoised images for a stack of noisy images, clipped to [0, 1], on the
    CPU."""
    model.to(device).eval()
    return torch.cat(
        [
            model(x_noisy[i : i + batch_size].to(device)).clamp(0, 1).cpu()
            for i in range(0, len(x_noisy), batch_size)
        ]
    )


def gaussian_blur(x, s):
    """A classical denoiser: blur with a Gaussian of standard deviation ``s`` pixels (s
    = 0 returns the input), then clip to [0, 1]."""
    if s <= 0:
        return x.clamp(0, 1)
    r = max(1, math.ceil(3 * s))
    t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-(t**2) / (2 * s**2))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="replicate"), k.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, r, r), mode="replicate"), k.view(1, 1, -1, 1))
    return x.clamp(0, 1)


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)  # bars at random rows: a toy "digit"
    x[torch.arange(64), 0, torch.randint(4, 24, (64,))] = 1.0
    model = DenoisingAutoencoder(width=8)
    loss = train(model, x, epochs=20, batch_size=16)["loss"]
    noisy = corrupt(x, 0.5)
    print(
        f"loss {loss[0]:.4f} -> {loss[-1]:.4f}; PSNR noisy {psnr(noisy, x):.2f} dB, "
        f"denoised {psnr(denoise(model, noisy), x):.2f} dB"
    )
