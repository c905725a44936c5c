"""Deep Q-network (Mnih et al., "Human-level control through deep reinforcement
learning", Nature 2015). A neural network Q(s, a) estimates the discounted return of
taking action a in state s and acting greedily afterwards; the agent acts
epsilon-greedily on it. Two ideas make Q-learning with a network stable: a replay buffer
(train on random minibatches of old transitions, which breaks the correlation between
consecutive steps) and a target network (a frozen copy of Q, refreshed every
``target_every`` updates, computes the bootstrap target r + gamma max_a'
Q_target(s', a')), with a Huber loss that keeps the gradients of large TD errors
bounded. Passing the online network as its own target network gives DQN without a
target network, the paper's ablation.

The environment is a gymnasium vector env (``gymnasium.make_vec``) with its default
next-step autoreset: the step after an episode ends only resets it, and that transition
is skipped. Simplifications: Adam instead of RMSProp, no reward clipping, and linear
epsilon decay over a fraction of the run.
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class QNet(nn.Module):
    """An MLP from an observation (B, obs_dim) to one Q-value per action (B,
    n_actions)."""

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


@dataclass
class Config:
    """DQN's options besides the step budget, batch size and learning rate."""

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
    """Train ``q_net`` in place for ``steps`` env steps, one update per vector step,
    filling ``buffer``; ``target_net=q_net`` trains without a target network. Every
    ``cfg.eval_every`` steps the greedy policy plays one episode per sub-env of
    ``eval_env``; at the end the best of these checkpoints is loaded into ``q_net``.
    Returns lists: steps, eval_return (per evaluation), loss, target_updates."""
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
            batch = buffer.sample(batch_size, rng, device)
            loss = dqn_loss(q_net, target_net, batch, cfg.gamma)
            hist["loss"].append(gradient_step(opt, loss))
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

    class Corridor:
        """A toy vector env: walk right (action 1) to reach the end of a corridor of
        length 5 within 20 steps."""

        num_envs = 4

        def __init__(self):
            from types import SimpleNamespace as NS

            self.single_observation_space = NS(shape=(1,))
            self.single_action_space = NS(n=2)

        def reset(self, seed=None):
            self.pos, self.prev = np.zeros(self.num_envs), np.zeros(self.num_envs, bool)
            self.t = np.zeros(self.num_envs)
            return self.pos[:, None].astype(np.float32), {}

        def step(self, act):
            self.pos = np.where(self.prev, 0, np.clip(self.pos + 2 * act - 1, 0, 5))
            self.t = np.where(self.prev, 0, self.t + 1)
            term, trunc = (self.pos == 5) & ~self.prev, (self.t >= 20) & ~self.prev
            self.prev = term | trunc
            obs = self.pos[:, None].astype(np.float32)
            return obs, term.astype(np.float32), term, trunc, {}

    env, q_net, target_net = Corridor(), QNet(1, 2, hidden=32), QNet(1, 2, hidden=32)
    cfg = Config(
        learning_starts=200, target_every=100, eps_steps=1_000, eval_every=1_000
    )
    h = train(
        q_net,
        target_net,
        ReplayBuffer(2_000, 1),
        env,
        steps=2_000,
        cfg=cfg,
        eval_env=env,
        seed=0,
    )
    print(
        f"DQN on a toy corridor: final loss {np.mean(h['loss'][-100:]):.4f}, "
        f"best greedy return {max(h['eval_return']):.2f} of 1"
    )
