import torch

from memorygan import Memory, MemoryGAN, NoMemory, grid_of_gaussians, train


def test_shapes():
    model = MemoryGAN(hidden=16, n_slots=32, key_dim=8)
    x, keys = model.generate(5)
    assert x.shape == (5, 2) and keys.shape == (5, 8)
    q = model.query(x)
    assert torch.allclose(q.norm(dim=1), torch.ones(5))
    log_d, log_1md = model.memory.log_d(q)
    assert log_d.shape == (5,)


def test_memory_update_keeps_keys_unit_norm():
    torch.manual_seed(0)
    mem = Memory(n_slots=16, dim=4)
    for _ in range(20):
        q = torch.nn.functional.normalize(torch.randn(12, 4), dim=1)
        mem.update(q, (torch.rand(12) > 0.5).float())
        assert torch.allclose(mem.keys.norm(dim=1), torch.ones(16), atol=1e-5)
    assert (mem.counts > 0).all()


def test_log_d_is_the_posterior_weighted_value():
    torch.manual_seed(0)
    mem = Memory(n_slots=16, dim=4)
    mem.counts.uniform_(0.5, 3)
    q = torch.nn.functional.normalize(torch.randn(7, 4), dim=1)
    log_d, log_1md = mem.log_d(q)
    d = mem.posterior(q) @ mem.values  # D(x) = sum_i p(c=i|x) v_i
    assert torch.allclose(log_d.exp(), d, atol=1e-6)
    assert torch.allclose(log_1md.exp(), 1 - d, atol=1e-6)


def test_each_label_gets_prior_one_half():
    torch.manual_seed(0)
    mem = Memory(n_slots=16, dim=4, kappa=0.0)  # kappa 0: the posterior is the prior
    mem.counts.uniform_(0.1, 5)
    q = torch.nn.functional.normalize(torch.randn(3, 4), dim=1)
    assert torch.allclose(mem.log_d(q)[0].exp(), torch.full((3,), 0.5), atol=1e-6)


def test_em_update_is_the_count_weighted_mean():
    mem = Memory(n_slots=2, dim=2, alpha=0.5, top_k=1, decay=1.0)
    mem.keys.copy_(torch.tensor([[1.0, 0], [-1, 0]]))
    mem.values.copy_(torch.tensor([1.0, 0]))
    mem.counts.copy_(torch.tensor([2.0, 1]))
    q = torch.nn.functional.normalize(torch.tensor([[1.0, 1]]), dim=1)
    mem.update(q, torch.tensor([1.0]))  # posterior 1 on the only real slot
    expected = torch.nn.functional.normalize(
        0.5 * 2 * torch.tensor([1.0, 0]) + q[0], dim=0
    )
    assert torch.allclose(mem.keys[0], expected, atol=1e-6) and torch.isclose(
        mem.counts[0], torch.tensor(2.0)
    )


def test_hit_moves_key_towards_query_and_miss_overwrites_oldest():
    mem = Memory(n_slots=4, dim=2)
    mem.keys.copy_(torch.tensor([[1.0, 0], [0, 1], [-1, 0], [0, -1]]))
    mem.values.copy_(torch.tensor([1.0, 1, 0, 0]))
    mem.ages.copy_(torch.tensor([0.0, 0, 5, 1]))
    q = torch.nn.functional.normalize(torch.tensor([[1.0, 0.2]]), dim=1)
    mem.update(q, torch.tensor([1.0]))  # nearest slot 0 is real: a hit
    assert mem.keys[0, 1] > 0 and mem.ages[0] == 0
    mem.update(
        torch.tensor([[0.0, 1.0]]), torch.tensor([0.0])
    )  # nearest slot 1 is real: a miss
    assert torch.allclose(mem.keys[2], torch.tensor([0.0, 1.0])) and mem.values[2] == 0


def test_train_learns():
    """Four modes at the corners of a square. After training, samples must sit near the
    modes and reach at least three of them; fails for a generator that does not learn
    (samples near the origin) or collapses onto one mode, and for a D whose loss only
    falls because it wins."""
    torch.manual_seed(0)
    x, centres = grid_of_gaussians(2048, k=2, spacing=4.0, std=0.1)
    model = MemoryGAN(hidden=64, n_slots=128)
    hist = train(model, x, steps=300, batch_size=64)
    assert set(hist) == {"d_loss", "g_loss"} and len(hist["d_loss"]) == 300
    with torch.no_grad():
        s, _ = model.generate(512)
    near = torch.cdist(s, centres).min(1)
    close = near.values < 0.5
    assert close.float().mean() > 0.5
    assert len(near.indices[close].unique()) >= 3


def test_without_memory_d_is_a_logistic_read_and_keys_are_random():
    """The ablation's stand-in: fails if it still reads a memory (log D must be the
    log-sigmoid of a linear score) or draws the same key for every sample."""
    torch.manual_seed(0)
    mem = NoMemory(dim=4)
    q = torch.nn.functional.normalize(torch.randn(5, 4), dim=1)
    log_d, log_1md = mem.log_d(q)
    s = mem.head(q).squeeze(1)
    assert torch.allclose(log_d, torch.nn.functional.logsigmoid(s))
    assert torch.allclose(log_d.exp() + log_1md.exp(), torch.ones(5))
    keys = mem.sample_keys(6)
    assert torch.allclose(keys.norm(dim=1), torch.ones(6)) and keys.std(0).min() > 0.1
    assert len(list(MemoryGAN(hidden=8, memory=False).memory.parameters())) == 2


def test_sampling_keys_from_a_memory_without_real_slots_says_so():
    import pytest

    mem = Memory(n_slots=4, dim=2)
    mem.values.zero_()
    with pytest.raises(RuntimeError, match="no real slot"):
        mem.sample_keys(3)
