"""DQN with prioritized experience replay (Schaul, Quan, Antonoglou and Silver,
"Prioritized Experience Replay", ICLR 2016). Plain DQN replays old transitions
uniformly, although most of them are already predicted well. Prioritized replay samples
transition i with probability P(i) = p_i^alpha / sum_k p_k^alpha, where p_i = |TD error|
+ eps was measured the last time it was replayed (new transitions get the largest
priority so far, so each is replayed at least once). A sum tree makes sampling and
updating a priority O(log n). Sampling by priority biases the expected gradient, so each
sample's loss is weighted by the importance-sampling weight w_i = (N P(i))^-beta / max_j
w_j, with beta annealed to 1 by the end of training.

Everything else is DQN's (the same network, loss, target network and loop, repeated
here so that the module stands alone); with alpha = 0 the replay is uniform and this is
DQN. The environment is a gymnasium vector env with next-step autoreset
(``gymnasium.make_vec``). Simplifications: proportional (not rank-based) priorities,
the weights normalized by their largest value in the minibatch (the paper: over the
buffer), and DQN's step size (the paper divides it by 4).
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SumTree:
    """Priorities in the leaves of a binary tree stored in an array (root at 1, node i
    has children 2i and 2i+1); each inner node holds the sum of its children. Updating a
    leaf and finding the leaf where a prefix sum falls both walk one root-to-leaf path:
    O(log n), vectorized over a batch."""

    def __init__(self, capacity):
        self.n = 1 << (capacity - 1).bit_length()  # leaves: a power of two >= capacity
        self.tree = np.zeros(2 * self.n)

    def total(self):
        return self.tree[1]

    def update(self, idx, priority):
        node = np.asarray(idx) + self.n
        self.tree[node] = priority
        node = np.unique(node // 2)
        while node.size and node[0] >= 1:  # recompute the ancestors, level by level
            self.tree[node] = self.tree[2 * node] + self.tree[2 * node + 1]
            node = np.unique(node // 2)

    def find(self, prefix):
        """The leaf i with sum(p_0..p_{i-1}) <= prefix < sum(p_0..p_i), for each
        prefix."""
        node = np.ones(len(prefix), np.int64)
        while node[0] < self.n:
            left = self.tree[2 * node]
            right = prefix > left
            prefix = np.where(right, prefix - left, prefix)
            node = 2 * node + right
        return node - self.n


class PrioritizedReplay:
    """A ring of transitions whose sampling probabilities live in a SumTree."""

    def __init__(self, capacity, obs_dim, alpha=0.6, eps=1e-3):
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.act = np.zeros(capacity, np.int64)
        self.rew = np.zeros(capacity, np.float32)
        self.term = np.zeros(capacity, np.float32)
        self.tree, self.alpha, self.eps, self.max_p = SumTree(capacity), alpha, eps, 1.0
        self.capacity, self.pos, self.size = capacity, 0, 0

    def add(self, obs, act, rew, next_obs, term):
        idx = (self.pos + np.arange(len(obs))) % self.capacity
        self.obs[idx], self.act[idx], self.rew[idx] = obs, act, rew
        self.next_obs[idx], self.term[idx] = next_obs, term
        self.tree.update(idx, self.max_p)  # new ones: the largest priority so far
        self.pos = (self.pos + len(obs)) % self.capacity
        self.size = min(self.size + len(obs), self.capacity)

    def sample(self, batch_size, beta, rng, device):
        """Stratified: one prefix sum drawn from each of batch_size equal slices of the
        total."""
        total = self.tree.total()
        prefix = (np.arange(batch_size) + rng.random(batch_size)) * total / batch_size
        idx = np.minimum(self.tree.find(prefix), self.size - 1)
        prob = self.tree.tree[idx + self.tree.n] / total
        w = (self.size * prob) ** -beta
        t = lambda x: torch.as_tensor(x, device=device)  # noqa: E731
        batch = tuple(
            t(x[idx]) for x in (self.obs, self.act, self.rew, self.next_obs, self.term)
        )
        return batch, idx, t((w / w.max()).astype(np.float32))

    def update_priorities(self, idx, td_error):
        p = (np.abs(td_error) + self.eps) ** self.alpha
        self.max_p = max(self.max_p, p.max())
        self.tree.update(idx, p)


def per_dqn_loss(q_net, target_net, batch, weights, gamma=0.99):
    """DQN's Huber loss, each sample weighted by its importance weight. Also returns the
    TD errors, which become the sampled transitions' new priorities."""
    obs, act, rew, next_obs, term = batch
    q = q_net(obs).gather(1, act[:, None]).squeeze(1)
    with torch.no_grad():
        target = rew + gamma * (1 - term) * target_net(next_obs).max(1).values
    loss = (weights * F.smooth_l1_loss(q, target, reduction="none")).mean()
    return loss, (q - target).detach()


class QNet(nn.Module):
    """An MLP from an observation (B, obs_dim) to one Q-value per action (B,
    n_actions), the same as DQN's."""

    def __init__(self, obs_dim, n_actions, hidden=128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(obs_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_actions),
        )

    def forward(self, obs):
        return self.net(obs)


@dataclass
class Config:
    """Prioritized DQN's options besides the step budget, batch size and learning rate
    (DQN's, plus beta0; alpha belongs to the buffer)."""

    gamma: float = 0.99
    """discount of future rewards"""
    learning_starts: int = 1_000
    """environment steps played before the first update"""
    target_every: int = 50
    """updates between copies of the online network into the target network"""
    eps_steps: int = 8_000
    """environment steps over which epsilon falls linearly from 1 to 0.05"""
    eval_every: int = 2_500
    """environment steps between greedy evaluations on ``eval_env``"""
    beta0: float = 0.4
    """importance-sampling exponent at the start; it rises linearly to 1 at ``steps``"""


def gradient_step(opt, loss):
    """One optimizer step on ``loss``; returns its value."""
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


def epsilon(step, decay_steps, start=1.0, end=0.05):
    """Linear exploration schedule: from ``start`` to ``end`` over ``decay_steps`` env
    steps, then flat."""
    return end + (start - end) * max(0.0, 1 - step / decay_steps)


@torch.no_grad()
def act_epsilon_greedy(q_net, obs, eps, rng, device="cpu"):
    """argmax_a Q(s, a) for each sub-env's observation, replaced by a uniformly random
    action with probability eps."""
    q = q_net(torch.as_tensor(obs, device=device)).cpu()
    act = q.argmax(1).numpy()
    explore = rng.random(len(act)) < eps
    act[explore] = rng.integers(0, q.shape[1], explore.sum())
    return act


@torch.no_grad()
def evaluate(policy, env, seed=None, device="cpu"):
    """The greedy policy's return in one episode of each of the vector env's
    sub-envs: (num_envs,)."""
    obs, _ = env.reset(seed=seed)
    total, alive = np.zeros(env.num_envs), np.ones(env.num_envs, bool)
    while alive.any():
        act = policy(torch.as_tensor(obs, device=device)).argmax(1).cpu().numpy()
        obs, rew, term, trunc, _ = env.step(act)
        total += rew * alive
        alive &= ~(term | trunc)
    return total


def train(q_net, target_net, buffer, env, *, steps, batch_size=64, lr=1e-3, cfg=None,
          eval_env=None, device="cpu", seed=None, log=None):  # fmt: skip
    """DQN's ``train`` with a PrioritizedReplay ``buffer``: minibatches drawn by
    priority, the loss weighted by importance weights (beta from cfg.beta0 to 1), the
    TD errors written back as priorities. At the end the best evaluated checkpoint is
    loaded into ``q_net``. Returns lists: steps, eval_return, loss, target_updates."""
    cfg, log = cfg or Config(), log or (lambda line: None)
    rng, n = np.random.default_rng(seed), env.num_envs
    target_net.to(device).load_state_dict(q_net.to(device).state_dict())
    opt = torch.optim.Adam(q_net.parameters(), lr=lr)
    hist = dict(steps=[], eval_return=[], loss=[], target_updates=[])
    obs, _ = env.reset(seed=seed)
    prev_done, best = np.zeros(n, bool), None
    for step in range(n, steps + 1, n):
        act = act_epsilon_greedy(q_net, obs, epsilon(step, cfg.eps_steps), rng, device)
        next_obs, rew, term, trunc, _ = env.step(act)
        ok = ~prev_done  # the step after an episode's end only resets it: skip it
        buffer.add(obs[ok], act[ok], rew[ok], next_obs[ok], term[ok])
        obs, prev_done = next_obs, term | trunc
        if step >= cfg.learning_starts:
            beta = cfg.beta0 + (1 - cfg.beta0) * step / steps
            batch, idx, w = buffer.sample(batch_size, beta, rng, device)
            loss, td = per_dqn_loss(q_net, target_net, batch, w, cfg.gamma)
            hist["loss"].append(gradient_step(opt, loss))
            buffer.update_priorities(idx, td.cpu().numpy())
            if len(hist["loss"]) % cfg.target_every == 0:  # the only target change
                target_net.load_state_dict(q_net.state_dict())
                hist["target_updates"].append(len(hist["loss"]))
        if eval_env is not None and step % cfg.eval_every < n:
            ret = evaluate(q_net, eval_env, seed=10_000 + step, device=device).mean()
            hist["steps"].append(step)
            hist["eval_return"].append(ret)
            log(f"step {step:6d}  greedy return {ret:6.1f}")
            if ret >= max(hist["eval_return"]):  # the best so far, the latest of ties
                best = {k: v.clone() for k, v in q_net.state_dict().items()}
    if best is not None:  # q_net leaves as the best evaluated checkpoint
        q_net.load_state_dict(best)
    return hist


if __name__ == "__main__":
    torch.set_num_threads(1)
    tree = SumTree(5)
    tree.update(np.arange(5), np.array([1.0, 2.0, 3.0, 0.0, 4.0]))
    draws = tree.find(np.random.default_rng(0).random(100_000) * tree.total())
    print(
        "sum tree: total",
        tree.total(),
        "sampled shares",
        np.bincount(draws, minlength=5) / 1e5,
    )

    class Chain:
        """A toy vector env: 8 steps per episode; reward 1 for action 1, 0 for action
        0."""

        num_envs = 4

        def __init__(self):
            from types import SimpleNamespace as NS

            self.single_observation_space, self.single_action_space = (
                NS(shape=(1,)),
                NS(n=2),
            )

        def reset(self, seed=None):
            self.t = np.zeros(self.num_envs)
            return self.t[:, None].astype(np.float32), {}

        def step(self, act):
            self.t = np.where(self.t >= 8, 0, self.t + 1)
            trunc = self.t >= 8
            obs = self.t[:, None].astype(np.float32) / 8
            return obs, act.astype(np.float32), np.zeros_like(trunc), trunc, {}

    env, q_net, target_net = Chain(), QNet(1, 2, hidden=32), QNet(1, 2, hidden=32)
    cfg = Config(learning_starts=200, target_every=100, eps_steps=1_000, eval_every=500)
    buffer = PrioritizedReplay(2_000, 1)
    h = train(
        q_net, target_net, buffer, env, steps=2_000, cfg=cfg, eval_env=env, seed=0
    )
    print(
        f"prioritized DQN on a toy chain: final loss {np.mean(h['loss'][-100:]):.4f}, "
        f"best greedy return {max(h['eval_return']):.2f} of 8"
    )
