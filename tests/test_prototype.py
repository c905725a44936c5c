import torch
import torch.nn.functional as F

from prototype import PrototypeNet, predict, prototype_images, prototype_loss, train


def test_shapes():
    model = PrototypeNet(n_prototypes=7)
    logits, d, z, x_rec = model(torch.rand(3, 1, 28, 28))
    assert logits.shape == (3, 10) and d.shape == (3, 7) and z.shape == (3, 40)
    assert x_rec.shape == (3, 1, 28, 28)
    imgs, cls = prototype_images(model)
    assert imgs.shape == (7, 1, 28, 28) and cls.shape == (7,)


def test_distances_and_loss_by_hand():
    torch.manual_seed(0)
    model = PrototypeNet(n_prototypes=4)
    x, y = torch.rand(5, 1, 28, 28), torch.randint(0, 10, (5,))
    with torch.no_grad():
        logits, d, z, x_rec = model(x)
        # squared distances, by a double loop
        d_hand = torch.tensor(
            [
                [float(((z[i] - model.prototypes[j]) ** 2).sum()) for j in range(4)]
                for i in range(5)
            ]
        )
    assert torch.allclose(d, d_hand, atol=1e-4)
    r1 = sum(min(d_hand[i, j] for i in range(5)) for j in range(4)) / 4
    r2 = sum(min(d_hand[i, j] for j in range(4)) for i in range(5)) / 5
    rec = sum(float(((x_rec[i] - x[i]) ** 2).sum()) for i in range(5)) / 5
    ce = F.cross_entropy(logits, y)
    expected = ce + 0.1 * rec + 0.2 * r1 + 0.3 * r2
    total, _ = prototype_loss(logits, d, x_rec, x, y, lam=0.1, lam1=0.2, lam2=0.3)
    assert torch.allclose(total, expected, atol=1e-4)


def bars(n=48):
    """Three classes of bars (horizontal, vertical, diagonal) at random positions."""
    x, y = torch.zeros(n, 1, 28, 28), torch.arange(n) % 3
    for i, p in enumerate(torch.randint(6, 22, (n,)).tolist()):
        if y[i] == 0:
            x[i, 0, p, 4:24] = 1
        elif y[i] == 1:
            x[i, 0, 4:24, p] = 1
        else:
            x[i, 0, torch.arange(4, 24), torch.arange(4, 24)] = 1
    return x, y


def test_linear_baseline_is_the_same_encoder_with_a_linear_head():
    """Fails if the baseline's head is not a plain linear map of the 40-d code, or if
    its loss keeps prototype terms it has no prototypes for."""
    torch.manual_seed(0)
    base = PrototypeNet(n_prototypes=0)
    x, y = torch.rand(4, 1, 28, 28), torch.randint(0, 10, (4,))
    logits, d, z, x_rec = base(x)
    assert d.shape == (4, 0) and z.shape == (4, 40)
    assert torch.allclose(logits, z @ base.classifier.weight.T + base.classifier.bias)
    total, parts = prototype_loss(logits, d, x_rec, x, y, lam=0.0)
    assert parts["r1"] == parts["r2"] == 0
    assert torch.allclose(total, F.cross_entropy(logits, y))


def test_train_learns():
    """A constant prediction gets a third of the bars right; fails if training does
    not learn, for the prototype network and for its linear baseline alike."""
    torch.manual_seed(0)
    x, y = bars()
    for m in (6, 0):
        torch.manual_seed(0)
        model = PrototypeNet(n_prototypes=m, n_classes=3)
        hist = train(model, x, y, epochs=25, batch_size=8, lr=1e-2, seed=0)
        assert len(hist["total"]) == 25 and hist["ce"][-1] < 0.2 * hist["ce"][0]
        assert (predict(model, x)[0] == y).float().mean() > 0.9
