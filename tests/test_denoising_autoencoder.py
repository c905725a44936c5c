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
    model = DenoisingAutoencoder(width=8)
    x = torch.rand(5, 1, 28, 28)
    assert model(x).shape == x.shape
    out = denoise(model, x)
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1
    assert gaussian_blur(x, 1.0).shape == x.shape


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


def test_loss_is_cross_entropy_against_the_clean_image():
    logits, clean = torch.randn(2, 1, 3, 3), torch.rand(2, 1, 3, 3)
    p = torch.sigmoid(logits)
    by_hand = -(clean * p.log() + (1 - clean) * (1 - p).log()).mean()
    assert abs(denoising_loss(logits, clean).item() - by_hand.item()) < 1e-5


def test_train_learns():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)
    x[torch.arange(64), 0, torch.randint(4, 24, (64,))] = (
        1.0  # one bright row per image
    )
    model = DenoisingAutoencoder(width=8)
    hist = train(model, x, epochs=20, batch_size=16)
    assert hist[-1] < 0.5 * hist[0]
    noisy = corrupt(x, 0.5, torch.Generator().manual_seed(0))
    assert psnr(denoise(model, noisy), x) > psnr(noisy, x) + 3
