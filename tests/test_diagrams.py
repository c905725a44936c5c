"""The grammar of ``arch-diagram`` (docs/_ext/cheatsheet/diagrams.py) and its
renderer."""

import pytest

from cheatsheet.diagrams import draw_diagram, parse_diagram


def test_boxes_take_kinds_positions_and_the_next_column_by_default():
    nodes, edges = parse_diagram(
        ["x: image [data] @0,1", "enc: encoder", "z: code [latent] @3,0"]
    )
    assert nodes["x"] == dict(label="image", kind="data", col=0.0, row=1.0)
    assert nodes["enc"]["kind"] == "layer" and (
        nodes["enc"]["col"],
        nodes["enc"]["row"],
    ) == (1, 1)
    assert (nodes["z"]["col"], nodes["z"]["row"]) == (3, 0)


def test_without_arrows_the_boxes_are_chained_in_order():
    _, edges = parse_diagram(["a: A", "b: B", "c: C"])
    assert edges == [("a", "b", False, ""), ("b", "c", False, "")]


def test_arrows_dashes_labels_comments_and_line_breaks():
    nodes, edges = parse_diagram(
        [
            "# a comment",
            "",
            "a: first\\nsecond",
            "b: B",
            "a -> b: mu, log var",
            "b --> a",
        ]
    )
    assert nodes["a"]["label"] == "first\nsecond"
    assert edges == [("a", "b", False, "mu, log var"), ("b", "a", True, "")]


@pytest.mark.parametrize(
    "lines, message",
    [
        (["a: A [blob]"], "line 1: unknown kind 'blob'"),
        (["a: A", "a: again"], "line 2: node 'a' defined twice"),
        (["a: A", "a -> b"], "no node 'b'"),
        (["a: A", "???"], "line 2: cannot read '???'"),
        (["# only a comment"], "at least one node"),
    ],
)
def test_errors_say_which_line_and_why(lines, message):
    with pytest.raises(
        ValueError, match=message.replace("(", r"\(").replace("?", r"\?")
    ):
        parse_diagram(lines)


def test_renders_an_svg(tmp_path):
    nodes, edges = parse_diagram(
        ["x: image x [data] @0,0", "y: output [loss] @3,0", "x -> y: far"]
    )
    out = tmp_path / "d.svg"
    draw_diagram(nodes, edges, out)
    svg = out.read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
