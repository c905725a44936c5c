import math

import torch

from denoising_autoencoder import (
    DenoisingAutoencoder,
    corrupt,
    denoise,
    denoising_loss,
    gaussian_blur,
    psnr,
    train,
)


def test_shapes():
    x = torch.rand(5, 1, 28, 28)
    for residual in (False, True):
        model = DenoisingAutoencoder(width=8, residual=residual)
        assert model(x).shape == x.shape
        out = denoise(model, x)
        assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1
    assert 0 < DenoisingAutoencoder(width=8)(x).min()  # a sigmoid: inside (0, 1)
    assert gaussian_blur(x, 1.0).shape == x.shape


def test_the_residual_skip_carries_the_input():
    """With the decoder's last layer zeroed, the residual denoiser returns its noisy
    input unchanged (the skip carries the image, the network only a correction) and the
    plain one returns 0.5 everywhere (no path around the bottleneck). Fails if
    ``residual`` is ignored, or if the plain network leaks its input to the output."""
    x = torch.randn(3, 1, 28, 28)
    for residual in (False, True):
        model = DenoisingAutoencoder(width=8, residual=residual)
        torch.nn.init.zeros_(model.decoder[-1].weight)
        torch.nn.init.zeros_(model.decoder[-1].bias)
        with torch.no_grad():
            out = model(x)
        assert torch.allclose(out, x if residual else torch.full_like(x, 0.5))


def test_psnr_against_a_hand_computation():
    torch.manual_seed(0)
    x, y = torch.rand(3, 1, 4, 4), torch.rand(3, 1, 4, 4)
    by_hand = []
    for a, b in zip(x, y):
        mse = sum(float(u - v) ** 2 for u, v in zip(a.flatten(), b.flatten())) / 16
        by_hand.append(10 * math.log10(1.0 / mse))
    assert abs(psnr(y, x) - sum(by_hand) / 3) < 1e-4
    # a uniform error of 0.1 on every pixel is 20 dB exactly
    assert abs(psnr(x + 0.1, x) - 20.0) < 1e-4


def test_corruption_has_the_requested_noise_statistics():
    x = torch.rand(2, 1, 100, 100)
    g = torch.Generator().manual_seed(0)
    noise = corrupt(x, torch.tensor([0.3, 0.6]), generator=g) - x
    for k, sigma in enumerate((0.3, 0.6)):
        e = noise[k].flatten()
        assert (
            abs(e.mean().item()) < 0.02 and abs(e.std().item() - sigma) < 0.02 * sigma
        )
    # the same generator seed gives the same noise; a scalar sigma applies to every
    # image
    assert torch.equal(
        corrupt(x, 0.5, torch.Generator().manual_seed(1)),
        corrupt(x, torch.tensor([0.5, 0.5]), torch.Generator().manual_seed(1)),
    )


def test_losses_against_the_clean_image():
    out, clean = torch.sigmoid(torch.randn(2, 1, 3, 3)), torch.rand(2, 1, 3, 3)
    by_hand = -(clean * out.log() + (1 - clean) * (1 - out).log()).mean()
    assert abs(denoising_loss(out, clean).item() - by_hand.item()) < 1e-5
    mse = ((out - clean) ** 2).mean()
    assert abs(denoising_loss(out, clean, "mse").item() - mse.item()) < 1e-6


def test_train_learns_to_denoise():
    """Trained on noisy copies scored against the clean images, the network beats the
    mean image (the best output that ignores the input) by more than 6 dB, and so the
    noisy input too. Fails if the loss is scored against the noisy input (a plain
    autoencoder, which learns to reproduce the noise), or for an output constant over
    each image."""
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)
    x[torch.arange(64), 0, torch.randint(4, 24, (64,))] = 1.0  # one bright row each
    model = DenoisingAutoencoder(width=8)
    hist = train(model, x, epochs=60, batch_size=8, lr=5e-3, seed=0)
    assert set(hist) == {"loss"} and len(hist["loss"]) == 60
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    noisy = corrupt(x, 0.5, torch.Generator().manual_seed(0))
    mean_image = psnr(x.mean(0, keepdim=True).expand_as(x), x)
    assert psnr(noisy.clamp(0, 1), x) < mean_image
    assert psnr(denoise(model, noisy), x) > mean_image + 6
