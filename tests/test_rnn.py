import torch
import torch.nn.functional as F

from rnn import CharRNN, encode, predict_proba, rnn_loss, train

VOCAB = {c: i + 2 for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")}


def test_encode_and_shapes():
    ids, lengths = encode(["ab", "xyz", "q?"], VOCAB)
    assert ids.shape == (3, 3) and lengths.tolist() == [2, 3, 2]
    assert ids[0].tolist() == [2, 3, 0]  # padded with 0
    assert ids[2, 1].item() == 1  # unknown character
    model = CharRNN(n_chars=28, n_classes=5, emb=8, hidden=16, layers=2)
    assert model(ids, lengths).shape == (3, 5)
    probs = predict_proba(model, ids, lengths)
    assert probs.shape == (3, 5) and torch.allclose(probs.sum(1), torch.ones(3))


def test_padding_and_batch_mates_do_not_change_a_prediction():
    """Packing at work: a name's logits are the same alone, padded to 30 characters, or
    batched with much longer names, for the GRU and for its ablation. Running the GRU
    over the padding (or pooling over it) breaks this."""
    torch.manual_seed(0)
    for recurrent in (True, False):
        model = CharRNN(28, 4, emb=8, hidden=16, layers=2, recurrent=recurrent).eval()
        alone_ids, alone_len = encode(["smith"], VOCAB)
        names = ["smith", "abcdefghijklmnopqrstuvwxyz", "ng"]
        batch_ids, batch_len = encode(names, VOCAB)
        padded = F.pad(alone_ids, (0, 25))
        with torch.no_grad():
            alone = model(alone_ids, alone_len)
            assert torch.allclose(model(padded, alone_len), alone, atol=1e-6)
            assert torch.allclose(model(batch_ids, batch_len)[0], alone[0], atol=1e-6)


def test_the_ablation_carries_no_state_and_the_gru_does():
    """With ``recurrent=False`` each character is read alone, so shuffling the inside
    of a name (first and last letters kept) cannot change its logits; the GRU's must
    change. Fails if a state leaks from step to step in the ablation, or if the
    ``recurrent`` flag is ignored."""
    torch.manual_seed(0)
    ids, lengths = encode(["schmidt", "sdhcimt"], VOCAB)
    for recurrent in (True, False):
        model = CharRNN(28, 4, emb=8, hidden=16, layers=1, recurrent=recurrent).eval()
        with torch.no_grad():
            a, b = model(ids, lengths)
        assert torch.allclose(a, b, atol=1e-6) != recurrent


def test_loss_is_cross_entropy():
    logits, y = torch.tensor([[1.0, 2.0, 0.5]]), torch.tensor([1])
    by_hand = -torch.log(torch.exp(torch.tensor(2.0)) / torch.exp(logits).sum())
    assert torch.allclose(rnn_loss(logits, y), by_hand)


def test_train_learns_an_order_dependent_task():
    """Does the name end in 'a'? Letter counts alone cannot tell; order can. The loss
    falls and the training names are classified (a constant scores about 1/2)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    names = [
        "".join("ab"[int(b)] for b in torch.randint(0, 2, (int(k),), generator=g))
        for k in torch.randint(2, 9, (192,), generator=g)
    ]
    y = torch.tensor([int(n[-1] == "a") for n in names])
    ids, lengths = encode(names, VOCAB)
    model = CharRNN(n_chars=28, n_classes=2, emb=8, hidden=16, layers=1, dropout=0.0)
    hist = train(
        model, ids, lengths, y, epochs=12, batch_size=32, lr=1e-2, label_smoothing=0.0
    )
    assert set(hist) == {"loss"} and len(hist["loss"]) == 12
    assert hist["loss"][-1] < 0.3 * hist["loss"][0]
    assert (predict_proba(model, ids, lengths).argmax(1) == y).float().mean() > 0.95
