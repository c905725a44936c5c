"""A2C: shapes, GAE against a hand computation, the loss against its formula,
learning."""

import pytest
import torch
import torch.nn.functional as F

from _corridor import Corridor
from actor_critic import ActorCritic, a2c_loss, gae, train


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_shapes():
    logits, value = ActorCritic(4, 2, hidden=8)(torch.randn(7, 3, 4))
    assert logits.shape == (7, 3, 2) and value.shape == (7, 3)


def test_gae_by_hand():
    g, lam = 0.9, 0.5
    # one sub-env, 4 steps: terminated at step 1, truncated (time limit) at step 3
    rew = torch.tensor([[1.0], [1.0], [0.0], [1.0]])
    v = torch.tensor([[0.5], [0.2], [0.3], [0.4]])
    nv = torch.tensor(
        [[0.2], [9.0], [0.4], [0.7]]
    )  # 9.0: after a terminal step it is ignored
    term = torch.tensor([[0.0], [1.0], [0.0], [0.0]])
    done = torch.tensor([[0.0], [1.0], [0.0], [1.0]])
    adv = gae(rew, v, nv, term, done, g, lam)[:, 0]
    d = [
        1 + g * 0.2 - 0.5,
        1 - 0.2,
        0 + g * 0.4 - 0.3,
        1 + g * 0.7 - 0.4,
    ]  # truncation bootstraps
    a3 = d[3]
    a2 = d[2] + g * lam * a3
    a1 = d[1]  # the episode ended: no look-ahead
    a0 = d[0] + g * lam * a1
    assert torch.allclose(adv, torch.tensor([a0, a1, a2, a3]), atol=1e-6)
    # lambda = 1 with no ends gives the discounted return minus the value (Monte Carlo
    # advantage)
    z = torch.zeros(3, 1)
    r3 = torch.tensor([[1.0], [2.0], [3.0]])
    assert torch.allclose(
        gae(r3, z, z, z, z, 0.5, 1.0)[:, 0], torch.tensor([1 + 1 + 0.75, 2 + 1.5, 3.0])
    )


def test_loss_against_formula():
    torch.manual_seed(0)
    logits, value = torch.randn(3, 2), torch.randn(3)
    act, adv, ret = (
        torch.tensor([1, 0, 1]),
        torch.tensor([0.5, -1.0, 2.0]),
        torch.tensor([1.0, 2.0, 3.0]),
    )
    mask = torch.tensor([1.0, 1.0, 0.0])
    loss = a2c_loss(
        logits, value, act, adv, ret, mask, value_coef=0.5, entropy_coef=0.1
    )
    lp = F.log_softmax(logits, -1)
    ent = -(lp.exp() * lp).sum(-1)
    expect = (
        -(lp[[0, 1], [1, 0]] * adv[:2]).mean()
        + 0.5 * ((value[:2] - ret[:2]) ** 2).mean()
        - 0.1 * ent[:2].mean()
    )
    assert loss.item() == pytest.approx(expect.item(), rel=1e-5)


def test_train_learns():
    h = train(
        Corridor(8),
        4_000,
        eval_env=Corridor(8),
        eval_every=1_000,
        n_steps=8,
        hidden=16,
        lr=3e-3,
        log=lambda s: 0,
    )
    assert h["best"] == 1.0 and h["env_steps"] >= 4_000
