"""REINFORCE: shapes, discounted returns by hand, the loss against its formula,
learning."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from reinforce import PolicyWithBaseline, discounted_returns, reinforce_loss, train


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_shapes():
    m = PolicyWithBaseline(4, 3, hidden=8)
    x = torch.randn(6, 5, 4)
    assert m(x).shape == (6, 5, 3) and m.value(x).shape == (6, 5, 1)


def test_discounted_returns_by_hand():
    # two sub-envs; the first episode lasts 3 steps, the second 2 (then masked out)
    rew = torch.tensor([[1.0, 2.0], [0.0, 1.0], [3.0, 7.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    g = discounted_returns(rew, mask, gamma=0.5)
    expect = torch.tensor(
        [[1 + 0.5 * 0 + 0.25 * 3, 2 + 0.5 * 1], [0 + 0.5 * 3, 1.0], [3.0, 0.0]]
    )
    assert torch.allclose(g, expect)


def test_loss_against_formula():
    torch.manual_seed(0)
    m = PolicyWithBaseline(2, 2, hidden=8)
    obs, act = torch.randn(3, 2), torch.tensor([0, 1, 1])
    ret, mask = torch.tensor([2.0, 1.0, 5.0]), torch.tensor([1.0, 1.0, 0.0])
    loss = reinforce_loss(m, obs, act, ret, mask, value_coef=0.5)
    logp = F.log_softmax(m.policy(obs), -1)[[0, 1], [0, 1]]
    b = m.value(obs).squeeze(-1)[:2]
    adv = (ret[:2] - b).detach()
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    expect = -(logp * adv).mean() + 0.5 * ((b - ret[:2]) ** 2).mean()
    assert loss.item() == pytest.approx(expect.item(), rel=1e-5)


class Bandit:
    """5-step episodes; reward 1 when the action matches the sign of a random
    observation."""

    num_envs = 8

    def __init__(self):
        from types import SimpleNamespace as NS

        self.single_observation_space, self.single_action_space = (
            NS(shape=(1,)),
            NS(n=2),
        )
        self.rng = np.random.default_rng(0)

    def obs(self):
        self.x = self.rng.standard_normal(self.num_envs).astype(np.float32)
        return self.x[:, None]

    def reset(self, seed=None):
        self.t = np.zeros(self.num_envs)
        return self.obs(), {}

    def step(self, act):
        rew = (act == (self.x > 0)).astype(np.float32)
        self.t += 1
        return self.obs(), rew, self.t >= 5, np.zeros(self.num_envs, bool), {}


def test_train_learns():
    h = train(
        Bandit(),
        60,
        eval_env=Bandit(),
        eval_every=20,
        hidden=16,
        lr=1e-2,
        log=lambda s: 0,
    )
    assert np.mean(h["train_return"][-10:]) > np.mean(h["train_return"][:10]) + 1
    assert h["best"] >= 4.5
