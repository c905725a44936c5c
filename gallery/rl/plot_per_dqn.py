"""
DQN with prioritized replay on CartPole
=======================================

Trains DQN with prioritized experience replay (a sum tree, proportional priorities,
importance weights with beta annealed from 0.4 to 1) on gymnasium's CartPole-v1, and
beside it the ablation, plain DQN with uniform replay (prioritized replay with alpha = 0
is DQN): the same initial network, hyperparameters, seed and number of environment
steps. Training uses CartPole's own start states; every 2,500 steps the greedy policy
plays 20 episodes from wider start states, and the best of these checkpoints is kept.
The headline: the kept policy's mean return over 100 test episodes from the wider
starts, disjoint from the selection episodes. The target, 475, is CartPole-v1's
"solved" threshold; in calibration runs (seeds 100 to 104, not the build's) the
strongest simple baseline, random search over linear policies with the same number of
environment steps, averaged 494 on such episodes. Prioritized replay's claim is faster
learning, so the mean greedy return over training is reported beside it, for both
replays, and their difference over the seeds.
"""

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch

import dqn
from _example import DEVICE, scale, start
from _rl import (
    TEST_SEED,
    cartpole,
    random_policy_returns,
    random_search,
    rollout_returns,
)
from per_dqn import Config, PrioritizedReplay, QNet, evaluate, train

run = start("per_dqn")
threads = torch.get_num_threads()
torch.set_num_threads(1)  # the networks are tiny: one thread is fastest

# %%
# Prioritized and uniform replay, same seed and steps
# ---------------------------------------------------
# The settings are those of the DQN example (chosen there on calibration seeds): four
# CartPoles, one gradient step on 64 transitions per vector step, Adam with learning
# rate 2.3e-3, the target network copied every 50 updates, epsilon from 1 to 0.05 over
# 8,000 steps. Only the replay memory differs (alpha = 0.6, beta from 0.4 to 1).
STEPS = scale(60_000, 3_000)
common = dict(
    learning_starts=scale(1_000, 500),
    eps_steps=scale(8_000, 1_000),
    eval_every=scale(2_500, 1_000),
)
q_net = QNet(4, 2)
uniform = dqn.QNet(4, 2)
uniform.load_state_dict(q_net.state_dict())  # the same initial weights
buffer = PrioritizedReplay(50_000, 4, alpha=0.6)
options = dict(steps=STEPS, batch_size=64, lr=2.3e-3, device=DEVICE, seed=run.seed)
print("--- prioritized replay")
per = train(
    q_net,
    QNet(4, 2),
    buffer,
    cartpole(4),
    cfg=Config(beta0=0.4, **common),
    eval_env=cartpole(20, wide=True),
    log=print,
    **options,
)
print("--- uniform replay (DQN)")
plain = dqn.train(
    uniform,
    copy.deepcopy(uniform),
    dqn.ReplayBuffer(50_000, 4),
    cartpole(4),
    cfg=dqn.Config(**common),
    eval_env=cartpole(20, wide=True),
    log=print,
    **options,
)

# %%
# Test episodes and baselines
# ---------------------------
test_env = cartpole(100, wide=True)
test = evaluate(q_net, test_env, seed=TEST_SEED, device=DEVICE)
test_uniform = dqn.evaluate(uniform, test_env, seed=TEST_SEED, device=DEVICE)
rand = random_policy_returns(test_env, seed=TEST_SEED)
linear, rs_steps = random_search(STEPS, seed=run.seed)
rs = rollout_returns(linear, test_env, seed=TEST_SEED)
print(
    f"test return over 100 episodes: prioritized {test.mean():.1f}, uniform "
    f"{test_uniform.mean():.1f}, random search {rs.mean():.1f} ({rs_steps} steps), "
    f"random policy {rand.mean():.1f}"
)

fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot(per["steps"], per["eval_return"], "o-", ms=3, color="C1", label="prioritized")
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
ax.axhline(rs.mean(), color="C2", ls="-.", lw=1, label="random search (test)")
ax.axhline(rand.mean(), color="gray", ls=":", label="random policy (test)")
ax.set(
    xlabel="environment steps",
    ylabel="greedy return (20 episodes)",
    title=f"Prioritized against uniform replay, seed {run.seed}",
    ylim=(0, 520),
)
ax.legend(loc="upper left", fontsize=8)
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
prio = buffer.tree.tree[buffer.tree.n : buffer.tree.n + buffer.size]
_, idx, w = buffer.sample(256, 0.4, np.random.default_rng(run.seed), "cpu")
prob = prio[idx] / buffer.tree.total()
term = buffer.term[: buffer.size] > 0
angle = np.abs(buffer.obs[: buffer.size, 2])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ax1.scatter(angle[~term], prio[~term], s=2, alpha=0.3, label="non-terminal")
ax1.scatter(angle[term], prio[term], s=6, color="C3", label="terminal")
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
# side from their records, over the seeds, when the site is built.
run.series(
    "eval_return",
    per["steps"],
    per["eval_return"],
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
    ablation=test_uniform.mean(),
    ablation_name="uniform replay (DQN)",
    fmt=".1f",
    headline=True,
)
run.metric("uniform_replay_test_return", test_uniform.mean(), fmt=".1f")
run.metric(
    "final_policy_return",
    per["eval_return"][-1],
    ablation=plain["eval_return"][-1],
    ablation_name="uniform replay (DQN)",
    fmt=".1f",
)
run.metric(
    "mean_return_while_training",
    np.mean(per["eval_return"]),
    ablation=np.mean(plain["eval_return"]),
    ablation_name="uniform replay (DQN)",
    fmt=".1f",
)
run.metric(
    "gain_over_uniform_replay_while_training",
    np.mean(per["eval_return"]) - np.mean(plain["eval_return"]),
    fmt=".1f",
)
run.metric("random_policy_test_return", rand.mean(), fmt=".1f")
run.finish()
