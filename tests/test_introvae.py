"""IntroVAE: shapes, the hinge and stop-gradient structure of the encoder's loss, that
each loss reaches only its own network, that the decoder's images are scored by the
updated encoder (the authors' order), and that training learns."""

import copy

import torch
import torch.nn.functional as F

from introvae import (
    Decoder,
    Encoder,
    encoder_loss,
    kl_normal,
    laplacian_variance,
    sample,
    train,
    train_step,
)


def small():
    torch.manual_seed(0)
    return Encoder(z_dim=3, width=4, hidden=32), Decoder(z_dim=3, width=4, hidden=32)


def test_shapes():
    enc, dec = small()
    mu, logvar = enc(torch.rand(5, 1, 28, 28))
    assert mu.shape == logvar.shape == (5, 3)
    assert dec(mu).shape == (5, 1, 28, 28)
    assert sample(dec, 4).shape == (4, 1, 28, 28)
    assert laplacian_variance(torch.rand(4, 1, 28, 28)).shape == (4,)


def test_adversarial_term_of_encoder_loss():
    """Margin 0: the hinge vanishes and L_E is the VAE loss. A huge margin: the hinge
    is active but sends no gradient to the decoder. Fails if the generated images are
    not detached in the encoder's hinge."""
    enc, dec = small()
    x = torch.rand(8, 1, 28, 28)
    torch.manual_seed(1)
    loss_e, _, st = encoder_loss(enc, dec, x, margin=0.0, alpha=0.25, beta=1.0)
    assert abs(loss_e.item() - (st["recon"] + st["kl_real"])) < 1e-3
    torch.manual_seed(1)
    loss_big, _, st = encoder_loss(enc, dec, x, margin=1e6, alpha=0.25, beta=0.0)
    mu, logvar = enc(x)
    extra = loss_big - kl_normal(mu, logvar).mean()
    assert extra.item() > 1e5  # the hinge is active
    grads = torch.autograd.grad(extra, list(dec.parameters()), allow_unused=True)
    assert all(g is None or g.abs().max() == 0 for g in grads)


def _by_hand(enc_fwd, enc_score, dec, x, alpha, beta, margin):
    """L_E with the encoder ``enc_fwd``, and L_G with the decoder's images scored by
    ``enc_score`` (same random draws as ``encoder_loss`` after the same seed)."""
    mu, logvar = enc_fwd(x)
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
    logits = dec(z)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    recon = recon.flatten(1).sum(1)
    fakes = (torch.sigmoid(logits), torch.sigmoid(dec(torch.randn_like(z))))
    hinge = sum(F.relu(margin - kl_normal(*enc_fwd(f.detach()))) for f in fakes)
    loss_e = (kl_normal(mu, logvar) + alpha * hinge + beta * recon).mean()
    loss_g = (
        alpha * sum(kl_normal(*enc_score(f)) for f in fakes) + beta * recon
    ).mean()
    return loss_e, loss_g


def test_each_loss_reaches_only_its_own_network():
    """With both learning rates 0 the step changes nothing, and the gradients it leaves
    must be dL_E/d(encoder) and dL_G/d(decoder). Fails if one summed loss is
    backpropagated into both networks, or if L_G's gradient also reaches the
    encoder."""
    enc, dec = small()
    x = torch.rand(8, 1, 28, 28)
    opt_e = torch.optim.SGD(enc.parameters(), lr=0.0)
    opt_d = torch.optim.SGD(dec.parameters(), lr=0.0)
    torch.manual_seed(1)
    train_step(enc, dec, opt_e, opt_d, x, margin=30.0, alpha=0.25, beta=1.0)
    torch.manual_seed(1)
    loss_e, loss_g = _by_hand(enc, enc, dec, x, 0.25, 1.0, 30.0)
    want_e = torch.autograd.grad(loss_e, list(enc.parameters()), retain_graph=True)
    want_d = torch.autograd.grad(loss_g, list(dec.parameters()))
    for p, w in zip(enc.parameters(), want_e):
        assert torch.allclose(p.grad, w, atol=1e-5, rtol=1e-4)
    for p, w in zip(dec.parameters(), want_d):
        assert torch.allclose(p.grad, w, atol=1e-5, rtol=1e-4)


def test_decoder_is_scored_by_the_updated_encoder():
    """The encoder steps first; the decoder's KL term is then measured by the updated
    encoder, as in the authors' code. Fails for the simultaneous version (both losses
    from one forward pass of the old encoder)."""
    enc, dec = small()
    x = torch.rand(8, 1, 28, 28)
    enc_before = copy.deepcopy(enc)
    opt_e = torch.optim.SGD(enc.parameters(), lr=0.05)
    opt_d = torch.optim.SGD(dec.parameters(), lr=0.0)
    torch.manual_seed(1)
    train_step(enc, dec, opt_e, opt_d, x, margin=30.0, alpha=0.25, beta=1.0)
    assert any(
        (a - b).abs().max() > 0
        for a, b in zip(enc.parameters(), enc_before.parameters())
    )
    torch.manual_seed(1)
    _, loss_g = _by_hand(enc_before, enc, dec, x, 0.25, 1.0, 30.0)
    want_d = torch.autograd.grad(loss_g, list(dec.parameters()))
    torch.manual_seed(1)
    _, loss_old = _by_hand(enc_before, enc_before, dec, x, 0.25, 1.0, 30.0)
    old_d = torch.autograd.grad(loss_old, list(dec.parameters()))
    assert max((w - o).abs().max() for w, o in zip(want_d, old_d)) > 1e-4
    for p, w in zip(dec.parameters(), want_d):
        assert torch.allclose(p.grad, w, atol=1e-6, rtol=1e-4)


def test_train_learns_to_reconstruct():
    """Four binary prototypes: after training, reconstructions match them. Fails for a
    decoder whose output does not depend on z (a constant image) and for an encoder
    that learns nothing."""
    torch.manual_seed(0)
    protos = (torch.rand(4, 1, 28, 28) > 0.6).float()
    x = protos[torch.randint(4, (256,))]
    enc, dec = (
        Encoder(z_dim=4, width=8, hidden=64),
        Decoder(z_dim=4, width=8, hidden=64),
    )
    hist = train(enc, dec, x, epochs=15, batch_size=32, lr=5e-3, margin=5.0)
    assert set(hist) == {"recon", "kl_real", "kl_fake"} and len(hist["recon"]) == 15
    with torch.no_grad():
        rec = torch.sigmoid(dec(enc(protos)[0])) > 0.5
    assert ((rec.float() == protos).float().mean((1, 2, 3)) > 0.95).all()
