"""Graph convolutional network: every layer replaces each node's features by a
degree-normalised average of its own and its neighbours' features, then applies a
weight matrix shared by all nodes, H' = relu(Â H W) with Â = D^-1/2 (A + I) D^-1/2
(Kipf and Welling, "Semi-Supervised Classification with Graph Convolutional Networks",
ICLR 2017). Two layers let a node see its neighbours' neighbours, so a few labelled
nodes teach the whole graph: the loss is the cross-entropy on the labelled nodes only,
while the features of every node, labelled or not, flow through Â. Here the graph is
small enough for a dense Â; the paper uses a sparse one.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def normalize_adjacency(adj):
    """Â = D^-1/2 (A + I) D^-1/2 for a dense symmetric 0/1 adjacency (n, n), where D is
    the degree matrix of A + I (the "renormalisation trick")."""
    a = adj + torch.eye(len(adj), dtype=adj.dtype, device=adj.device)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


class GCN(nn.Module):
    """Two graph convolutions, (n, n_in) -> (n, hidden) -> (n, n_classes) logits, with
    dropout on the inputs of both. ``adj_norm`` is Â (use the identity matrix for the
    same network without the graph: an MLP on each node's features alone)."""

    def __init__(self, n_in, n_classes, hidden=16, dropout=0.5):
        super().__init__()
        self.lin1 = nn.Linear(n_in, hidden)
        self.lin2 = nn.Linear(hidden, n_classes)
        self.dropout = dropout

    def forward(self, x, adj_norm):
        h = F.dropout(x, self.dropout, self.training)
        h = F.relu(adj_norm @ self.lin1(h))
        h = F.dropout(h, self.dropout, self.training)
        return adj_norm @ self.lin2(h)


def gcn_loss(logits, y, mask):
    """Cross-entropy over the labelled nodes (``mask`` True) only."""
    return F.cross_entropy(logits[mask], y[mask])


def train(
    model,
    x,
    adj_norm,
    y,
    train_mask,
    *,
    epochs=200,
    lr=0.01,
    weight_decay=5e-4,
    device="cpu",
    seed=None,
    log=None,
):
    """Full-batch Adam on the labelled nodes' cross-entropy, as in the paper (200
    epochs, learning rate 0.01, weight decay 5e-4). Returns ``{"loss": [...]}``, one per
    epoch."""
    if seed is not None:
        torch.manual_seed(seed)
    model.to(device).train()
    x, adj_norm, y = x.to(device), adj_norm.to(device), y.to(device)
    train_mask = train_mask.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    hist = {"loss": []}
    for epoch in range(epochs):
        loss = gcn_loss(model(x, adj_norm), y, train_mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist["loss"].append(loss.item())
        if log and (epoch + 1) % 50 == 0:
            log(f"epoch {epoch + 1}: loss {loss.item():.4f}")
    return hist


@torch.no_grad()
def predict(model, x, adj_norm, device="cpu"):
    """Predicted class of every node."""
    model.to(device).eval()
    return model(x.to(device), adj_norm.to(device)).argmax(1).cpu()


if __name__ == "__main__":
    torch.manual_seed(0)
    n = 60  # two communities of 30 nodes: dense inside, sparse between
    y = (torch.arange(n) >= 30).long()
    p = torch.where(y[:, None] == y[None, :], 0.3, 0.02)
    adj = torch.triu((torch.rand(n, n) < p).float(), 1)
    adj = adj + adj.T
    x = torch.randn(n, 8) + 0.3 * y[:, None]  # weakly informative features
    mask = torch.zeros(n, dtype=torch.bool)
    mask[[0, 1, 30, 31]] = True  # two labelled nodes per class
    model = GCN(8, 2)
    hist = train(model, x, normalize_adjacency(adj), y, mask, epochs=100)
    acc = (predict(model, x, normalize_adjacency(adj)) == y)[~mask].float().mean()
    print(f"loss {hist['loss'][0]:.3f} -> {hist['loss'][-1]:.3f}; unlabelled {acc:.2f}")
