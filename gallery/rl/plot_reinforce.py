"""
REINFORCE on CartPole
=====================

Trains REINFORCE with a learned baseline on gymnasium's CartPole-v1: every update plays
one episode in each of 16 CartPoles with the stochastic policy, computes the discounted
returns, and takes one policy-gradient step (plus a regression step for the baseline).
Every 5 updates the greedy policy plays 20 evaluation episodes, and the best policy seen
so far is kept. The target: the policy the example ends with averages a return of at
least 475 over 20 fresh greedy episodes; the floor is a uniformly random policy on the
same episodes. Its learning curve goes into the record, from which the RL page draws the
four methods side by side.
"""
# %%

import matplotlib.pyplot as plt
import torch

from _example import DEVICE, scale, start
from _rl import cartpole, random_policy_returns, timed_log
from reinforce import evaluate, train

run = start("reinforce")
threads = torch.get_num_threads()
torch.set_num_threads(1)  # the networks are tiny: one thread is fastest


# %%
# Training
# --------
# 16 episodes per update, Adam with learning rate 3e-3, discount 0.99. An update's batch
# is as long as its longest episode; shorter episodes are masked out after they end.
env, eval_env = cartpole(16), cartpole(20)
seconds = []
log = timed_log(seconds)

hist = train(
    env,
    scale(60, 4),
    device=DEVICE,
    eval_env=eval_env,
    eval_every=scale(5, 2),
    lr=3e-3,
    seed=0,
    log=log,
)

# %%
# Evaluation
# ----------
final = evaluate(hist["model"], eval_env, seed=123_456, device=DEVICE)
rand = random_policy_returns(eval_env, seed=123_456)
print(
    f"greedy REINFORCE: mean return {final.mean():.1f} (min {final.min():.0f}) over 20 "
    f"episodes; "
    f"random policy: {rand.mean():.1f}"
)

fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot(
    hist["steps"],
    hist["eval_return"],
    "o-",
    ms=3,
    color="C2",
    label="greedy policy (20 episodes)",
)
ax.plot(
    hist["train_steps"],
    hist["train_return"],
    color="C2",
    alpha=0.4,
    lw=1,
    label="sampled policy (training episodes)",
)
ax.axhline(475, color="green", ls="--", lw=1, label="target 475")
ax.axhline(
    rand.mean(), color="gray", ls=":", label=f"random policy ({rand.mean():.0f})"
)
ax.set(
    xlabel="environment steps",
    ylabel="mean return",
    title="REINFORCE with a baseline on CartPole",
    ylim=(0, 520),
)
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# The evaluation curve goes into the record: the RL page draws the four methods side by
# side from their records when the site is built.
run.series(
    "eval_return",
    hist["steps"],
    hist["eval_return"],
    x_name="environment steps",
    y_name="greedy return (20 episodes)",
)
run.series(
    "eval_return_seconds",
    seconds,
    hist["eval_return"],
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
    fmt=".1f",
    headline=True,
)
run.metric("best_eval_return_during_training", hist["best"], fmt=".1f")
run.metric("env_steps", hist["env_steps"], fmt=".0f")
run.finish()
