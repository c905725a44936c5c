"""Shared by the reinforcement-learning gallery examples (not an architecture): CartPole
environments (the training task, and evaluation episodes from wider start states), the
random-policy floor and the random-search baseline."""

import gymnasium as gym
import numpy as np

#: Evaluation episodes start from U(-WIDTH, WIDTH) in each of the four state variables
#: (CartPole's own start distribution, used for training, is U(-0.05, 0.05)).
WIDTH = 0.15
#: The seed of the test episodes: the same for every training seed and method, and
#: disjoint from the training seeds (0, 1, 2), the periodic evaluations' (10,000 + step)
#: and random search's (2,000,000 and up).
TEST_SEED = 1_000_000


class WideStarts(gym.vector.VectorWrapper):
    """A CartPole vector env whose every episode starts from U(-width, width)^4."""

    def __init__(self, env, width=WIDTH):
        super().__init__(env)
        self.width = width

    def reset(self, *, seed=None, options=None):
        return self.env.reset(
            seed=seed, options={"low": -self.width, "high": self.width}
        )


def cartpole(n, wide=False):
    """n CartPoles stepped together (gymnasium's numpy-vectorized CartPole-v1), from
    CartPole's own start states or, with ``wide``, from the wider evaluation starts."""
    env = gym.make_vec(
        "CartPole-v1", num_envs=n, vectorization_mode="vector_entry_point"
    )
    return WideStarts(env) if wide else env


def rollout_returns(policy, env, seed):
    """One episode in each sub-env under ``policy`` (observations (n, 4) -> actions
    (n,)); returns (n,)."""
    obs, _ = env.reset(seed=seed)
    total, alive = np.zeros(env.num_envs), np.ones(env.num_envs, bool)
    while alive.any():
        obs, rew, term, trunc, _ = env.step(policy(obs))
        total += rew * alive
        alive &= ~(term | trunc)
    return total


def random_policy_returns(env, seed):
    """Returns of one episode per sub-env under uniformly random actions (seeded)."""
    rng = np.random.default_rng(seed)
    return rollout_returns(lambda obs: rng.integers(0, 2, len(obs)), env, seed)


def random_search(budget, seed, episodes=8, batch=16):
    """The strongest simple baseline: random search over linear policies, a = [w . s >
    0] with w ~ N(0, I) (the simplest method of Mania et al. 2018). Candidates play
    ``episodes`` episodes each from the wider start states (as the deep agents'
    checkpoints are selected on them; other seeds than the test's), ``batch`` at a time,
    until ``budget`` environment steps are spent. Returns the best candidate's policy
    (observations -> actions) and the steps it used."""
    rng, env = np.random.default_rng(seed), cartpole(batch * episodes, wide=True)
    best_w, best_ret, used, k = None, -np.inf, 0, 0
    while used < budget:
        w = rng.standard_normal((batch, 4))
        rows = np.repeat(w, episodes, 0)
        ret = rollout_returns(
            lambda obs, r=rows: ((obs * r).sum(1) > 0).astype(np.int64),
            env,
            2_000_000 + 1_000 * seed + k,
        )
        used, k = used + int(ret.sum()), k + 1
        ret = ret.reshape(batch, episodes).mean(1)
        if ret.max() > best_ret:
            best_w, best_ret = w[ret.argmax()], ret.max()
    return (lambda obs: ((obs @ best_w) > 0).astype(np.int64)), used
