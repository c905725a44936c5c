import torch

from adversarial_metric import (
    Embedding,
    PairGenerator,
    RandomPerturbation,
    contrastive_loss,
    generator_loss,
    recall_at_1,
    sample_pairs,
    train,
)


def test_shapes():
    a, b = torch.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    assert Embedding(dim=16)(a).shape == (3, 16)
    a2, b2 = PairGenerator(eps=0.1)(a, b)
    assert a2.shape == a.shape and b2.shape == b.shape
    assert (a2 - a).abs().max() <= 0.1 + 1e-6 and 0 <= a2.min() and a2.max() <= 1


def test_losses_by_hand():
    f = torch.nn.Flatten()  # the metric is Euclidean distance on pixels
    a = torch.zeros(2, 1, 2, 2)
    b = torch.zeros(2, 1, 2, 2)
    b[0, 0, 0, 0], b[1, 0, 0, 0] = 0.6, 0.3  # distances 0.6 and 0.3
    same = torch.tensor([True, False])
    want = (0.6**2 + (1 - 0.3) ** 2) / 2
    assert torch.isclose(contrastive_loss(f, a, b, same), torch.tensor(want))
    # an identity "generator" costs nothing to stay near, so its loss is -L on the pairs
    G = lambda p, q: (p, q)  # noqa: E731
    assert torch.isclose(generator_loss(f, G, a, b, same), torch.tensor(-want))


def test_closeness_penalty_is_the_squared_norm_of_the_page():
    """beta (||a~ - a||^2 + ||b~ - b||^2) with the squared norm summed over all pixels
    and averaged over pairs. Fails for a per-pixel mean (784x weaker, as the module
    once had) or a norm that is not squared."""
    f = lambda x: torch.zeros(len(x), 1)  # noqa: E731  (every pair at distance 0)
    a, b = torch.zeros(3, 1, 28, 28), torch.zeros(3, 1, 28, 28)
    same = torch.tensor([True, True, True])  # similar pairs at d = 0 cost nothing
    shift = lambda p, q: (p + 0.1, q + 0.2)  # noqa: E731
    want = 0.5 * 784 * (0.1**2 + 0.2**2)
    assert torch.isclose(
        generator_loss(f, shift, a, b, same, beta=0.5), torch.tensor(want)
    )


def test_random_perturbation_has_the_given_size_and_no_parameters():
    """Fails if the control's perturbation is not +-scale per pixel (before clipping to
    [0, 1]) or if it carries parameters that train would optimise."""
    torch.manual_seed(0)
    R = RandomPerturbation(0.2)
    a = torch.full((4, 1, 28, 28), 0.5)
    a2, b2 = R(a, a)
    assert torch.allclose((a2 - a).abs(), torch.full_like(a, 0.2))
    assert not torch.equal(a2, b2) and not list(R.parameters())


def test_generator_ascends_the_metric_loss():
    """A few generator steps against a fixed metric must raise the loss on the generated
    pairs."""
    torch.manual_seed(0)
    x = torch.rand(16, 1, 28, 28) * 0.5
    y = torch.arange(16) % 2
    f, G = Embedding(dim=8), PairGenerator(hidden=32, eps=0.3)
    a, b, same = sample_pairs(x, y, 16)
    opt = torch.optim.Adam(G.parameters(), lr=1e-2)
    before = contrastive_loss(f, *G(a, b), same).item()
    for _ in range(10):
        loss = generator_loss(f, G, a, b, same, beta=0.1)
        opt.zero_grad(), loss.backward(), opt.step()
    assert contrastive_loss(f, *G(a, b), same).item() > before


def test_train_learns():
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28) * 0.3
    y = torch.arange(64) % 4
    for k in range(4):
        x[y == k, :, 7 * k : 7 * k + 7] += 0.7
    f = Embedding(hidden=32, dim=8)
    hist = train(f, PairGenerator(hidden=32, eps=0.1), x, y, steps=30, batch_size=16)
    assert set(hist) == {"d_loss", "g_loss", "metric", "adv"}
    assert len(hist["g_loss"]) == len(hist["adv"]) == 30
    assert sum(hist["metric"][-5:]) < 0.5 * sum(hist["metric"][:5])
    assert recall_at_1(f, x, y) > 0.9


def test_train_with_random_perturbations_runs_no_confusion_stage():
    """The control trains the metric on perturbed pairs but has no generator step; fails
    if train treats a parameter-free perturbation as a generator to optimise."""
    torch.manual_seed(0)
    x, y = torch.rand(32, 1, 28, 28), torch.arange(32) % 4
    hist = train(
        Embedding(hidden=16, dim=4),
        RandomPerturbation(0.1),
        x,
        y,
        steps=5,
        batch_size=8,
    )
    assert hist["g_loss"] == [] and len(hist["adv"]) == 5
