"""The record contract (gallery/_lib/_record.py): what a valid record is, the errors
that name the file and the field, and the verdict over seeds."""

import json

import pytest

import _record
from _record import Metric, Record, RecordError


def good(**over):
    data = Record(
        name="vae",
        metrics=[
            Metric("nll", 95.0, target=100, higher_is_better=False, headline=True),
            Metric("kl", 20.0),
        ],
        device="cpu",
        date="2026-12-01T00:00:00+00:00",
    ).to_json()
    data.update(over)
    return data


def test_a_record_survives_writing_and_reading(tmp_path):
    rec = Record.from_json(good())
    rec.series["curve"] = _record.Series([0, 1], [2.0, 3.0], "step", "loss")
    path = _record.write(rec, tmp_path)
    back = _record.read(path)
    assert back.to_json() == rec.to_json()
    assert back.headline.name == "nll" and back.metrics[0].passed is True


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda d: d.pop("metrics"), "'metrics' is missing"),
        (lambda d: d.update(seconds="fast"), "'seconds'"),
        (lambda d: d.update(threads=True), "'threads'"),
        (lambda d: d.update(device="tpu"), "'device'"),
        (lambda d: d.update(schema=1), "'schema'"),
        (lambda d: d.update(extra=1), "unknown field(s) extra"),
        (lambda d: d["metrics"][0].update(value="high"), "metrics[0]"),
        (lambda d: d["metrics"][0].update(headline=False), "exactly one metric"),
        (lambda d: d["metrics"][1].update(headline=True), "exactly one metric"),
        (lambda d: d["metrics"][0].update(passed=False), "metrics[0].passed"),
        (lambda d: d["metrics"][1].update(ablation=1.0), "metrics[1].ablation_name"),
        (
            lambda d: d["metrics"][1].update(baseline_name="x"),
            "metrics[1].baseline_name",
        ),
        (lambda d: d.update(series={"c": {"x": [1], "y": [1, 2]}}), "series.c"),
    ],
)
def test_a_broken_record_names_the_field(tmp_path, change, field):
    """Fails if the reader accepts a record that breaks the schema, or hides which field
    broke."""
    data = good()
    change(data)
    path = tmp_path / "vae.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError) as e:
        _record.read(path)
    assert str(path) in str(e.value) and field in str(e.value)


def test_unreadable_and_misnamed_records_name_the_file(tmp_path):
    bad = tmp_path / "vae.json"
    bad.write_text("{not json")
    with pytest.raises(RecordError, match="vae.json: cannot read"):
        _record.read(bad)
    other = tmp_path / "cnn.json"
    other.write_text(json.dumps(good()))
    with pytest.raises(RecordError, match="'name' is 'vae'"):
        _record.read(other)


def test_seed_verdict_needs_the_mean_and_two_of_three():
    """DESIGN.md, Evidence 5. Fails if one lucky seed or a passing mean alone counts as
    met."""

    def verdict(values, target=0.9):
        m = Metric("acc", values[0], target=target, headline=True)
        m.seeds = _record.summarise(values, target)
        return _record.verdict(m)

    assert verdict([0.91, 0.92, 0.88]) == "pass"  # mean 0.903, two of three
    assert verdict([0.91, 0.92, 0.85]) == "MISS"  # two of three, but the mean is 0.893
    assert verdict([0.95, 0.80, 0.85]) == "MISS"  # mean 0.867 fails, one seed passes
    assert verdict([0.99, 0.99, 0.80]) == "pass"  # mean 0.927, two of three
    assert verdict([1.00, 0.89, 0.89]) == "MISS"  # mean 0.927 passes, one seed of three


def test_summary_is_mean_and_sample_sd():
    s = _record.summarise([1.0, 2.0, 3.0], target=2.0)
    assert s.n == 3 and s.mean == 2.0 and s.sd == pytest.approx(1.0) and s.passed == 2
    assert _record.summarise([5.0]).sd == 0.0


def test_switches_reject_bad_values(monkeypatch):
    monkeypatch.setenv("CHEATSHEET_SEEDS", "three")
    with pytest.raises(RecordError, match="CHEATSHEET_SEEDS='three'"):
        _record.n_seeds()
    monkeypatch.setenv("CHEATSHEET_SEEDS", "0")
    with pytest.raises(RecordError, match="at least 1"):
        _record.n_seeds()
    monkeypatch.setenv("CHEATSHEET_SEEDS", "3")
    assert _record.n_seeds() == 3
    monkeypatch.setenv("CHEATSHEET_RECORDS", "/tmp/r")
    assert str(_record.records_dir(2)) == "/tmp/r/seed2"


def test_seeds_with_their_own_targets_are_held_to_them():
    """A target that each run sets from its own baseline: each seed must meet its own
    run's target, and the mean the mean of the targets. Fails if seed 0's target judges
    every seed (BigGAN's seeds 0-2 passed that way, while their mean missed the mean of
    their own targets)."""
    from types import SimpleNamespace

    from cheatsheet import results

    def run(value, target):
        m = Metric("fd", value, target=target, higher_is_better=False, headline=True)
        return SimpleNamespace(metrics=[m])

    runs = [run(338.6, 603.4), run(1084.8, 534.6), run(321.5, 339.3)]
    results._join_seeds(runs[0], runs)
    m = runs[0].metrics[0]
    assert m.target == pytest.approx((603.4 + 534.6 + 339.3) / 3)
    assert m.seeds.passed == 2 and _record.verdict(m) == "MISS"
    assert results.target_text(m).endswith(results.SEEDS_TARGET_MARK)
