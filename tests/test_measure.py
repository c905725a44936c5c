"""The GAN families' shared measuring stick (code/_measure.py): the Fréchet distance and
the class share, checked against closed forms (the digit classifier itself is exercised
by the build)."""

import numpy as np
import pytest
import torch

from _measure import class_share, frechet_distance


def test_frechet_distance_matches_the_closed_form_for_commuting_covariances():
    """For diagonal covariances the formula is |mu_a - mu_b|^2 + sum (sa + sb - 2
    sqrt(sa sb)). Whitened samples make the sample means and covariances exactly the
    chosen ones."""
    rng = np.random.default_rng(0)

    def exact(mu, var, n=400):
        z = rng.standard_normal((n, len(mu)))
        z = (z - z.mean(0)) @ np.linalg.inv(
            np.linalg.cholesky(np.cov(z, rowvar=False))
        ).T
        return mu + z * np.sqrt(var)

    mu_a, var_a = np.array([0.0, 1.0, -2.0]), np.array([1.0, 4.0, 0.25])
    mu_b, var_b = np.array([1.0, 1.0, 0.0]), np.array([9.0, 1.0, 0.25])
    want = ((mu_a - mu_b) ** 2).sum() + (
        var_a + var_b - 2 * np.sqrt(var_a * var_b)
    ).sum()
    got = frechet_distance(exact(mu_a, var_a), exact(mu_b, var_b))
    assert want == pytest.approx(
        5 + (4 + 1 + 0)
    )  # means apart by (1, 0, 2); variances 1 vs 9, 4 vs 1
    assert got == pytest.approx(want, rel=1e-6)
    assert frechet_distance(exact(mu_a, var_a), exact(mu_a, var_a)) == pytest.approx(
        0, abs=1e-8
    )


def test_frechet_distance_rejects_mismatched_features():
    with pytest.raises(ValueError, match="feature arrays"):
        frechet_distance(np.zeros((10, 3)), np.zeros((10, 4)))


def test_class_share_is_an_exact_fraction():
    """900 hits of 1,000 is 0.9 exactly, so a >= 0.9 target is met (a float32 mean gives
    0.89999998 and would call it a miss)."""

    class Echo:
        def predict(self, x):
            return x

    asked = torch.ones(1000, dtype=torch.long)
    read = torch.cat(
        [torch.ones(900, dtype=torch.long), torch.zeros(100, dtype=torch.long)]
    )
    assert class_share(Echo(), read, asked) == 0.9
