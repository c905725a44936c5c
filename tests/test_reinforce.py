"""REINFORCE: shapes, discounted returns by hand (with the time-limit bootstrap), the
cut recorded where a time limit ends an episode, the loss against its formula with and
without the baseline, learning."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import reinforce
from reinforce import (
    Config,
    PolicyWithBaseline,
    discounted_returns,
    play_episodes,
    reinforce_loss,
    train,
)


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
    """Fails if returns leak across an episode's end, or if a time-limit cut is treated
    as the end of the episode (its V(s_T) not added)."""
    # two sub-envs: the first episode fails after 3 steps; the second is cut by a time
    # limit after 2 steps, in a state whose value is 10 (then masked out)
    rew = torch.tensor([[1.0, 2.0], [0.0, 1.0], [3.0, 7.0]])
    mask = torch.tensor([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    boot = torch.tensor([[0.0, 0.0], [0.0, 10.0], [0.0, 0.0]])
    g = discounted_returns(rew, mask, boot, gamma=0.5)
    expect = torch.tensor(
        [[1 + 0.5 * 0 + 0.25 * 3, 2 + 0.5 * (1 + 5)], [0 + 0.5 * 3, 1 + 5], [3, 0]]
    )
    assert torch.allclose(g, expect)


class Timed:
    """A vector env of 3 sub-envs whose observation is the step count; sub-env 0 fails
    at step 2, the others are cut by a time limit at step 4 (next-step autoreset)."""

    num_envs = 3

    def reset(self, seed=None):
        self.t, self.prev = np.zeros(3), np.zeros(3, bool)
        return self.t[:, None].astype(np.float32), {}

    def step(self, act):
        self.t = np.where(self.prev, 0, self.t + 1)
        term = (self.t == 2) & (np.arange(3) == 0) & ~self.prev
        trunc = (self.t == 4) & ~self.prev & ~term
        self.prev = term | trunc
        return (
            self.t[:, None].astype(np.float32),
            np.ones(3, np.float32),
            term,
            trunc,
            {},
        )


def test_play_episodes_marks_the_time_limit_cut_and_its_state():
    """Fails if the cut is marked on a failure too, on steps after the episode, or if
    next_obs at the cut is not the state the episode was cut in."""
    obs, act, rew, mask, cut, next_obs = play_episodes(
        PolicyWithBaseline(1, 2), Timed()
    )
    assert mask.tolist() == [[1, 1, 1], [1, 1, 1], [0, 1, 1], [0, 1, 1]]
    assert cut.tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 1, 1]]
    assert next_obs[3, 1:, 0].tolist() == [4.0, 4.0]


def test_loss_against_formula():
    """Fails if the advantages are not G - b normalized over the valid steps, or if the
    ablation (baseline=False) still subtracts a baseline such as the batch mean."""
    torch.manual_seed(0)
    m = PolicyWithBaseline(2, 2, hidden=8)
    obs, act = torch.randn(3, 2), torch.tensor([0, 1, 1])
    ret, mask = torch.tensor([2.0, 1.0, 5.0]), torch.tensor([1.0, 1.0, 0.0])
    logp = F.log_softmax(m.policy(obs), -1)[[0, 1], [0, 1]]
    b = m.value(obs).squeeze(-1)[:2]
    value_loss = 0.5 * ((b - ret[:2]) ** 2).mean()
    adv = (ret[:2] - b).detach()
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    loss = reinforce_loss(m, obs, act, ret, mask, value_coef=0.5)
    assert loss.item() == pytest.approx((-(logp * adv).mean() + value_loss).item())
    plain = ret[:2] / ret[:2].std()
    loss = reinforce_loss(m, obs, act, ret, mask, value_coef=0.5, baseline=False)
    assert loss.item() == pytest.approx((-(logp * plain).mean() + value_loss).item())


class Bandit:
    """5-step episodes; reward 1 when the action matches the sign of a random
    observation."""

    num_envs = 8

    def __init__(self):
        from types import SimpleNamespace as NS

        self.single_observation_space = NS(shape=(1,))
        self.single_action_space = NS(n=2)
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
    """Fails if the policy does not learn to match the observation's sign (a constant
    policy scores about 2.5 of 5)."""
    torch.manual_seed(0)
    model = PolicyWithBaseline(1, 2, hidden=16)
    h = train(model, Bandit(), updates=60, lr=1e-2, cfg=Config(eval_every=20),
              eval_env=Bandit())  # fmt: skip
    assert np.mean(h["train_return"][-10:]) > np.mean(h["train_return"][:10]) + 1
    assert max(h["eval_return"]) >= 4.5


def test_best_checkpoint_is_loaded_into_the_network(monkeypatch):
    """Fails if train leaves the final weights instead of the best evaluation's (or
    keeps the first of two tied best evaluations instead of the latest)."""
    scores, states = iter([1.0, 5.0, 2.0, 5.0, 3.0]), []

    def fake_evaluate(policy, env, seed=None, device="cpu"):
        states.append({k: v.clone() for k, v in policy.state_dict().items()})
        return np.array([next(scores)])

    monkeypatch.setattr(reinforce, "evaluate", fake_evaluate)
    model = PolicyWithBaseline(1, 2, hidden=8)
    h = train(model, Bandit(), updates=10, cfg=Config(eval_every=2), eval_env=Bandit())
    assert h["eval_return"] == [1.0, 5.0, 2.0, 5.0, 3.0]
    kept = model.state_dict()
    assert all(torch.equal(kept[k], states[3][k]) for k in kept)
    assert not all(torch.equal(kept[k], states[4][k]) for k in kept)
