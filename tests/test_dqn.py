"""DQN: shapes, the TD target against a hand computation, the target network's schedule,
no transition across an episode's end, the best checkpoint kept, learning."""

import numpy as np
import pytest
import torch

import dqn
from _corridor import Corridor
from dqn import Config, QNet, ReplayBuffer, dqn_loss, epsilon, train


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def quiet_cfg(**kw):
    return Config(**{"learning_starts": 40, "eps_steps": 100, **kw})


def test_shapes_and_buffer():
    q = QNet(4, 2, hidden=16)
    assert q(torch.randn(5, 4)).shape == (5, 2)
    buf = ReplayBuffer(10, 4)
    for _ in range(3):
        buf.add(
            np.ones((4, 4)), np.ones(4, int), np.ones(4), np.ones((4, 4)), np.zeros(4)
        )
    assert buf.size == 10 and buf.pos == 2
    obs, act, rew, nxt, term = buf.sample(6, np.random.default_rng(0), "cpu")
    assert obs.shape == (6, 4) and act.shape == (6,) and act.dtype == torch.int64
    assert epsilon(0, 10_000) == 1.0 and epsilon(5_000, 10_000) == pytest.approx(0.525)
    assert epsilon(10**6, 10_000) == pytest.approx(0.05)


def test_td_target_by_hand():
    """Fails if a terminal transition bootstraps, or the target uses the online
    network."""
    torch.manual_seed(0)
    q, tq = QNet(3, 2, hidden=8), QNet(3, 2, hidden=8)
    obs, nxt = torch.randn(2, 3), torch.randn(2, 3)
    act, rew = torch.tensor([1, 0]), torch.tensor([1.0, 0.5])
    term = torch.tensor([0.0, 1.0])
    loss = dqn_loss(q, tq, (obs, act, rew, nxt, term), gamma=0.9)
    qs, qn = q(obs).detach().numpy(), tq(nxt).detach().numpy()
    targets = [1.0 + 0.9 * max(qn[0]), 0.5]  # the terminal one does not bootstrap
    errs = [qs[0, 1] - targets[0], qs[1, 0] - targets[1]]
    huber = [0.5 * e * e if abs(e) < 1 else abs(e) - 0.5 for e in errs]
    assert loss.item() == pytest.approx(np.mean(huber), rel=1e-5)


def test_target_network_only_updated_when_scheduled():
    """Fails if the target network is copied on any update but every target_every-th."""
    # learning starts at step 40, one update per vector step of 4: steps 40..200 give 41
    # updates
    q, tq = QNet(1, 2, hidden=8), QNet(1, 2, hidden=8)
    h = train(q, tq, ReplayBuffer(500, 1), Corridor(), steps=200,
              cfg=quiet_cfg(target_every=41), seed=0)  # fmt: skip
    assert len(h["loss"]) == 41 and h["target_updates"] == [41]
    assert all(torch.equal(a, b) for a, b in zip(q.parameters(), tq.parameters()))
    q, tq = QNet(1, 2, hidden=8), QNet(1, 2, hidden=8)
    h = train(q, tq, ReplayBuffer(500, 1), Corridor(), steps=204,
              cfg=quiet_cfg(target_every=41), seed=0)  # fmt: skip
    assert len(h["loss"]) == 42 and h["target_updates"] == [41]
    # one more gradient step, no copy
    assert not all(torch.equal(a, b) for a, b in zip(q.parameters(), tq.parameters()))


def test_no_stored_transition_spans_an_episode_end():
    """Fails if the autoreset step (the last state of one episode to the first of the
    next) is stored as a transition. In the corridor a real step moves by at most one
    cell and never starts at the goal (cell 3)."""
    buf = ReplayBuffer(5_000, 1)  # epsilon stays near 1: random actions
    train(QNet(1, 2, hidden=8), QNet(1, 2, hidden=8), buf, Corridor(), steps=1_000,
          cfg=quiet_cfg(eps_steps=10**6), seed=0)  # fmt: skip
    obs, nxt = buf.obs[: buf.size, 0], buf.next_obs[: buf.size, 0]
    assert 800 < buf.size < 1_000 and (obs < 3).all()  # about one step in 9 skipped
    assert (np.abs(nxt - obs) <= 1).all()
    assert buf.term[: buf.size].sum() > 0  # episodes did end inside the window


def test_best_checkpoint_is_loaded_into_the_network(monkeypatch):
    """Fails if train leaves the final weights instead of the best evaluation's (or
    keeps the first of two tied best evaluations instead of the latest)."""
    scores, states = iter([1.0, 5.0, 2.0, 5.0, 3.0]), []

    def fake_evaluate(policy, env, seed=None, device="cpu"):
        states.append({k: v.clone() for k, v in policy.state_dict().items()})
        return np.array([next(scores)])

    monkeypatch.setattr(dqn, "evaluate", fake_evaluate)
    q = QNet(1, 2, hidden=8)
    h = train(q, QNet(1, 2, hidden=8), ReplayBuffer(500, 1), Corridor(), steps=200,
              cfg=quiet_cfg(eval_every=40), eval_env=Corridor(), seed=0)  # fmt: skip
    assert h["eval_return"] == [1.0, 5.0, 2.0, 5.0, 3.0]
    kept = q.state_dict()
    assert all(torch.equal(kept[k], states[3][k]) for k in kept)
    assert not all(torch.equal(kept[k], states[4][k]) for k in kept)


def test_train_learns():
    """Fails if the greedy policy never walks to the corridor's end."""
    torch.manual_seed(0)
    q = QNet(1, 2, hidden=32)
    h = train(q, QNet(1, 2, hidden=32), ReplayBuffer(5_000, 1), Corridor(),
              steps=3_000, lr=3e-3, eval_env=Corridor(), seed=0,
              cfg=Config(learning_starts=200, eps_steps=1_000, target_every=100,
                         eval_every=500))  # fmt: skip
    assert np.mean(h["loss"][-100:]) < np.mean(h["loss"][:100])
    assert max(h["eval_return"]) == 1.0
    assert dqn.evaluate(q, Corridor()).tolist() == [1.0] * 4  # the kept policy
