"""A tiny vectorized test environment shared by the RL tests (gymnasium's vector API, no
gym)."""

from types import SimpleNamespace

import numpy as np


class Corridor:
    """Walk right (action 1) to the end of a corridor of length 3 within 12 steps;
    ``num_envs`` copies stepped together, with next-step autoreset like gymnasium's
    vector environments."""

    def __init__(self, num_envs=4):
        self.num_envs = num_envs
        self.single_observation_space = SimpleNamespace(shape=(1,))
        self.single_action_space = SimpleNamespace(n=2)

    def reset(self, seed=None):
        n = self.num_envs
        self.pos, self.t, self.prev = np.zeros(n), np.zeros(n), np.zeros(n, bool)
        return self.pos[:, None].astype(np.float32), {}

    def step(self, act):
        self.pos = np.where(self.prev, 0, np.clip(self.pos + 2 * act - 1, 0, 3))
        self.t = np.where(self.prev, 0, self.t + 1)
        term, trunc = (self.pos == 3) & ~self.prev, (self.t >= 12) & ~self.prev
        self.prev = term | trunc
        return (
            self.pos[:, None].astype(np.float32),
            term.astype(np.float32),
            term,
            trunc,
            {},
        )
