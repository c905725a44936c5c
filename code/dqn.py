"""Deep Q-network (Mnih et al., "Human-level control through deep reinforcement
learning", Nature 2015). A neural network Q(s, a) estimates the discounted return of
taking action a in state s and acting greedily afterwards; the agent acts
epsilon-greedily on it. Two ideas make Q-learning with a network stable: a replay buffer
(train on random minibatches of old transitions, which breaks the correlation between
consecutive steps) and a target network (a frozen copy of Q, refreshed only every few
thousand steps, computes the bootstrap target r + gamma max_a' Q_target(s', a')), with a
Huber loss that keeps the gradients of large TD errors bounded.

The environment is a gymnasium vector env (``gymnasium.make_vec``) with its default
next-step autoreset: the step after an episode ends only resets it, and that transition
is skipped.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class QNet(nn.Module):
    """An MLP from an observation to one Q-value per action."""

    def __init__(self, obs_dim, n_actions, hidden=128):
        super().__init__()
        self.args = (obs_dim, n_actions, hidden)
        self.net = nn.Sequential(
            nn.Linear(obs_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, n_actions),
        )

    def forward(self, obs):
        return self.net(obs)


class ReplayBuffer:
    """A fixed-size ring of transitions (s, a, r, s', terminated), sampled uniformly."""

    def __init__(self, capacity, obs_dim):
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.act = np.zeros(capacity, np.int64)
        self.rew = np.zeros(capacity, np.float32)
        self.term = np.zeros(capacity, np.float32)
        self.capacity, self.pos, self.size = capacity, 0, 0

    def add(self, obs, act, rew, next_obs, term):
        idx = (self.pos + np.arange(len(obs))) % self.capacity
        self.obs[idx], self.act[idx], self.rew[idx] = obs, act, rew
        self.next_obs[idx], self.term[idx] = next_obs, term
        self.pos = (self.pos + len(obs)) % self.capacity
        self.size = min(self.size + len(obs), self.capacity)

    def sample(self, batch_size, rng, device):
        idx = rng.integers(0, self.size, batch_size)
        t = lambda x: torch.as_tensor(x[idx], device=device)  # noqa: E731
        return t(self.obs), t(self.act), t(self.rew), t(self.next_obs), t(self.term)


def dqn_loss(q_net, target_net, batch, gamma=0.99):
    """Huber loss between Q(s, a) and the frozen one-step target r + gamma max_a'
    Q_target(s', a') (no bootstrap past a terminal state; a time-limit truncation is not
    terminal)."""
    obs, act, rew, next_obs, term = batch
    q = q_net(obs).gather(1, act[:, None]).squeeze(1)
    with torch.no_grad():
        target = rew + gamma * (1 - term) * target_net(next_obs).max(1).values
    return F.smooth_l1_loss(q, target)


def epsilon(step, start=1.0, end=0.05, decay_steps=10_000):
    """Linear exploration schedule: from ``start`` to ``end`` over ``decay_steps`` env
    steps."""
    return end + (start - end) * max(0.0, 1 - step / decay_steps)


@torch.no_grad()
def evaluate(policy, env, seed, device="cpu"):
    """Greedy returns of one episode in each of the vector env's sub-envs."""
    obs, _ = env.reset(seed=seed)
    total, alive = np.zeros(env.num_envs), np.ones(env.num_envs, bool)
    while alive.any():
        act = policy(torch.as_tensor(obs, device=device)).argmax(1).cpu().numpy()
        obs, rew, term, trunc, _ = env.step(act)
        total += rew * alive
        alive &= ~(term | trunc)
    return total


def train(
    env,
    steps,
    device="cpu",
    eval_env=None,
    eval_every=5_000,
    hidden=128,
    lr=1e-3,
    gamma=0.99,
    batch_size=64,
    buffer_size=50_000,
    learning_starts=1_000,
    train_every=1,
    target_every=500,
    eps_steps=10_000,
    seed=0,
    log=print,
):
    """Train a DQN for ``steps`` environment steps. Every ``eval_every`` steps the
    greedy policy is evaluated on ``eval_env`` and the best one is kept; the returned
    ``q_net`` is that one."""
    torch.manual_seed(seed)
    rng, n = np.random.default_rng(seed), env.num_envs
    obs_dim, n_actions = (
        env.single_observation_space.shape[0],
        env.single_action_space.n,
    )
    q_net = QNet(obs_dim, n_actions, hidden).to(device)
    target_net = QNet(*q_net.args).to(device).requires_grad_(False)
    target_net.load_state_dict(q_net.state_dict())
    opt = torch.optim.Adam(q_net.parameters(), lr=lr)
    buffer = ReplayBuffer(buffer_size, obs_dim)
    hist = dict(steps=[], eval_return=[], loss=[], target_updates=[], best=-np.inf)
    obs, _ = env.reset(seed=seed)
    prev_done, updates, best_state = np.zeros(n, bool), 0, None
    for step in range(n, steps + 1, n):
        with torch.no_grad():
            act = q_net(torch.as_tensor(obs, device=device)).argmax(1).cpu().numpy()
        explore = rng.random(n) < epsilon(step, decay_steps=eps_steps)
        act[explore] = rng.integers(0, n_actions, explore.sum())
        next_obs, rew, term, trunc, _ = env.step(act)
        ok = (
            ~prev_done
        )  # the step after an episode's end only resets it: skip that transition
        buffer.add(obs[ok], act[ok], rew[ok], next_obs[ok], term[ok])
        obs, prev_done = next_obs, term | trunc
        if step >= learning_starts and step % train_every < n:
            loss = dqn_loss(
                q_net, target_net, buffer.sample(batch_size, rng, device), gamma
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            updates += 1
            hist["loss"].append(loss.item())
            if updates % target_every == 0:  # the only place the target network changes
                target_net.load_state_dict(q_net.state_dict())
                hist["target_updates"].append(updates)
        if eval_env is not None and step % eval_every < n:
            ret = evaluate(q_net, eval_env, seed=10_000 + step, device=device).mean()
            hist["steps"].append(step)
            hist["eval_return"].append(ret)
            log(
                f"step {step:6d}  eval return {ret:6.1f}  loss "
                f"{np.mean(hist['loss'][-500:] or 0):.4f}"
            )
            if ret >= hist["best"]:
                hist["best"] = ret
                best_state = {k: v.clone() for k, v in q_net.state_dict().items()}
    if best_state is not None:
        q_net.load_state_dict(best_state)
    hist.update(q_net=q_net, target_net=target_net, updates=updates)
    return hist


if __name__ == "__main__":
    torch.set_num_threads(1)

    class Corridor:
        """A toy vector env: walk right (action 1) to reach the end of a corridor of
        length 5."""

        num_envs = 4

        def __init__(self):
            from types import SimpleNamespace as NS

            self.single_observation_space, self.single_action_space = (
                NS(shape=(1,)),
                NS(n=2),
            )

        def reset(self, seed=None):
            self.pos, self.prev = np.zeros(self.num_envs), np.zeros(self.num_envs, bool)
            self.t = np.zeros(self.num_envs)
            return self.pos[:, None].astype(np.float32), {}

        def step(self, act):
            self.pos = np.where(self.prev, 0, np.clip(self.pos + 2 * act - 1, 0, 5))
            self.t = np.where(self.prev, 0, self.t + 1)
            term, trunc = (self.pos == 5) & ~self.prev, (self.t >= 20) & ~self.prev
            self.prev = term | trunc
            return (
                self.pos[:, None].astype(np.float32),
                term.astype(np.float32),
                term,
                trunc,
                {},
            )

    env = Corridor()
    h = train(
        env,
        2_000,
        eval_env=env,
        eval_every=1_000,
        learning_starts=200,
        eps_steps=1_000,
        target_every=100,
        hidden=32,
    )
    print(
        f"DQN on a toy corridor: final loss {np.mean(h['loss'][-100:]):.4f}, "
        f"greedy return {h['best']:.2f}"
    )
