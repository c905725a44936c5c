import torch
import torch.nn.functional as F

from prototype import PrototypeNet, prototype_images, prototype_loss, train


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


def test_train_learns():
    torch.manual_seed(0)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 3, (64,))
    hist = train(
        PrototypeNet(n_prototypes=5), x, y, epochs=6, batch_size=32, augment=False
    )
    assert hist["total"][-1] < hist["total"][0]
