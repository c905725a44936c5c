import torch

from gcn import GCN, gcn_loss, normalize_adjacency, predict, train


def path_graph(n):
    adj = torch.zeros(n, n)
    i = torch.arange(n - 1)
    adj[i, i + 1] = adj[i + 1, i] = 1.0
    return adj


def test_shapes():
    model = GCN(5, 3, hidden=8)
    x, a = torch.rand(7, 5), normalize_adjacency(path_graph(7))
    assert model(x, a).shape == (7, 3)
    assert predict(model, x, a).shape == (7,)


def test_normalized_adjacency_by_hand():
    """On the path 0 - 1 - 2 with self-loops the degrees are 2, 3, 2, so Â[0, 0] = 1/2,
    Â[0, 1] = 1/sqrt(6) and Â[1, 1] = 1/3. Fails without the self-loops (Â[0, 0] = 0)
    or with the row normalisation D^-1 (A + I) (not symmetric, Â[0, 1] = 1/2)."""
    a = normalize_adjacency(path_graph(3))
    s6 = 6**-0.5
    by_hand = torch.tensor([[1 / 2, s6, 0.0], [s6, 1 / 3, s6], [0.0, s6, 1 / 2]])
    assert torch.allclose(a, by_hand)


def test_relabelling_the_nodes_relabels_the_output():
    """A graph convolution treats nodes alike: permuting the nodes (rows of x, rows and
    columns of A) permutes the logits the same way. Fails if the normalisation depends
    on the node order, for instance if it keeps only the upper triangle of A as if the
    adjacency were a directed edge list."""
    torch.manual_seed(0)
    n = 6
    model = GCN(n, 3, hidden=4).eval()
    adj = torch.triu((torch.rand(n, n) < 0.5).float(), 1)
    adj = adj + adj.T
    x, perm = torch.randn(n, n), torch.randperm(n)
    with torch.no_grad():
        out = model(x, normalize_adjacency(adj))
        out_p = model(x[perm], normalize_adjacency(adj[perm][:, perm]))
    assert torch.allclose(out_p, out[perm], atol=1e-6)


def test_two_layers_reach_two_hops_and_no_further():
    """Changing node 0's features changes the logits of nodes 0, 1 and 2 on a path and
    leaves node 3 unchanged: each layer mixes one hop. Fails if the adjacency is
    applied once (node 2 unchanged) or three times, or ignored."""
    torch.manual_seed(0)
    model = GCN(4, 2, hidden=8, dropout=0.0).eval()
    a = normalize_adjacency(path_graph(6))
    x = torch.randn(6, 4)
    x2 = x.clone()
    x2[0] += 3.0
    with torch.no_grad():
        diff = (model(x2, a) - model(x, a)).abs().sum(1)
    assert (diff[:3] > 1e-4).all() and (diff[3:] == 0).all()


def test_loss_uses_labelled_nodes_only():
    logits = torch.randn(5, 3)
    y = torch.tensor([0, 1, 2, 0, 1])
    mask = torch.tensor([True, False, True, False, False])
    changed = y.clone()
    changed[~mask] = 2  # labels of unlabelled nodes must not matter
    assert torch.allclose(gcn_loss(logits, y, mask), gcn_loss(logits, changed, mask))
    by_hand = (
        -(torch.log_softmax(logits[0], 0)[0] + torch.log_softmax(logits[2], 0)[2]) / 2
    )
    assert torch.allclose(gcn_loss(logits, y, mask), by_hand)


def test_train_learns_from_the_graph():
    """Two cliques joined by one edge, uninformative (random) features, one labelled
    node per clique: only the graph can tell the other nodes' classes, and the GCN
    must label them all. A constant prediction gets half."""
    n = 10
    adj = torch.zeros(2 * n, 2 * n)
    adj[:n, :n] = adj[n:, n:] = 1.0
    adj.fill_diagonal_(0.0)
    adj[0, n] = adj[n, 0] = 1.0
    y = (torch.arange(2 * n) >= n).long()
    mask = torch.zeros(2 * n, dtype=torch.bool)
    mask[[1, n + 1]] = True
    torch.manual_seed(0)
    x, a = torch.randn(2 * n, 4), normalize_adjacency(adj)
    model = GCN(4, 2, hidden=16)
    hist = train(model, x, a, y, mask, epochs=100, seed=0)
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    assert (predict(model, x, a) == y).all()
