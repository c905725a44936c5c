"""
REINFORCE on CartPole
=====================

Trains REINFORCE with a learned baseline on gymnasium's CartPole-v1: every update plays
one episode in each of 16 CartPoles with the stochastic policy, computes the discounted
returns (an episode cut by the 500-step time limit is bootstrapped with the baseline's
value of the state where it was cut) and takes one policy-gradient step, plus a
regression step for the baseline. Beside it runs the ablation, plain REINFORCE: the
same initial networks, seed and number of updates, with no baseline subtracted (the
value network is still fitted, for the time-limit bootstrap only). Training uses
CartPole's own start states; every 5 updates the greedy policy plays 20 episodes from
wider start states, and the best of these checkpoints is kept. The headline: the kept
policy's mean return over 100 test episodes from the wider starts, disjoint from the
selection episodes. The target, 475, is CartPole-v1's "solved" threshold; in
calibration runs (seeds 100 to 104, not the build's) the strongest simple baseline,
random search over linear policies with as many environment steps, reached 500 on such
episodes. The baseline's claim is lower variance, hence faster learning, so the mean
greedy return over training is reported beside it, for both, and their difference.
"""

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch

from _example import DEVICE, scale, start
from _rl import (
    TEST_SEED,
    cartpole,
    random_policy_returns,
    random_search,
    rollout_returns,
)
from reinforce import Config, PolicyWithBaseline, evaluate, train

run = start("reinforce")
threads = torch.get_num_threads()
torch.set_num_threads(1)  # the networks are tiny: one thread is fastest

# %%
# Training, with and without the baseline
# ---------------------------------------
# 16 episodes per update, 60 updates, Adam with learning rate 3e-3, discount 0.99. An
# update's batch is as long as its longest episode; shorter episodes are masked out
# after they end. Both runs sample their actions from the same seeded generator.
model = PolicyWithBaseline(4, 2)
plain = copy.deepcopy(model)
runs = {}
for name, net, baseline in [
    ("with baseline", model, True),
    ("no baseline", plain, False),
]:
    print(f"--- {name}")
    torch.manual_seed(run.seed)
    runs[name] = train(
        net,
        cartpole(16),
        updates=scale(60, 4),
        lr=3e-3,
        cfg=Config(baseline=baseline, eval_every=scale(5, 2)),
        eval_env=cartpole(20, wide=True),
        device=DEVICE,
        seed=run.seed,
        log=print,
    )
hist, abl = runs["with baseline"], runs["no baseline"]

# %%
# Test episodes and baselines
# ---------------------------
# Random search gets as many environment steps as REINFORCE with its baseline used.
test_env = cartpole(100, wide=True)
test = evaluate(model, test_env, seed=TEST_SEED, device=DEVICE)
test_ablation = evaluate(plain, test_env, seed=TEST_SEED, device=DEVICE)
rand = random_policy_returns(test_env, seed=TEST_SEED)
linear, rs_steps = random_search(hist["train_steps"][-1], seed=run.seed)
rs = rollout_returns(linear, test_env, seed=TEST_SEED)
print(
    f"test return over 100 episodes: with baseline {test.mean():.1f}, without "
    f"{test_ablation.mean():.1f}, random search {rs.mean():.1f} ({rs_steps} steps), "
    f"random policy {rand.mean():.1f}"
)

fig, ax = plt.subplots(figsize=(8, 3.6))
for (name, h), col in zip(runs.items(), ("C2", "C7")):
    ax.plot(
        h["steps"], h["eval_return"], "o-", ms=3, color=col, label=f"{name}, greedy"
    )
    ax.plot(h["train_steps"], h["train_return"], color=col, alpha=0.35, lw=1)
ax.axhline(475, color="green", ls="--", lw=1, label="target 475")
ax.axhline(rs.mean(), color="C2", ls="-.", lw=1, label="random search (test)")
ax.axhline(rand.mean(), color="gray", ls=":", label="random policy (test)")
ax.set(
    xlabel="environment steps",
    ylabel="mean return",
    title="REINFORCE: greedy evaluations (dots), sampled training episodes (lines)",
    ylim=(0, 520),
)
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# The evaluation curve goes into the record: the RL page draws the four methods side by
# side from their records, over the seeds, when the site is built.
run.series(
    "eval_return",
    hist["steps"],
    hist["eval_return"],
    x_name="environment steps",
    y_name="greedy return (20 wide-start episodes)",
)
torch.set_num_threads(threads)

run.metric(
    "test_return_100_episodes",
    test.mean(),
    target=475,
    baseline=rs.mean(),
    baseline_name="random search, linear policy",
    ablation=test_ablation.mean(),
    ablation_name="no baseline",
    fmt=".1f",
    headline=True,
)
run.metric("no_baseline_test_return", test_ablation.mean(), fmt=".1f")
run.metric(
    "final_policy_return",
    hist["eval_return"][-1],
    ablation=abl["eval_return"][-1],
    ablation_name="no baseline",
    fmt=".1f",
)
run.metric(
    "mean_return_while_training",
    np.mean(hist["eval_return"]),
    ablation=np.mean(abl["eval_return"]),
    ablation_name="no baseline",
    fmt=".1f",
)
run.metric(
    "gain_over_no_baseline_while_training",
    np.mean(hist["eval_return"]) - np.mean(abl["eval_return"]),
    fmt=".1f",
)
run.metric("random_policy_test_return", rand.mean(), fmt=".1f")
run.metric("env_steps", hist["train_steps"][-1], fmt=".0f")
run.finish()
