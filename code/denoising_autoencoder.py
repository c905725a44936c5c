"""Denoising autoencoder (Vincent, Larochelle, Bengio and Manzagol, "Extracting and
Composing Robust Features with Denoising Autoencoders", ICML 2008). Instead of
reproducing its input, the network receives a corrupted copy and is trained to output
the clean original. It cannot succeed by copying, so it must learn what clean images
look like and pull each corrupted image back towards them; the trained network is an
image denoiser, and its encoder a feature extractor that is robust to the corruption.
The paper corrupted by zeroing random pixels; here the corruption is additive Gaussian
noise and the encoder-decoder is convolutional.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class DenoisingAutoencoder(nn.Module):
    """Two stride-2 convolutions (28x28x1 -> 14x14x32 -> 7x7x64), a 3x3 convolution in
    the middle, and two stride-2 transposed convolutions back to 28x28x1. It returns
    logits: the denoised image is their sigmoid, so every pixel lies in [0, 1]. No
    skips: a skip would hand the noise straight to the output."""

    def __init__(self, width=32):
        super().__init__()
        w = width
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
        return self.decoder(self.encoder(x_noisy))


def corrupt(x, sigma, generator=None):
    """Additive Gaussian noise: x + sigma * eps, eps ~ N(0, 1) per pixel. ``sigma`` is a
    number or a tensor of one value per image (shape (N,)). The result is not clipped,
    so the noise has exactly the requested mean and standard deviation."""
    sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device).reshape(
        -1, *[1] * (x.dim() - 1)
    )
    eps = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return x + sigma * eps


def denoising_loss(logits, x_clean):
    """Cross-entropy between the output and the CLEAN image (not the noisy input), per
    pixel, for pixel values in [0, 1] (the paper's loss; squared error gets stuck here:
    with a sigmoid output on mostly-black digits it saturates at 0 and its gradient
    vanishes)."""
    return F.binary_cross_entropy_with_logits(logits, x_clean)


def psnr(x_hat, x_clean, peak=1.0):
    """Peak signal-to-noise ratio in dB, 10 log10(peak^2 / MSE), computed per image and
    averaged over the images."""
    mse = ((x_hat - x_clean) ** 2).flatten(1).mean(1)
    return (10 * torch.log10(peak**2 / mse)).mean().item()


def train(
    model,
    x_train,
    sigma_range=(0.1, 0.7),
    epochs=10,
    batch_size=64,
    lr=2e-3,
    device="cpu",
):
    """Adam on the denoising loss. Each time an image is drawn, a fresh noise level
    sigma is picked uniformly in ``sigma_range`` and fresh noise is drawn, so one model
    learns to denoise a range of levels. Returns the list of mean training losses, one
    per epoch."""
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * math.ceil(len(x_train) / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    lo, hi = sigma_range
    history = []
    for _ in range(epochs):
        perm, total = torch.randperm(len(x_train)), 0.0
        for i in range(0, len(x_train), batch_size):
            x = x_train[perm[i : i + batch_size]].to(device)
            sigma = lo + (hi - lo) * torch.rand(len(x), device=device)
            loss = denoising_loss(model(corrupt(x, sigma)), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(x)
        history.append(total / len(x_train))
    return history


@torch.no_grad()
def denoise(model, x_noisy, device="cpu", batch_size=500):
    """The denoised images (sigmoid of the logits) for a stack of noisy images, on the
    CPU."""
    model.to(device).eval()
    return torch.cat(
        [
            torch.sigmoid(model(x_noisy[i : i + batch_size].to(device))).cpu()
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
    hist = train(model, x, epochs=20, batch_size=16)
    noisy = corrupt(x, 0.5)
    print(
        f"loss {hist[0]:.4f} -> {hist[-1]:.4f}; PSNR noisy {psnr(noisy, x):.2f} dB, "
        f"denoised {psnr(denoise(model, noisy), x):.2f} dB"
    )
