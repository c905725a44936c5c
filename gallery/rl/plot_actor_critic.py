"""
Actor-critic (A2C) on CartPole
==============================

Trains a synchronous advantage actor-critic on gymnasium's CartPole-v1: 16 CartPoles run
in parallel, and every 16 steps (256 transitions) give one update of the actor and the
critic, with GAE advantages (lambda 0.95) and an entropy bonus. Beside it runs the
ablation: the same initial networks, seed and steps without the critic's bootstrap (the
actor's advantage is the discounted reward to the rollout's end minus V(s), and nothing
after the rollout counts). Training uses CartPole's own start states; every 8,192
environment steps the greedy policy plays 20 episodes from wider start states, and the
best of these checkpoints is kept. The headline: the kept policy's mean return over 100
test episodes from the wider starts, disjoint from the selection episodes. The target,
475, is CartPole-v1's "solved" threshold; in calibration runs (seeds 100 to 104, not
the build's) the strongest simple baseline, random search over linear policies with the
same number of environment steps, reached 500 on such episodes. The mean greedy return
over training is reported beside it, for both, and their difference.
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
from actor_critic import ActorCritic, Config, evaluate, train

run = start("actor_critic")
threads = torch.get_num_threads()
torch.set_num_threads(1)  # the networks are tiny: one thread is fastest

# %%
# Training, with and without the critic's bootstrap
# -------------------------------------------------
# Adam with learning rate 1e-3, gradients clipped to norm 0.5, discount 0.99, 300,000
# environment steps. Both runs sample their actions from the same seeded generator.
STEPS = scale(300_000, 4_096)
model = ActorCritic(4, 2)
myopic = copy.deepcopy(model)
runs = {}
for name, net, bootstrap in [("A2C", model, True), ("no bootstrap", myopic, False)]:
    print(f"--- {name}")
    torch.manual_seed(run.seed)
    runs[name] = train(
        net,
        cartpole(16),
        steps=STEPS,
        lr=1e-3,
        cfg=Config(bootstrap=bootstrap, eval_every=scale(8_192, 1_024)),
        eval_env=cartpole(20, wide=True),
        device=DEVICE,
        seed=run.seed,
        log=print,
    )
hist, abl = runs["A2C"], runs["no bootstrap"]

# %%
# Test episodes and baselines
# ---------------------------
test_env = cartpole(100, wide=True)
test = evaluate(model, test_env, seed=TEST_SEED, device=DEVICE)
test_ablation = evaluate(myopic, test_env, seed=TEST_SEED, device=DEVICE)
rand = random_policy_returns(test_env, seed=TEST_SEED)
linear, rs_steps = random_search(STEPS, seed=run.seed)
rs = rollout_returns(linear, test_env, seed=TEST_SEED)
print(
    f"test return over 100 episodes: A2C {test.mean():.1f}, no bootstrap "
    f"{test_ablation.mean():.1f}, random search {rs.mean():.1f} ({rs_steps} steps), "
    f"random policy {rand.mean():.1f}"
)

fig, ax = plt.subplots(figsize=(8, 3.6))
for (name, h), col in zip(runs.items(), ("C3", "C7")):
    ax.plot(h["steps"], h["eval_return"], "o-", ms=3, color=col, label=name)
ax.axhline(475, color="green", ls="--", lw=1, label="target 475")
ax.axhline(rs.mean(), color="C2", ls="-.", lw=1, label="random search (test)")
ax.axhline(rand.mean(), color="gray", ls=":", label="random policy (test)")
ax.set(
    xlabel="environment steps",
    ylabel="greedy return (20 episodes)",
    title="A2C with and without the critic's bootstrap",
    ylim=(0, 520),
)
ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# What the actor and the critic learned
# -------------------------------------
# The kept critic's value V(s) and the actor's probability of pushing right over pole
# angle and angular velocity, with the cart at rest in the middle. The actor's decision
# boundary is a line of the kind a linear controller would draw: push the cart in the
# direction the pole is falling.
theta, omega = np.meshgrid(np.linspace(-0.21, 0.21, 121), np.linspace(-2, 2, 121))
states = np.stack([np.zeros_like(theta), np.zeros_like(theta), theta, omega], -1)
with torch.no_grad():
    obs = torch.as_tensor(states.reshape(-1, 4), dtype=torch.float32, device=DEVICE)
    logits, value = model(obs)
p_right = torch.softmax(logits, -1)[:, 1].cpu().numpy().reshape(theta.shape)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
ext = (-0.21, 0.21, -2, 2)
im = ax1.imshow(
    value.cpu().numpy().reshape(theta.shape), origin="lower", extent=ext, aspect="auto"
)
fig.colorbar(im, ax=ax1, label="V(s)")
ax1.set(xlabel="pole angle (rad)", ylabel="angular velocity (rad/s)", title="Critic")
im = ax2.imshow(
    p_right, origin="lower", extent=ext, aspect="auto", cmap="coolwarm", vmin=0, vmax=1
)
fig.colorbar(im, ax=ax2, label="pi(right | s)")
ax2.set(xlabel="pole angle (rad)", ylabel="angular velocity (rad/s)", title="Actor")
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
    ablation_name="no bootstrap",
    fmt=".1f",
    headline=True,
)
run.metric("no_bootstrap_test_return", test_ablation.mean(), fmt=".1f")
run.metric(
    "final_policy_return",
    hist["eval_return"][-1],
    ablation=abl["eval_return"][-1],
    ablation_name="no bootstrap",
    fmt=".1f",
)
run.metric(
    "mean_return_while_training",
    np.mean(hist["eval_return"]),
    ablation=np.mean(abl["eval_return"]),
    ablation_name="no bootstrap",
    fmt=".1f",
)
run.metric(
    "gain_over_no_bootstrap_while_training",
    np.mean(hist["eval_return"]) - np.mean(abl["eval_return"]),
    fmt=".1f",
)
run.metric("random_policy_test_return", rand.mean(), fmt=".1f")
run.finish()
