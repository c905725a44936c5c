"""Shared by the reinforcement-learning gallery examples (not an architecture): CartPole
environments, the random-policy baseline, and a log callback that notes when each
evaluation happened so the examples can plot return against seconds."""

import time

import gymnasium as gym
import numpy as np


def cartpole(n):
    """n CartPoles stepped together (gymnasium's numpy-vectorized CartPole-v1)."""
    return gym.make_vec(
        "CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point"
    )


def random_policy_returns(env, seed):
    """Returns of one episode per sub-env under uniformly random actions (seeded)."""
    env.action_space.seed(seed)
    env.reset(seed=seed)
    total, alive = np.zeros(env.num_envs), np.ones(env.num_envs, bool)
    while alive.any():
        _, rew, term, trunc, _ = env.step(env.action_space.sample())
        total += rew * alive
        alive &= ~(term | trunc)
    return total


def timed_log(seconds):
    """A ``log`` callback for ``train``: prints each line and appends to ``seconds`` the
    time since this call, so evaluation k happened ``seconds[k]`` seconds into
    training."""
    t0 = time.perf_counter()

    def log(line):
        seconds.append(time.perf_counter() - t0)
        print(line)

    return log
