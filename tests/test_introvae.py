"""IntroVAE: shapes, the hinge and stop-gradient structure of the encoder's loss, and
that training lowers the reconstruction loss."""

import torch

from introvae import (
    Decoder,
    Encoder,
    introvae_losses,
    kl_normal,
    laplacian_variance,
    sample,
    train,
)


def small():
    torch.manual_seed(0)
    return Encoder(z_dim=3, width=4, hidden=32), Decoder(z_dim=3, width=4, hidden=32)


def test_shapes():
    enc, dec = small()
    mu, logvar = enc(torch.rand(5, 1, 28, 28))
    assert mu.shape == logvar.shape == (5, 3)
    assert dec(mu).shape == (5, 1, 28, 28)
    assert sample(dec, 4, "cpu").shape == (4, 1, 28, 28)
    assert laplacian_variance(torch.rand(4, 1, 28, 28)).shape == (4,)


def test_adversarial_term_of_encoder_loss():
    enc, dec = small()
    x = torch.rand(8, 1, 28, 28).round()
    # margin 0: the hinge is zero, so the encoder loss is the plain VAE loss
    torch.manual_seed(1)
    loss_e, _, st = introvae_losses(enc, dec, x, margin=0.0, alpha=0.25, beta=1.0)
    assert abs(loss_e.item() - (st["recon"] + st["kl_real"])) < 1e-3
    # huge margin: the hinge terms are active but generated images are detached, so the
    # part of the encoder loss beyond the VAE loss sends no gradient to the decoder
    torch.manual_seed(1)
    loss_big, loss_d, st = introvae_losses(
        enc, dec, x, margin=1e6, alpha=0.25, beta=0.0
    )
    mu, logvar = enc(x)
    extra = loss_big - kl_normal(mu, logvar).mean()
    grads = torch.autograd.grad(
        extra, list(dec.parameters()), allow_unused=True, retain_graph=True
    )
    assert all(g is None or g.abs().max() == 0 for g in grads)
    # ...while the decoder's loss does reach the decoder through the encoder
    assert any(
        g is not None and g.abs().max() > 0
        for g in torch.autograd.grad(loss_d, list(dec.parameters()), allow_unused=True)
    )


def test_train_lowers_reconstruction():
    enc, dec = small()
    x = (torch.rand(128, 1, 28, 28) > 0.7).float()
    hist = train(enc, dec, x, torch.device("cpu"), epochs=6, batch_size=32, margin=5.0)
    assert hist["recon"][-1] < hist["recon"][0] - 5
