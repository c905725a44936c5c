"""REINFORCE with a learned baseline (Williams, "Simple statistical gradient-following
algorithms for connectionist reinforcement learning", Machine Learning 1992). The policy
pi(a|s) is a network that outputs action probabilities; after whole episodes have been
played, the log-probability of each action taken is pushed up in proportion to how much
better than expected the rest of its episode went: the Monte Carlo return G_t minus a
baseline b(s_t). Subtracting a baseline that does not depend on the action leaves the
gradient unbiased and lowers its variance; here the baseline is a second network V(s)
fitted to the returns by regression.

The environment is a gymnasium vector env (``gymnasium.make_vec``): each update plays
one episode in every sub-env, and what a sub-env does after its first episode ends is
masked out.
"""

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
        self.policy, self.value = (
            mlp(obs_dim, n_actions, hidden),
            mlp(obs_dim, 1, hidden),
        )

    def forward(self, obs):
        return self.policy(obs)  # logits; evaluation acts greedily on them


def discounted_returns(rewards, mask, gamma=0.99):
    """G_t = sum_k gamma^k r_{t+k} within each episode. rewards, mask: (T, N) tensors;
    mask is 1 while a sub-env's episode is running and 0 after it ended."""
    returns, g = torch.zeros_like(rewards), torch.zeros_like(rewards[0])
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] * mask[t] + gamma * g * mask[t]
        returns[t] = g
    return returns


def reinforce_loss(model, obs, act, returns, mask, value_coef=0.5):
    """Policy gradient with baseline, -log pi(a_t|s_t) (G_t - b(s_t)), advantages
    normalized per batch, plus the baseline's squared error to the returns. Averages
    over the steps in ``mask``."""
    logp = F.log_softmax(model.policy(obs), -1).gather(-1, act[..., None]).squeeze(-1)
    baseline = model.value(obs).squeeze(-1)
    adv = (returns - baseline).detach()
    m, n = mask.bool(), mask.sum()
    adv = (adv - adv[m].mean()) / (adv[m].std() + 1e-8)
    policy_loss = -(logp * adv * mask).sum() / n
    value_loss = ((baseline - returns) ** 2 * mask).sum() / n
    return policy_loss + value_coef * value_loss


@torch.no_grad()
def play_episodes(model, env, seed, device="cpu", greedy=False):
    """One episode in each sub-env. Returns (obs, act, rew, mask) stacked over time, (T,
    N, ...)."""
    obs, _ = env.reset(seed=seed)
    alive, out = np.ones(env.num_envs, bool), []
    while alive.any():
        logits = model(torch.as_tensor(obs, device=device))
        act = (
            logits.argmax(-1)
            if greedy
            else torch.multinomial(F.softmax(logits, -1), 1).squeeze(-1)
        )
        next_obs, rew, term, trunc, _ = env.step(act.cpu().numpy())
        out.append((obs, act.cpu().numpy(), rew, alive.copy()))
        alive &= ~(term | trunc)
        obs = next_obs
    return [torch.as_tensor(np.stack(x), device=device) for x in zip(*out)]


def evaluate(model, env, seed, device="cpu"):
    """Greedy returns of one episode in each sub-env."""
    _, _, rew, mask = play_episodes(model, env, seed, device, greedy=True)
    return (rew * mask).sum(0).cpu().numpy()


def train(
    env,
    updates,
    device="cpu",
    eval_env=None,
    eval_every=10,
    hidden=64,
    lr=1e-2,
    gamma=0.99,
    seed=0,
    log=print,
):
    """``updates`` policy-gradient steps, each on a batch of env.num_envs episodes.
    Every ``eval_every`` updates the greedy policy is evaluated and the best one is
    kept."""
    torch.manual_seed(seed)
    model = PolicyWithBaseline(
        env.single_observation_space.shape[0], env.single_action_space.n, hidden
    ).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    hist = dict(
        steps=[], eval_return=[], loss=[], train_steps=[], train_return=[], best=-np.inf
    )
    env_steps, best_state = 0, None
    for u in range(1, updates + 1):
        obs, act, rew, mask = play_episodes(model, env, seed + u, device)
        mask = mask.float()
        loss = reinforce_loss(
            model, obs, act.long(), discounted_returns(rew, mask, gamma), mask
        )
        opt.zero_grad()
        loss.backward()
        opt.step()
        env_steps += int(mask.sum())
        hist["loss"].append(loss.item())
        hist["train_steps"].append(env_steps)
        hist["train_return"].append((rew * mask).sum(0).mean().item())
        if eval_env is not None and (u % eval_every == 0 or u == updates):
            ret = evaluate(model, eval_env, seed=10_000 + u, device=device).mean()
            hist["steps"].append(env_steps)
            hist["eval_return"].append(ret)
            log(f"update {u:4d}  env steps {env_steps:7d}  eval return {ret:6.1f}")
            if ret >= hist["best"]:
                hist["best"] = ret
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    hist.update(model=model, env_steps=env_steps)
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

    env = Bandit()
    h = train(env, 60, eval_env=env, eval_every=20, hidden=16, lr=1e-2)
    print(
        f"REINFORCE on a toy bandit: final loss {h['loss'][-1]:.4f}, "
        f"greedy return {h['best']:.2f} of 5"
    )
