"""Tests for code/infogan.py: shapes, the information loss by hand, and that train
learns the code."""

import math

import torch
import torch.nn.functional as F

from infogan import (
    InfoDiscriminator,
    InfoGenerator,
    generate,
    info_loss,
    sample_codes,
    train,
)


def test_shapes():
    G, D = InfoGenerator(noise_dim=8, width=8), InfoDiscriminator(width=8, hidden=16)
    z, c_cat, c_cont = sample_codes(6, 8)
    x = G(z, c_cat, c_cont)
    logit, cat_logits, cont_mean = D(x)
    assert x.shape == (6, 1, 14, 14) and 0 <= x.min() and x.max() <= 1
    assert (
        logit.shape == (6,)
        and cat_logits.shape == (6, 10)
        and cont_mean.shape == (6, 2)
    )
    assert c_cat.min() >= 0 and c_cat.max() < 10 and c_cont.abs().max() <= 1
    assert generate(G, c_cat, c_cont).shape == (6, 1, 14, 14)


def test_info_loss_by_hand():
    """Fails if the categorical part is not -mean log softmax(Q's logits)[drawn code] or
    the continuous part is not a unit-variance Gaussian negative log-likelihood (without
    its constant) weighted by 0.5."""
    torch.manual_seed(0)
    logits, c = torch.randn(5, 10), torch.tensor([3, 0, 9, 3, 7])
    mean, cont = torch.randn(5, 2), torch.rand(5, 2) * 2 - 1
    total, cat = info_loss(logits, c, mean, cont)
    p = logits.exp() / logits.exp().sum(1, keepdim=True)
    by_hand_cat = -sum(math.log(p[i, c[i]]) for i in range(5)) / 5
    by_hand_cont = (
        sum(0.5 * ((mean[i] - cont[i]) ** 2).sum().item() for i in range(5)) / 5
    )
    assert abs(cat.item() - by_hand_cat) < 1e-5
    assert abs(total.item() - (by_hand_cat + 0.5 * by_hand_cont)) < 1e-5
    # a Q that reads the code perfectly makes the bound H(c) - CE reach H(c) = log 10
    _, cat = info_loss(100 * F.one_hot(c, 10).float(), c, cont, cont)
    assert cat.item() < 1e-6


def test_information_loss_trains_the_shared_body():
    """Fails if the information loss never reaches D's shared body (D's step on its
    cross-entropy alone, Q trained with G only): after one step from the same start,
    the body must differ between info_weight 1 and 0."""
    bodies = []
    for weight in (1.0, 0.0):
        torch.manual_seed(0)
        G = InfoGenerator(noise_dim=4, width=8)
        D = InfoDiscriminator(width=8, hidden=16)
        train(
            G,
            D,
            torch.rand(64, 1, 14, 14),
            steps=1,
            batch_size=16,
            info_weight=weight,
            seed=0,
        )
        bodies.append(torch.cat([p.flatten() for p in D.body.parameters()]))
    assert not torch.equal(bodies[0], bodies[1])


def test_train_makes_the_code_readable():
    """Fails if G ignores the code or Q cannot read it: on random "digits", the bound
    H(c) - CE must rise by half a nat within 150 steps."""
    torch.manual_seed(0)
    G, D = InfoGenerator(noise_dim=4, width=8), InfoDiscriminator(width=8, hidden=32)
    hist = train(G, D, torch.rand(256, 1, 14, 14), steps=150, batch_size=32, seed=0)
    assert sum(hist["mi_bound"][-10:]) / 10 > sum(hist["mi_bound"][:10]) / 10 + 0.5
    assert len(hist["d_loss"]) == len(hist["g_loss"]) == 150
