"""
DQN with prioritized replay on CartPole
=======================================

Trains DQN with prioritized experience replay (a sum tree, proportional priorities,
importance weights with beta annealed from 0.4 to 1) on gymnasium's CartPole-v1, and
sets it beside plain DQN with uniform replay: the same network, hyperparameters, seeds
and number of environment steps. Every 2,000 steps the greedy policy plays 20 evaluation
episodes and the best one is kept. The target: the prioritized agent's final policy
averages a return of at least 475 over 20 fresh greedy episodes; the baselines are plain
DQN and a uniformly random policy on the same episodes.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

import dqn
from _example import DEVICE, scale, start
from _rl import cartpole, random_policy_returns, timed_log
from per_dqn import evaluate, train

run = start("per_dqn")
threads = torch.get_num_threads()
torch.set_num_threads(1)  # the networks are tiny: one thread is fastest


# %%
# Training
# --------
# The settings are those of the DQN example: four CartPoles, one gradient step on 64
# transitions per vector step, the target network copied every 250 updates, epsilon from
# 1 to 0.05 over 20,000 steps, the same seed. Only the replay memory differs (alpha =
# 0.6, beta from 0.4 to 1).
CONFIG = dict(
    steps=scale(100_000, 3_000),
    eval_every=scale(2_000, 1_000),
    lr=1e-3,
    batch_size=64,
    target_every=250,
    learning_starts=scale(1_000, 500),
    eps_steps=scale(20_000, 1_000),
    seed=0,
)
per_seconds = []
per = train(
    cartpole(4),
    device=DEVICE,
    eval_env=cartpole(20),
    log=timed_log(per_seconds),
    **CONFIG,
)

eval_env = cartpole(20)
final = evaluate(per["q_net"], eval_env, seed=123_456, device=DEVICE)
rand = random_policy_returns(eval_env, seed=123_456)

# %%
# Plain DQN, same seeds and steps
# -------------------------------
# The ablation: plain DQN with uniform replay, trained here with exactly these settings
# (the same seed, network and steps), so that only the replay memory differs.
h = dqn.train(cartpole(4), device=DEVICE, eval_env=cartpole(20), log=print, **CONFIG)
plain = dict(
    steps=h["steps"],
    eval_return=h["eval_return"],
    final_return=dqn.evaluate(h["q_net"], eval_env, seed=123_456, device=DEVICE).mean(),
)
print(
    f"greedy return over 20 episodes: prioritized {final.mean():.1f}, "
    f"uniform {plain['final_return']:.1f}, random policy {rand.mean():.1f}"
)

fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot(
    per["steps"], per["eval_return"], "o-", ms=3, color="C1", label="prioritized replay"
)
ax.plot(
    plain["steps"],
    plain["eval_return"],
    "s-",
    ms=3,
    color="C0",
    alpha=0.7,
    label="uniform replay (DQN)",
)
ax.axhline(475, color="green", ls="--", lw=1, label="target 475")
ax.axhline(
    rand.mean(), color="gray", ls=":", label=f"random policy ({rand.mean():.0f})"
)
ax.set(
    xlabel="environment steps",
    ylabel="greedy return (20 episodes)",
    title="Prioritized against uniform replay, same seeds and steps",
    ylim=(0, 520),
)
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# What gets replayed
# ------------------
# The prioritized agent's buffer at the end of training. Left: the priority of each
# stored transition against the pole angle of its state; terminal transitions (the pole
# falling) carry the largest TD errors. Right: the importance weights of one minibatch
# against the probability it was drawn with: the rarer a transition's draw, the larger
# its weight (log-log slope -beta).
buf = per["buffer"]
prio = buf.tree.tree[buf.tree.n : buf.tree.n + buf.size]
rng = np.random.default_rng(0)
_, idx, w = buf.sample(256, 0.4, rng, "cpu")
prob = prio[idx] / buf.tree.total()
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
term = buf.term[: buf.size] > 0
ax1.scatter(
    np.abs(buf.obs[: buf.size, 2])[~term],
    prio[~term],
    s=2,
    alpha=0.3,
    label="non-terminal",
)
ax1.scatter(
    np.abs(buf.obs[: buf.size, 2])[term], prio[term], s=6, color="C3", label="terminal"
)
ax1.set(
    xlabel="|pole angle| of the stored state (rad)",
    ylabel="priority (|delta| + eps)^alpha",
    yscale="log",
    title="Priorities in the buffer",
)
ax1.legend(fontsize=8, markerscale=3)
ax2.loglog(prob, w.numpy(), "o", ms=3)
ax2.set(
    xlabel="sampling probability P(i)",
    ylabel="importance weight w_i",
    title="One minibatch, beta = 0.4",
)
fig.tight_layout()
plt.show()

# %%
# The evaluation curve goes into the record: the RL page draws the four methods side by
# side from their records when the site is built.
run.series(
    "eval_return",
    per["steps"],
    per["eval_return"],
    x_name="environment steps",
    y_name="greedy return (20 episodes)",
)
run.series(
    "eval_return_seconds",
    per_seconds,
    per["eval_return"],
    x_name="seconds of training",
    y_name="greedy return (20 episodes)",
)
torch.set_num_threads(threads)

run.metric(
    "greedy_return_20_episodes",
    final.mean(),
    target=475,
    baseline=rand.mean(),
    baseline_name="random policy",
    ablation=plain["final_return"],
    ablation_name="uniform replay (DQN)",
    fmt=".1f",
    headline=True,
)
run.metric("uniform_replay_greedy_return", plain["final_return"], fmt=".1f")
run.metric(
    "best_eval_return_during_training",
    per["best"],
    baseline=max(plain["eval_return"]),
    baseline_name="uniform replay",
    fmt=".1f",
)
run.finish()
