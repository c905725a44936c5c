"""REINFORCE with a learned baseline (Williams, "Simple statistical gradient-following
algorithms for connectionist reinforcement learning", Machine Learning 1992). The policy
pi(a|s) is a network that outputs action probabilities; after whole episodes have been
played, the log-probability of each action taken is pushed up in proportion to how much
better than expected the rest of its episode went: the Monte Carlo return G_t minus a
baseline b(s_t). Subtracting a baseline that does not depend on the action leaves the
gradient unbiased and lowers its variance; here the baseline is a second network V(s)
fitted to the returns by regression.

An episode cut by CartPole's 500-step time limit did not end: its return goes on past
the cut, so the last return is bootstrapped with the baseline's estimate V(s_T) of the
state where it was cut (partial-episode bootstrapping, Pardo et al. 2018), instead of
being treated as the end. The environment is a gymnasium vector env
(``gymnasium.make_vec``): each update plays one episode in every sub-env, and what a
sub-env does after its first episode ends is masked out.
"""

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(inp, out, hidden=64):
    return nn.Sequential(
        nn.Linear(inp, hidden),
        nn.Tanh(),
        nn.Linear(hidden, hidden),
        nn.Tanh(),
        nn.Linear(hidden, out),
    )


class PolicyWithBaseline(nn.Module):
    """Two separate MLPs: the policy's action logits, and the baseline V(s)."""

    def __init__(self, obs_dim, n_actions, hidden=64):
        super().__init__()
        self.policy = mlp(obs_dim, n_actions, hidden)
        self.value = mlp(obs_dim, 1, hidden)

    def forward(self, obs):
        return self.policy(obs)  # logits; evaluation acts greedily on them


def discounted_returns(rewards, mask, boot, gamma=0.99):
    """G_t = r_t + gamma G_{t+1} within each episode; (T, N) tensors. mask is 1 while a
    sub-env's episode runs and 0 after it ended; boot is V(s_T) at the step where a time
    limit cut the episode (its return goes on past the cut), else 0."""
    returns, g = torch.zeros_like(rewards), torch.zeros_like(rewards[0])
    for t in range(len(rewards) - 1, -1, -1):
        g = mask[t] * (rewards[t] + gamma * (g + boot[t]))
        returns[t] = g
    return returns


def reinforce_loss(model, obs, act, returns, mask, value_coef=0.5, baseline=True):
    """Policy gradient with baseline, -log pi(a_t|s_t) (G_t - b(s_t)), advantages
    normalized per batch, plus the baseline's squared error to the returns; averages
    over the steps in ``mask``. ``baseline=False`` (the ablation) uses G_t scaled by its
    standard deviation, with no baseline at all (not even the batch mean)."""
    logp = F.log_softmax(model.policy(obs), -1).gather(-1, act[..., None]).squeeze(-1)
    value = model.value(obs).squeeze(-1)
    m, n = mask.bool(), mask.sum()
    if baseline:
        adv = (returns - value).detach()
        adv = (adv - adv[m].mean()) / (adv[m].std() + 1e-8)
    else:
        adv = returns / (returns[m].std() + 1e-8)
    policy_loss = -(logp * adv * mask).sum() / n
    value_loss = ((value - returns) ** 2 * mask).sum() / n
    return policy_loss + value_coef * value_loss


@torch.no_grad()
def play_episodes(model, env, seed=None, device="cpu", greedy=False):
    """One episode in each sub-env. Returns (obs, act, rew, mask, cut, next_obs) stacked
    over time, (T, N, ...); ``cut`` marks the step where a time limit ended an
    episode, and next_obs[t] is the state step t led to."""
    obs, _ = env.reset(seed=seed)
    alive, out = np.ones(env.num_envs, bool), []
    while alive.any():
        logits = model(torch.as_tensor(obs, device=device))
        if greedy:
            act = logits.argmax(-1)
        else:
            act = torch.multinomial(F.softmax(logits, -1), 1).squeeze(-1)
        next_obs, rew, term, trunc, _ = env.step(act.cpu().numpy())
        cut = alive & trunc & ~term
        out.append((obs, act.cpu().numpy(), rew, alive.copy(), cut, next_obs))
        alive &= ~(term | trunc)
        obs = next_obs
    return [torch.as_tensor(np.stack(x), device=device) for x in zip(*out)]


def evaluate(model, env, seed=None, device="cpu"):
    """Greedy returns of one episode in each sub-env: (num_envs,)."""
    rew, mask = play_episodes(model, env, seed, device, greedy=True)[2:4]
    return (rew * mask).sum(0).cpu().numpy()


def gradient_step(opt, loss):
    """One optimizer step on ``loss``; returns its value."""
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


@dataclass
class Config:
    """REINFORCE's options besides the number of updates and the learning rate."""

    gamma: float = 0.99
    """discount of future rewards"""
    value_coef: float = 0.5
    """weight of the baseline's squared error in the loss"""
    baseline: bool = True
    """subtract the learned baseline (False: the ablation, plain REINFORCE)"""
    eval_every: int = 5
    """updates between greedy evaluations on ``eval_env``"""


def train(model, env, *, updates, lr=3e-3, cfg=None, eval_env=None, device="cpu",
          seed=None, log=None):  # fmt: skip
    """``updates`` policy-gradient steps on ``model``, each on one episode per sub-env
    of ``env``. Every ``cfg.eval_every`` updates the greedy policy plays one episode per
    sub-env of ``eval_env``; at the end the best of these checkpoints is loaded into
    ``model``. Actions are sampled with torch's global generator (seed it first).
    Returns lists: steps, eval_return (per evaluation), loss, train_steps, train_return
    (per update)."""
    cfg, log = cfg or Config(), log or (lambda line: None)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist = dict(steps=[], eval_return=[], loss=[], train_steps=[], train_return=[])
    env_steps, best = 0, None
    for u in range(1, updates + 1):
        obs, act, rew, mask, cut, next_obs = play_episodes(
            model, env, seed if u == 1 else None, device
        )
        mask = mask.float()
        with torch.no_grad():
            boot = cut * model.value(next_obs).squeeze(-1)
        returns = discounted_returns(rew, mask, boot, cfg.gamma)
        loss = reinforce_loss(
            model, obs, act, returns, mask, cfg.value_coef, cfg.baseline
        )
        env_steps += int(mask.sum())
        hist["loss"].append(gradient_step(opt, loss))
        hist["train_steps"].append(env_steps)
        hist["train_return"].append((rew * mask).sum(0).mean().item())
        if eval_env is not None and (u % cfg.eval_every == 0 or u == updates):
            ret = evaluate(model, eval_env, seed=10_000 + u, device=device).mean()
            hist["steps"].append(env_steps)
            hist["eval_return"].append(ret)
            log(f"update {u:4d}  env steps {env_steps:7d}  greedy return {ret:6.1f}")
            if ret >= max(hist["eval_return"]):  # the best so far, the latest of ties
                best = {k: v.clone() for k, v in model.state_dict().items()}
    if best is not None:  # model leaves as the best evaluated checkpoint
        model.load_state_dict(best)
    return hist


if __name__ == "__main__":
    torch.set_num_threads(1)

    class Bandit:
        """A toy vector env: 5-step episodes, reward 1 when the action matches the sign
        of the observation, which is drawn at random each step."""

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

    env, model = Bandit(), PolicyWithBaseline(1, 2, hidden=16)
    h = train(model, env, updates=60, lr=1e-2, cfg=Config(eval_every=20), eval_env=env)
    print(
        f"REINFORCE on a toy bandit: final loss {h['loss'][-1]:.4f}, "
        f"best greedy return {max(h['eval_return']):.2f} of 5"
    )
