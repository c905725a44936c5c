"""A2C: shapes, GAE against a hand computation, the ablation's advantages, reset steps
masked in a rollout, the loss against its formula, learning."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import actor_critic
from _corridor import Corridor
from actor_critic import ActorCritic, Config, a2c_loss, advantages, gae, rollout, train


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
    """Fails if a failure bootstraps, a time-limit cut does not, or the sum runs on
    past an episode's end."""
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


def test_ablation_advantages_use_no_critic_bootstrap():
    """Fails if the no-bootstrap ablation still adds the critic's value of a later state
    (at the rollout's end or at a time-limit cut) or sums past an episode's end."""
    g = 0.5
    rew = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    v = torch.tensor([[0.1], [0.2], [0.3], [0.4]])
    o2 = torch.zeros(4, 1, 1)
    te = torch.zeros(4, 1)
    d = torch.tensor([[0.0], [1.0], [0.0], [0.0]])  # a time-limit cut after step 1

    class BigCritic(torch.nn.Module):  # V = 100 everywhere: any bootstrap shows
        def forward(self, obs):
            return None, torch.full(obs.shape[:-1], 100.0)

    cfg = Config(gamma=g, bootstrap=False)
    adv = advantages(BigCritic(), rew, v, o2, te, d, cfg)[:, 0]
    ret = torch.tensor([1 + g * 2, 2.0, 3 + g * 4, 4.0])
    assert torch.allclose(adv, ret - v[:, 0])
    boot = advantages(BigCritic(), rew, v, o2, te, d, Config(gamma=g, lam=1.0))[:, 0]
    assert boot[1] == pytest.approx(2 + g * 100 - 0.2)  # A2C itself does bootstrap


def test_rollout_masks_reset_steps():
    """Fails if the autoreset step after an episode's end counts as a real step."""
    env = Corridor(2)
    obs, _ = env.reset()
    model = ActorCritic(1, 2, hidden=8)
    with torch.no_grad():  # push right always: the goal (cell 3) after 3 steps
        model.actor[-1].weight.zero_()
        model.actor[-1].bias.copy_(torch.tensor([-50.0, 50.0]))
    batch, obs, prev = rollout(model, env, obs, np.zeros(2, bool), 8)
    valid, done = batch[6][:, 0], batch[5][:, 0]
    assert done.tolist() == [0, 0, 1, 0, 0, 0, 1, 0]
    assert valid.tolist() == [1, 1, 1, 0, 1, 1, 1, 0]


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
    """Fails if the greedy policy never walks to the corridor's end."""
    torch.manual_seed(0)
    model = ActorCritic(1, 2, hidden=16)
    h = train(model, Corridor(8), steps=4_000, lr=3e-3, eval_env=Corridor(8),
              cfg=Config(n_steps=8, eval_every=1_000), seed=0)  # fmt: skip
    assert max(h["eval_return"]) == 1.0 and h["steps"][-1] >= 4_000


def test_best_checkpoint_is_loaded_into_the_network(monkeypatch):
    """Fails if train leaves the final weights instead of the best evaluation's (or
    keeps the first of two tied best evaluations instead of the latest)."""
    scores, states = iter([1.0, 5.0, 2.0, 5.0, 3.0]), []

    def fake_evaluate(policy, env, seed=None, device="cpu"):
        states.append({k: v.clone() for k, v in policy.state_dict().items()})
        return np.array([next(scores)])

    monkeypatch.setattr(actor_critic, "evaluate", fake_evaluate)
    model = ActorCritic(1, 2, hidden=8)
    h = train(model, Corridor(4), steps=320, eval_env=Corridor(4),
              cfg=Config(n_steps=4, eval_every=64), seed=0)  # fmt: skip
    assert h["eval_return"] == [1.0, 5.0, 2.0, 5.0, 3.0]
    kept = model.state_dict()
    assert all(torch.equal(kept[k], states[3][k]) for k in kept)
    assert not all(torch.equal(kept[k], states[4][k]) for k in kept)
