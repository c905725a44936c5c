"""Prioritized replay: the sum tree's sampling frequencies, the buffer's stratified
sampling and max-priority insertion, importance weights by hand, learning."""

import numpy as np
import pytest
import torch

import per_dqn
from _corridor import Corridor
from per_dqn import Config, PrioritizedReplay, QNet, SumTree, per_dqn_loss, train


@pytest.fixture(autouse=True)
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_sum_tree_sums_and_updates():
    tree = SumTree(6)  # 8 leaves
    tree.update(np.arange(6), np.arange(1.0, 7.0))
    assert tree.total() == pytest.approx(21.0)
    tree.update(
        np.array([2, 2, 5]), np.array([9.0, 10.0, 0.5])
    )  # repeated index: the last wins
    assert tree.total() == pytest.approx(1 + 2 + 10 + 4 + 5 + 0.5)
    assert tree.find(np.array([0.0, 0.999, 1.001, 3.5, 13.2, 21.9, 22.2])).tolist() == [
        0,
        0,
        1,
        2,
        3,
        4,
        5,
    ]


def test_sum_tree_samples_in_proportion_to_priority():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.1, 5.0, 37)
    p[[3, 20]] = 0.0  # zero priority: never sampled
    tree = SumTree(37)
    tree.update(np.arange(37), p)
    draws = 200_000
    counts = np.bincount(tree.find(rng.random(draws) * tree.total()), minlength=37)
    assert counts[3] == 0 and counts[20] == 0 and counts.sum() == draws
    expected = draws * p / p.sum()
    keep = expected > 0
    chi2 = ((counts[keep] - expected[keep]) ** 2 / expected[keep]).sum()
    # 34 degrees of freedom: the 99.9% quantile of chi-square(34) is 65.2
    assert chi2 < 65.2


def test_importance_weights_by_hand():
    buf = PrioritizedReplay(8, 2, alpha=0.5, eps=0.0)
    buf.add(
        np.zeros((4, 2)), np.zeros(4, int), np.zeros(4), np.zeros((4, 2)), np.zeros(4)
    )
    buf.update_priorities(
        np.arange(4), np.array([1.0, 4.0, 9.0, 16.0])
    )  # p = |delta|^0.5
    batch, idx, w = buf.sample(4, beta=0.5, rng=np.random.default_rng(0), device="cpu")
    prob = np.array([1.0, 2.0, 3.0, 4.0])[idx] / 10.0  # P(i) = p_i / sum p
    expect = (4 * prob) ** -0.5
    assert w.numpy() == pytest.approx(expect / expect.max(), rel=1e-5)
    assert batch[0].shape == (4, 2) and w.shape == (4,)


def test_loss_weights_and_td_errors():
    torch.manual_seed(0)
    q, tq = QNet(3, 2, hidden=8), QNet(3, 2, hidden=8)
    obs, nxt = torch.randn(2, 3), torch.randn(2, 3)
    batch = (
        obs,
        torch.tensor([0, 1]),
        torch.tensor([1.0, 0.0]),
        nxt,
        torch.tensor([0.0, 1.0]),
    )
    loss, td = per_dqn_loss(q, tq, batch, torch.tensor([1.0, 0.0]), gamma=0.9)
    target0 = 1.0 + 0.9 * tq(nxt[:1]).max().item()
    e0 = q(obs[:1])[0, 0].item() - target0
    assert td[0].item() == pytest.approx(e0, rel=1e-5)
    assert td[1].item() == pytest.approx(
        q(obs[1:])[0, 1].item(), rel=1e-5
    )  # terminal: target 0
    huber0 = 0.5 * e0**2 if abs(e0) < 1 else abs(e0) - 0.5
    assert loss.item() == pytest.approx(huber0 / 2, rel=1e-5)  # weight 0 drops sample 2


def fill(buf, n):
    buf.add(
        np.zeros((n, 2)), np.zeros(n, int), np.zeros(n), np.zeros((n, 2)), np.zeros(n)
    )


def test_new_transitions_get_the_largest_priority_so_far():
    """Fails if a new transition enters with a fixed priority (1, or 0) instead of the
    largest priority seen, so that it may never be replayed."""
    buf = PrioritizedReplay(8, 2, alpha=0.5, eps=0.0)
    fill(buf, 4)
    buf.update_priorities(
        np.arange(4), np.array([1.0, 16.0, 4.0, 0.0])
    )  # p = 1, 4, 2, 0
    fill(buf, 2)
    leaves = buf.tree.tree[buf.tree.n : buf.tree.n + 6]
    assert leaves.tolist() == [1.0, 4.0, 2.0, 0.0, 4.0, 4.0]


def test_buffer_sampling_is_stratified_and_proportional():
    """Fails if sample draws its prefix sums independently instead of one per slice
    (with equal priorities a stratified batch of N holds each of N transitions once),
    or ignores the priorities."""
    buf = PrioritizedReplay(16, 2, alpha=1.0, eps=0.0)
    fill(buf, 16)
    _, idx, w = buf.sample(16, beta=1.0, rng=np.random.default_rng(0), device="cpu")
    assert sorted(idx.tolist()) == list(range(16)) and torch.allclose(w, torch.ones(16))
    p = np.arange(1.0, 17.0)
    buf.update_priorities(np.arange(16), p)
    rng, counts = np.random.default_rng(1), np.zeros(16)
    for _ in range(2_000):
        counts += np.bincount(buf.sample(8, 0.5, rng, "cpu")[1], minlength=16)
    expected = 16_000 * p / p.sum()
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 37.7  # the 99.9% quantile of chi-square(15)


def test_train_learns():
    """Fails if the greedy policy never walks to the corridor's end."""
    torch.manual_seed(0)
    q = QNet(1, 2, hidden=32)
    h = train(q, QNet(1, 2, hidden=32), PrioritizedReplay(5_000, 1), Corridor(),
              steps=3_000, lr=3e-3, eval_env=Corridor(), seed=0,
              cfg=Config(learning_starts=200, eps_steps=1_000, target_every=100,
                         eval_every=500))  # fmt: skip
    assert np.mean(h["loss"][-100:]) < np.mean(h["loss"][:100])
    assert max(h["eval_return"]) == 1.0


def test_best_checkpoint_is_loaded_into_the_network(monkeypatch):
    """Fails if train leaves the final weights instead of the best evaluation's (or
    keeps the first of two tied best evaluations instead of the latest)."""
    scores, states = iter([1.0, 5.0, 2.0, 5.0, 3.0]), []

    def fake_evaluate(policy, env, seed=None, device="cpu"):
        states.append({k: v.clone() for k, v in policy.state_dict().items()})
        return np.array([next(scores)])

    monkeypatch.setattr(per_dqn, "evaluate", fake_evaluate)
    q = QNet(1, 2, hidden=8)
    h = train(q, QNet(1, 2, hidden=8), PrioritizedReplay(500, 1), Corridor(), steps=200,
              cfg=Config(learning_starts=40, eps_steps=100, eval_every=40),
              eval_env=Corridor(), seed=0)  # fmt: skip
    assert h["eval_return"] == [1.0, 5.0, 2.0, 5.0, 3.0]
    kept = q.state_dict()
    assert all(torch.equal(kept[k], states[3][k]) for k in kept)
    assert not all(torch.equal(kept[k], states[4][k]) for k in kept)
