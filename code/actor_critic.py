"""Advantage actor-critic, synchronous (A2C; Mnih et al., "Asynchronous Methods for Deep
Reinforcement Learning", ICML 2016, run synchronously over parallel environments), with
generalized advantage estimation (Schulman et al., "High-Dimensional Continuous Control
Using Generalized Advantage Estimation", ICLR 2016). An actor pi(a|s) and a critic V(s)
learn together from short n-step rollouts of many environments in parallel, so the
policy improves every few steps instead of every few episodes. The critic's one-step TD
errors delta_t = r_t + gamma V(s_{t+1}) - V(s_t) are summed with weights (gamma
lambda)^k into advantages, trading bias (small lambda) against variance (lambda near 1);
an entropy bonus keeps the policy from collapsing onto one action too early.

The environment is a gymnasium vector env (``gymnasium.make_vec``) with its default
next-step autoreset: the step after an episode ends only resets it, and that step is
masked out. ``bootstrap=False`` is the ablation: the critic is then a baseline only, and
the actor sees the rewards up to the rollout's end and nothing after them.
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ActorCritic(nn.Module):
    """Separate actor (action logits) and critic (state value) MLPs."""

    def __init__(self, obs_dim, n_actions, hidden=64):
        super().__init__()
        body = lambda out: nn.Sequential(  # noqa: E731
            nn.Linear(obs_dim, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
            nn.Linear(hidden, out),
        )
        self.actor, self.critic = body(n_actions), body(1)

    def forward(self, obs):
        return self.actor(obs), self.critic(obs).squeeze(-1)


def gae(rew, value, next_value, term, done, gamma=0.99, lam=0.95):
    """Generalized advantage estimates for (T, N) tensors. next_value is V of the
    observation each step returned (for a time-limit truncation, the real last state);
    no bootstrap past ``term``; ``done`` (terminated or truncated) cuts the sum at an
    episode's end."""
    delta = rew + gamma * (1 - term) * next_value - value
    adv, a = torch.zeros_like(rew), torch.zeros_like(rew[0])
    for t in range(len(rew) - 1, -1, -1):
        a = delta[t] + gamma * lam * (1 - done[t]) * a
        adv[t] = a
    return adv


def a2c_loss(logits, value, act, adv, returns, mask, value_coef=0.5, entropy_coef=0.01):
    """-log pi(a|s) A  +  value_coef (V(s) - R)^2  -  entropy_coef H[pi(.|s)], averaged
    over the valid steps in ``mask``; R = A + V(s) is the critic's target (the
    lambda-return)."""
    logp_all = F.log_softmax(logits, -1)
    logp = logp_all.gather(-1, act[..., None]).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    n = mask.sum()
    policy_loss = -(logp * adv.detach() * mask).sum() / n
    value_loss = ((value - returns.detach()) ** 2 * mask).sum() / n
    return (
        policy_loss
        + value_coef * value_loss
        - entropy_coef * (entropy * mask).sum() / n
    )


@torch.no_grad()
def evaluate(model, env, seed=None, device="cpu"):
    """Greedy returns of one episode in each of the vector env's sub-envs:
    (num_envs,)."""
    obs, _ = env.reset(seed=seed)
    total, alive = np.zeros(env.num_envs), np.ones(env.num_envs, bool)
    while alive.any():
        act = model(torch.as_tensor(obs, device=device))[0].argmax(-1).cpu().numpy()
        obs, rew, term, trunc, _ = env.step(act)
        total += rew * alive
        alive &= ~(term | trunc)
    return total


@dataclass
class Config:
    """A2C's options besides the step budget and the learning rate."""

    n_steps: int = 16
    """steps of every sub-env per rollout (one update per rollout)"""
    gamma: float = 0.99
    """discount of future rewards"""
    lam: float = 0.95
    """GAE's lambda: 0 is the one-step TD error, 1 the return to the rollout's end"""
    value_coef: float = 0.5
    """weight of the critic's squared error"""
    entropy_coef: float = 0.01
    """weight of the entropy bonus"""
    max_grad_norm: float = 0.5
    """gradients are clipped to this norm"""
    bootstrap: bool = True
    """bootstrap from the critic (False: the ablation, returns to the rollout's end)"""
    eval_every: int = 8_192
    """environment steps between greedy evaluations on ``eval_env``"""


@torch.no_grad()
def rollout(model, env, obs, prev_done, n_steps, device="cpu"):
    """n_steps of every sub-env with the sampled policy, from ``obs``. Returns the
    (T, N, ...) tensors (obs, act, rew, next_obs, term, done, valid) and the last
    observation and done flags to continue from; ``valid`` is 0 on reset steps."""
    t = lambda x: torch.as_tensor(np.stack(x), device=device)  # noqa: E731
    roll = []
    for _ in range(n_steps):
        probs = F.softmax(model(torch.as_tensor(obs, device=device))[0], -1)
        act = torch.multinomial(probs, 1).squeeze(-1).cpu().numpy()
        next_obs, rew, term, trunc, _ = env.step(act)
        roll.append((obs, act, rew, next_obs, term, term | trunc, ~prev_done))
        obs, prev_done = next_obs, term | trunc
    o, a, r, o2, te, d, m = (t(x) for x in zip(*roll))
    return (o, a, r, o2, te.float(), d.float(), m.float()), obs, prev_done


def advantages(model, r, value, o2, te, d, cfg):
    """GAE from the critic (cfg.bootstrap) or, for the ablation, the discounted rewards
    to the rollout's end minus V(s_t), with nothing bootstrapped."""
    with torch.no_grad():
        if cfg.bootstrap:
            return gae(r, value, model(o2)[1], te, d, cfg.gamma, cfg.lam)
        zero = torch.zeros_like(r)
        return gae(r, zero, zero, te, d, cfg.gamma, 1.0) - value


def train(model, env, *, steps, lr=1e-3, cfg=None, eval_env=None, device="cpu",
          seed=None, log=None):  # fmt: skip
    """A2C on ``model`` for ``steps`` environment steps: rollouts of cfg.n_steps x
    env.num_envs, one update each. Every ``cfg.eval_every`` steps the greedy policy
    plays one episode per sub-env of ``eval_env``; at the end the best of these
    checkpoints is loaded into ``model``. Actions are sampled with torch's global
    generator (seed it first). Returns lists: steps, eval_return, loss."""
    cfg, log = cfg or Config(), log or (lambda line: None)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist = dict(steps=[], eval_return=[], loss=[])
    obs, _ = env.reset(seed=seed)
    prev_done, step, best = np.zeros(env.num_envs, bool), 0, None
    while step < steps:
        batch, obs, prev_done = rollout(model, env, obs, prev_done, cfg.n_steps, device)
        o, a, r, o2, te, d, m = batch
        step += cfg.n_steps * env.num_envs
        logits, value = model(o)
        adv = advantages(model, r, value.detach(), o2, te, d, cfg)
        loss = a2c_loss(
            logits, value, a, adv, adv + value, m, cfg.value_coef, cfg.entropy_coef
        )
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        opt.step()
        hist["loss"].append(loss.item())
        if eval_env is not None and step % cfg.eval_every < cfg.n_steps * env.num_envs:
            ret = evaluate(model, eval_env, seed=10_000 + step, device=device).mean()
            hist["steps"].append(step)
            hist["eval_return"].append(ret)
            log(f"step {step:7d}  greedy return {ret:6.1f}")
            if ret >= max(hist["eval_return"]):  # the best so far, the latest of ties
                best = {k: v.clone() for k, v in model.state_dict().items()}
    if best is not None:  # model leaves as the best evaluated checkpoint
        model.load_state_dict(best)
    return hist


if __name__ == "__main__":
    torch.set_num_threads(1)

    class Corridor:
        """A toy vector env: walk right (action 1) to the end of a corridor of length
        4."""

        num_envs = 8

        def __init__(self):
            from types import SimpleNamespace as NS

            self.single_observation_space, self.single_action_space = (
                NS(shape=(1,)),
                NS(n=2),
            )

        def reset(self, seed=None):
            self.pos, self.t, self.prev = np.zeros(8), np.zeros(8), np.zeros(8, bool)
            return self.pos[:, None].astype(np.float32), {}

        def step(self, act):
            self.pos = np.where(self.prev, 0, np.clip(self.pos + 2 * act - 1, 0, 4))
            self.t = np.where(self.prev, 0, self.t + 1)
            term, trunc = (self.pos == 4) & ~self.prev, (self.t >= 20) & ~self.prev
            self.prev = term | trunc
            return (
                self.pos[:, None].astype(np.float32),
                term.astype(np.float32),
                term,
                trunc,
                {},
            )

    env, model = Corridor(), ActorCritic(1, 2, hidden=16)
    cfg = Config(n_steps=8, eval_every=2_000)
    h = train(model, env, steps=6_000, lr=3e-3, cfg=cfg, eval_env=env, seed=0)
    print(
        f"A2C on a toy corridor: final loss {np.mean(h['loss'][-20:]):.4f}, "
        f"best greedy return {max(h['eval_return']):.2f} of 1"
    )
