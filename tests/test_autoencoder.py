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


def test_linear_autoencoder_trained_long_reaches_pca_and_no_further():
    """Baldi and Hornik (1989): an autoencoder with linear layers and a k-number code
    trained on the squared error converges to PCA's error with k components (on its
    training data, never below it: PCA is the best rank-k affine map). Fails if the
    bottleneck leaks (the code wider than ``code_dim``, or a path around it), if the
    layers have no biases (the mean then costs error), or if ``linear=True`` still
    squashes the output with a sigmoid (the data here lie outside [0, 1])."""
    torch.manual_seed(0)
    scales = torch.linspace(2.0, 0.1, 16)  # 16-D data, variance falling off
    x = 3.0 + torch.randn(300, 16) * scales @ torch.linalg.qr(torch.randn(16, 16))[0]
    x = x.view(300, 1, 4, 4)
    k = 3
    pca_mse, _ = pca_baseline(x, x, k)
    model = Autoencoder(code_dim=k, n_in=16, hidden=(12, 8), linear=True)
    train(model, x, epochs=1500, batch_size=300, lr=1e-2, seed=0)
    ae_mse = evaluate(model, x)
    assert pca_mse * (1 - 1e-4) <= ae_mse <= pca_mse * 1.01, (ae_mse, pca_mse)


def test_train_learns():
    """The loss falls and the reconstructions of images made from 4 hidden numbers
    beat the mean image by far (a constant output, the best code-free answer)."""
    torch.manual_seed(0)
    x = torch.sigmoid(2 * torch.randn(64, 4) @ torch.randn(4, 784)).view(64, 1, 28, 28)
    model = Autoencoder(code_dim=4)
    hist = train(model, x, epochs=40, batch_size=16, seed=0)
    assert set(hist) == {"loss"} and len(hist["loss"]) == 40
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    mean_mse = ((x - x.mean(0)) ** 2).mean().item()
    assert evaluate(model, x) < 0.5 * mean_mse
