"""DQN: shapes, the TD target against a hand computation, the target network's schedule,
learning."""

import numpy as np
import pytest
import torch

from _corridor import Corridor
from dqn import QNet, ReplayBuffer, dqn_loss, epsilon, train


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


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
    assert (
        epsilon(0) == 1.0
        and epsilon(10_000) == pytest.approx(0.05)
        and epsilon(10**6) == pytest.approx(0.05)
    )


def test_td_target_by_hand():
    torch.manual_seed(0)
    q, tq = QNet(3, 2, hidden=8), QNet(3, 2, hidden=8)
    obs, nxt = torch.randn(2, 3), torch.randn(2, 3)
    act, rew, term = (
        torch.tensor([1, 0]),
        torch.tensor([1.0, 0.5]),
        torch.tensor([0.0, 1.0]),
    )
    loss = dqn_loss(q, tq, (obs, act, rew, nxt, term), gamma=0.9)
    qs, qn = q(obs).detach().numpy(), tq(nxt).detach().numpy()
    targets = [
        1.0 + 0.9 * max(qn[0]),
        0.5,
    ]  # the terminal transition does not bootstrap
    errs = [qs[0, 1] - targets[0], qs[1, 0] - targets[1]]
    huber = [0.5 * e * e if abs(e) < 1 else abs(e) - 0.5 for e in errs]
    assert loss.item() == pytest.approx(np.mean(huber), rel=1e-5)


def test_target_network_only_updated_when_scheduled():
    env = Corridor()
    # learning starts at step 40, one update per vector step of 4: steps 40..200 give 41
    # updates
    h = train(
        env,
        200,
        learning_starts=40,
        target_every=41,
        eps_steps=100,
        hidden=8,
        log=lambda s: 0,
    )
    assert h["updates"] == 41 and h["target_updates"] == [41]
    same = [
        torch.equal(a, b)
        for a, b in zip(h["q_net"].parameters(), h["target_net"].parameters())
    ]
    assert all(same)  # synced at update 41, the last one
    h = train(
        env,
        204,
        learning_starts=40,
        target_every=41,
        eps_steps=100,
        hidden=8,
        log=lambda s: 0,
    )
    assert h["updates"] == 42 and h["target_updates"] == [41]
    diff = [
        torch.equal(a, b)
        for a, b in zip(h["q_net"].parameters(), h["target_net"].parameters())
    ]
    assert not all(diff)  # one more gradient step, no sync


def test_train_learns():
    env = Corridor()
    h = train(
        env,
        3_000,
        eval_env=env,
        eval_every=1_000,
        learning_starts=200,
        eps_steps=1_000,
        target_every=100,
        hidden=32,
        lr=3e-3,
        log=lambda s: 0,
    )
    assert np.mean(h["loss"][-100:]) < np.mean(h["loss"][:100])
    assert h["best"] == 1.0  # the greedy policy walks to the end
