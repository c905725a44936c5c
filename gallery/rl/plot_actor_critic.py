"""
Actor-critic (A2C) on CartPole
==============================

Trains a synchronous advantage actor-critic on gymnasium's CartPole-v1: 16 CartPoles run
in parallel, and every 16 steps (256 transitions) give one update of the actor and the
critic, with GAE advantages (lambda 0.95) and an entropy bonus. Every 8,192 environment
steps the greedy policy plays 20 evaluation episodes, and the best policy seen so far is
kept. The target: the policy the example ends with averages a return of at least 475
over 20 fresh greedy episodes; the floor is a uniformly random policy on the same
episodes.
"""
# %%

import matplotlib.pyplot as plt
import numpy as np
import torch

from _example import DEVICE, scale, start
from _rl import cartpole, random_policy_returns, timed_log
from actor_critic import evaluate, train

run = start("actor_critic")
threads = torch.get_num_threads()
torch.set_num_threads(1)  # the networks are tiny: one thread is fastest


# %%
# Training
# --------
# Adam with learning rate 1e-3, gradients clipped to norm 0.5, discount 0.99.
env, eval_env = cartpole(16), cartpole(20)
seconds = []
log = timed_log(seconds)

hist = train(
    env,
    scale(150_000, 4_096),
    device=DEVICE,
    eval_env=eval_env,
    eval_every=scale(8_192, 1_024),
    n_steps=16,
    lr=1e-3,
    seed=0,
    log=log,
)

# %%
# Evaluation
# ----------
final = evaluate(hist["model"], eval_env, seed=123_456, device=DEVICE)
rand = random_policy_returns(eval_env, seed=123_456)
print(
    f"greedy A2C: mean return {final.mean():.1f} (min {final.min():.0f}) over 20 "
    f"episodes; "
    f"random policy: {rand.mean():.1f}"
)

fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot(
    hist["steps"],
    hist["eval_return"],
    "o-",
    ms=3,
    color="C3",
    label="A2C, greedy (20 episodes)",
)
ax.axhline(475, color="green", ls="--", lw=1, label="target 475")
ax.axhline(
    rand.mean(), color="gray", ls=":", label=f"random policy ({rand.mean():.0f})"
)
ax.set(
    xlabel="environment steps",
    ylabel="mean evaluation return",
    title="A2C on CartPole",
    ylim=(0, 520),
)
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# What the actor and the critic learned
# -------------------------------------
# The critic's value V(s) and the actor's probability of pushing right over pole angle
# and angular velocity, with the cart at rest in the middle. The actor's decision
# boundary is a line of the kind a linear controller would draw: push the cart in the
# direction the pole is falling.
theta, omega = np.meshgrid(np.linspace(-0.21, 0.21, 121), np.linspace(-2, 2, 121))
states = np.stack(
    [np.zeros_like(theta), np.zeros_like(theta), theta, omega], -1
).reshape(-1, 4)
with torch.no_grad():
    logits, value = hist["model"](
        torch.as_tensor(states, dtype=torch.float32, device=DEVICE)
    )
p_right = torch.softmax(logits, -1)[:, 1].cpu().numpy().reshape(theta.shape)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ext = (-0.21, 0.21, -2, 2)
im = ax1.imshow(
    value.cpu().numpy().reshape(theta.shape), origin="lower", extent=ext, aspect="auto"
)
fig.colorbar(im, ax=ax1, label="V(s)")
ax1.set(
    xlabel="pole angle (rad)", ylabel="pole angular velocity (rad/s)", title="Critic"
)
im = ax2.imshow(
    p_right, origin="lower", extent=ext, aspect="auto", cmap="coolwarm", vmin=0, vmax=1
)
fig.colorbar(im, ax=ax2, label="pi(right | s)")
ax2.set(
    xlabel="pole angle (rad)", ylabel="pole angular velocity (rad/s)", title="Actor"
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
run.metric("env_steps", hist["env_steps"], fmt=".0f")
run.finish()
