"""Multilayer perceptron: stacked fully connected layers with a nonlinearity between
them, trained by backpropagation (Rumelhart, Hinton and Williams, "Learning
representations by back-propagating errors", Nature 1986). Each hidden layer computes
``h = relu(W x + b)``; the last layer gives one score (logit) per class and the loss is
the cross-entropy of the softmax of those scores. Without the nonlinearity the stack
collapses to one linear map (logistic regression); with it, even a single hidden layer
can approximate any continuous function of the input given enough units.
"""

import torch
import torch.nn as nn


class MLP(nn.Module):
    """Flatten the input, then ``len(hidden)`` blocks of Linear -> activation ->
    Dropout, then a Linear layer to ``n_classes`` logits (no softmax: the loss applies
    it). ``activation=nn.Identity`` removes the nonlinearity: the stack is then one
    linear map, logistic regression in disguise (the ablation of the idea)."""

    def __init__(
        self, n_in=64, hidden=(256, 256), n_classes=10, dropout=0.2, activation=nn.ReLU
    ):
        super().__init__()
        layers, d = [nn.Flatten()], n_in
        for h in hidden:
            layers += [nn.Linear(d, h), activation(), nn.Dropout(dropout)]
            d = h
        layers.append(nn.Linear(d, n_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def mlp_loss(logits, y):
    """Cross-entropy: minus the log softmax probability of the true class, averaged over
    the batch. Written out; ``F.cross_entropy(logits, y)`` computes the same number."""
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_p.gather(1, y[:, None]).mean()


def train(
    model,
    x_train,
    y_train,
    *,
    epochs=30,
    batch_size=32,
    lr=3e-3,
    weight_decay=1e-4,
    device="cpu",
    seed=None,
    log=None,
):
    """AdamW on the cross-entropy with a cosine learning-rate schedule. ``seed`` (if
    given) fixes the batches and dropout; ``log`` (if given) is called with a line per
    epoch. Returns ``{"loss": [mean training loss of each epoch]}``."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device).train()
    x_train, y_train = x_train.to(device), y_train.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * ((len(x_train) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    hist = {"loss": []}
    for epoch in range(epochs):
        perm, total = torch.randperm(len(x_train)), 0.0
        for i in range(0, len(x_train), batch_size):
            idx = perm[i : i + batch_size]
            loss = mlp_loss(model(x_train[idx]), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        hist["loss"].append(total / len(x_train))
        if log:
            log(f"epoch {epoch + 1}: loss {hist['loss'][-1]:.4f}")
    return hist


@torch.no_grad()
def predict(model, x, device="cpu"):
    """Predicted class of each row of ``x``."""
    model.to(device).eval()
    return model(x.to(device)).argmax(1).cpu()


if __name__ == "__main__":
    torch.manual_seed(0)
    x = torch.randn(256, 64)
    y = x[:, :10].argmax(1)  # a learnable synthetic labelling
    model = MLP()
    loss = train(model, x, y, epochs=10)["loss"]
    acc = (predict(model, x) == y).float().mean()
    print(f"loss {loss[0]:.3f} -> {loss[-1]:.3f}; train accuracy {acc:.2f}")
