"""
DQN on CartPole
===============

Trains a deep Q-network (replay buffer, target network, epsilon-greedy exploration,
Huber loss) on gymnasium's CartPole-v1, where a reward of 1 comes for every step the
pole stays up, up to 500, and beside it the ablation: the same network, seed and budget
with no target network (the online network computes its own targets). Training uses
CartPole's own start states; every 2,500 environment steps the greedy policy plays 20
episodes from wider start states, and the best of these checkpoints is kept. The
headline: the kept policy's mean return over 100 test episodes from the wider starts,
disjoint from the selection episodes. The target, 475, is CartPole-v1's "solved"
threshold; in calibration runs (seeds 100 to 104, not the build's) the strongest simple
baseline, random search over linear policies with the same number of environment
steps, averaged 494 on such episodes. The floor is a uniformly random policy.
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
from dqn import Config, QNet, ReplayBuffer, evaluate, train

run = start("dqn")
threads = torch.get_num_threads()
torch.set_num_threads(1)  # the networks are tiny: one thread is fastest

# %%
# Training, with and without the target network
# ---------------------------------------------
# Four CartPoles step together; each vector step adds four transitions to the replay
# buffer and makes one gradient step on 64 of them (Adam, learning rate 2.3e-3).
# Epsilon falls from 1 to 0.05 over the first 8,000 steps; the target network is copied
# from the online one every 50 updates (200 environment steps). These settings were
# chosen on calibration seeds 100 to 104 and their own evaluation episodes. The
# ablation starts from a copy of the same initial network and sees the same seeds; the
# only change is ``target_net=q_net``.
STEPS = scale(60_000, 3_000)
cfg = Config(
    learning_starts=scale(1_000, 500),
    eps_steps=scale(8_000, 1_000),
    eval_every=scale(2_500, 1_000),
)
q_net = QNet(4, 2)
no_target = copy.deepcopy(q_net)
runs = {}
for name, net, target in [
    ("DQN", q_net, QNet(4, 2)),
    ("no target network", no_target, no_target),
]:
    print(f"--- {name}")
    runs[name] = train(
        net,
        target,
        ReplayBuffer(50_000, 4),
        cartpole(4),
        steps=STEPS,
        batch_size=64,
        lr=2.3e-3,
        cfg=cfg,
        eval_env=cartpole(20, wide=True),
        device=DEVICE,
        seed=run.seed,
        log=print,
    )

# %%
# Test episodes and baselines
# ---------------------------
# Both kept policies play the same 100 test episodes from the wider starts (U(-0.15,
# 0.15) in each state variable, three times CartPole's range); so do the random policy
# and the best linear policy that random search finds with as many environment steps.
test_env = cartpole(100, wide=True)
test = evaluate(q_net, test_env, seed=TEST_SEED, device=DEVICE)
test_ablation = evaluate(no_target, test_env, seed=TEST_SEED, device=DEVICE)
rand = random_policy_returns(test_env, seed=TEST_SEED)
linear, rs_steps = random_search(STEPS, seed=run.seed)
rs = rollout_returns(linear, test_env, seed=TEST_SEED)
print(
    f"test return over 100 episodes: DQN {test.mean():.1f} (min {test.min():.0f}), "
    f"no target network {test_ablation.mean():.1f}, random search {rs.mean():.1f} "
    f"({rs_steps} steps), random policy {rand.mean():.1f}"
)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
for (name, h), col in zip(runs.items(), ("C0", "C7")):
    ax1.plot(h["steps"], h["eval_return"], "o-", ms=3, color=col, label=name)
ax1.axhline(475, color="green", ls="--", lw=1, label="target 475")
ax1.axhline(rs.mean(), color="C2", ls="-.", lw=1, label="random search (test)")
ax1.axhline(rand.mean(), color="gray", ls=":", label="random policy (test)")
ax1.set(
    xlabel="environment steps",
    ylabel="greedy return (20 episodes)",
    title="Greedy return while training",
    ylim=(0, 520),
)
ax1.legend(loc="upper left", fontsize=7)
for h, col in zip(runs.values(), ("C0", "C7")):
    k = min(200, len(h["loss"]))
    ax2.plot(np.convolve(h["loss"], np.ones(k) / k, mode="valid"), color=col, lw=1)
ax2.set(
    xlabel="gradient step",
    ylabel="Huber TD loss (moving average)",
    title="Training loss",
    yscale="log",
)
fig.tight_layout()
plt.show()

# %%
# What the Q-network learned
# --------------------------
# The kept policy's value max_a Q(s, a) and greedy action over pole angle and angular
# velocity, with the cart at rest in the middle. The boundary between "push left" and
# "push right" is the controller: push the cart under the pole's fall.
theta, omega = np.meshgrid(np.linspace(-0.21, 0.21, 121), np.linspace(-2, 2, 121))
states = np.stack([np.zeros_like(theta), np.zeros_like(theta), theta, omega], -1)
with torch.no_grad():
    obs = torch.as_tensor(states.reshape(-1, 4), dtype=torch.float32, device=DEVICE)
    q = q_net(obs).cpu().numpy()
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ext = (-0.21, 0.21, -2, 2)
im = ax1.imshow(
    q.max(1).reshape(theta.shape), origin="lower", extent=ext, aspect="auto"
)
fig.colorbar(im, ax=ax1, label="max_a Q(s, a)")
ax1.set(xlabel="pole angle (rad)", ylabel="angular velocity (rad/s)", title="Value")
ax2.imshow(
    q.argmax(1).reshape(theta.shape),
    origin="lower",
    extent=ext,
    aspect="auto",
    cmap="coolwarm",
    vmin=-0.5,
    vmax=1.5,
)
ax2.set(
    xlabel="pole angle (rad)",
    ylabel="angular velocity (rad/s)",
    title="Greedy action (blue: left, red: right)",
)
fig.tight_layout()
plt.show()

# %%
# The evaluation curve goes into the record: the RL page draws the four methods side by
# side from their records, over the seeds, when the site is built.
dqn, abl = runs["DQN"], runs["no target network"]
run.series(
    "eval_return",
    dqn["steps"],
    dqn["eval_return"],
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
    ablation_name="no target network",
    fmt=".1f",
    headline=True,
)
run.metric("no_target_network_test_return", test_ablation.mean(), fmt=".1f")
run.metric(
    "final_policy_return",
    dqn["eval_return"][-1],
    ablation=abl["eval_return"][-1],
    ablation_name="no target network",
    fmt=".1f",
)
run.metric(
    "mean_return_while_training",
    np.mean(dqn["eval_return"]),
    ablation=np.mean(abl["eval_return"]),
    ablation_name="no target network",
    fmt=".1f",
)
run.metric(
    "gain_over_no_target_network_while_training",
    np.mean(dqn["eval_return"]) - np.mean(abl["eval_return"]),
    fmt=".1f",
)
run.metric("random_policy_test_return", rand.mean(), fmt=".1f")
run.finish()
