import torch

from autoencoder import Autoencoder, evaluate, pca_baseline, reconstruction_loss, train


def test_shapes():
    model = Autoencoder(code_dim=3)
    x = torch.rand(5, 1, 28, 28)
    assert model.encode(x).shape == (5, 3)
    out = model(x)
    assert out.shape == x.shape
    assert 0 <= out.min() and out.max() <= 1


def test_loss_is_mean_squared_error_per_pixel():
    x, y = torch.rand(4, 1, 28, 28), torch.rand(4, 1, 28, 28)
    by_hand = (
        sum(float((a - b) ** 2) for a, b in zip(x.flatten(), y.flatten())) / x.numel()
    )
    assert abs(reconstruction_loss(y, x).item() - by_hand) < 1e-6


def test_pca_error_is_the_discarded_variance():
    # On its own training data, PCA's squared error per pixel is the sum of the
    # discarded eigenvalues of the covariance (with 1/N) divided by the number of
    # pixels.
    torch.manual_seed(0)
    x = torch.rand(200, 1, 4, 4) * torch.linspace(0.1, 1, 16).view(1, 1, 4, 4)
    k = 5
    mse, rec = pca_baseline(x, x, k)
    a = x.flatten(1).double()
    cov = (a - a.mean(0)).T @ (a - a.mean(0)) / len(a)
    eig = torch.linalg.eigvalsh(cov).flip(0)
    assert abs(mse - eig[k:].sum().item() / 16) < 1e-6
    assert rec.shape == x.shape


def test_train_learns():
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28) * (torch.rand(1, 1, 28, 28) > 0.5)
    model = Autoencoder(code_dim=4)
    before = evaluate(model, x)
    hist = train(model, x, epochs=15, batch_size=32)
    assert hist[-1] < hist[0]
    assert evaluate(model, x) < 0.5 * before
