"""
DQN on CartPole
===============

Trains a deep Q-network (replay buffer, target network, epsilon-greedy exploration,
Huber loss) on gymnasium's CartPole-v1, where a reward of 1 comes for every step the
pole stays up, up to 500. Every 2,000 environment steps the greedy policy plays 20
evaluation episodes, and the best policy seen so far is kept (DQN on CartPole often
forgets a good policy again). The target: the policy the example ends with averages a
return of at least 475 over 20 fresh greedy episodes. The floor: a uniformly random
policy on the same 20 episodes.
"""
# %%

import matplotlib.pyplot as plt
import numpy as np
import torch

from _example import DEVICE, scale, start
from _rl import cartpole, random_policy_returns, timed_log
from dqn import evaluate, train

run = start("dqn")
threads = torch.get_num_threads()
torch.set_num_threads(1)  # the networks are tiny: one thread is fastest


# %%
# Training
# --------
# Four CartPoles step together; each vector step adds four transitions to the replay
# buffer and makes one gradient step on a minibatch of 64 (Adam, learning rate 1e-3).
# Exploration decays linearly from epsilon = 1 to 0.05 over the first 20,000 steps; the
# target network is copied from the online one every 250 gradient steps (1,000
# environment steps). The ``log`` callback also notes the wall-clock time of each
# evaluation.
env, eval_env = cartpole(4), cartpole(20)
seconds = []
log = timed_log(seconds)

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
hist = train(env, device=DEVICE, eval_env=eval_env, log=log, **CONFIG)

# %%
# Evaluation
# ----------
# The kept policy plays 20 new greedy episodes (seeds it has never been selected on);
# the random policy plays the same 20 starts.
final = evaluate(hist["q_net"], eval_env, seed=123_456, device=DEVICE)
rand = random_policy_returns(eval_env, seed=123_456)
print(
    f"greedy DQN: mean return {final.mean():.1f} (min {final.min():.0f}) over 20 "
    f"episodes; "
    f"random policy: {rand.mean():.1f}"
)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ax1.plot(
    hist["steps"],
    hist["eval_return"],
    "o-",
    ms=3,
    color="C0",
    label="DQN, greedy (20 episodes)",
)
ax1.axhline(475, color="green", ls="--", lw=1, label="target 475")
ax1.axhline(
    rand.mean(), color="gray", ls=":", label=f"random policy ({rand.mean():.0f})"
)
ax1.set(
    xlabel="environment steps",
    ylabel="mean evaluation return",
    title="Greedy return while training",
    ylim=(0, 520),
)
ax1.legend(loc="lower right", fontsize=8)
loss = (
    np.convolve(hist["loss"], np.ones(200) / 200, mode="valid")
    if len(hist["loss"]) > 200
    else hist["loss"]
)
ax2.plot(loss, color="C1", lw=1)
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
# The greedy action and the value max_a Q(s, a) over pole angle and angular velocity,
# with the cart at rest in the middle. The boundary between "push left" and "push right"
# is the controller: push the cart under the pole's fall.
theta, omega = np.meshgrid(np.linspace(-0.21, 0.21, 121), np.linspace(-2, 2, 121))
states = np.stack(
    [np.zeros_like(theta), np.zeros_like(theta), theta, omega], -1
).reshape(-1, 4)
with torch.no_grad():
    q = (
        hist["q_net"](torch.as_tensor(states, dtype=torch.float32, device=DEVICE))
        .cpu()
        .numpy()
    )
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ext = (-0.21, 0.21, -2, 2)
im = ax1.imshow(
    q.max(1).reshape(theta.shape),
    origin="lower",
    extent=ext,
    aspect="auto",
    cmap="viridis",
)
fig.colorbar(im, ax=ax1, label="max_a Q(s, a)")
ax1.set(
    xlabel="pole angle (rad)",
    ylabel="pole angular velocity (rad/s)",
    title="Value of the state",
)
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
    ylabel="pole angular velocity (rad/s)",
    title="Greedy action (blue: left, red: right)",
)
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
run.metric("env_steps", CONFIG["steps"], fmt=".0f")
run.finish()
