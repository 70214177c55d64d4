import base64
import html

import pytest

from ennead.core.errors import DataError
from ennead.core.eval import Node, Report, aggregate, render_html, render_markdown
from ennead.core.eval.report import markdown_table

EVIL = "<script>alert('x')"  # names cannot hold '/', so no closing tag


@pytest.fixture()
def result():
    tree = Node.from_dict(
        {
            "name": "toolkit",
            "children": {
                "ddr": {"children": {"qa": {"children": {"exact_match": {"baseline": 0.2}}}}},
                EVIL: {"children": {"task & more": {"children": ["f1|score"]}}},
                "empty": {"children": ["never_scored"]},
            },
        }
    )
    scores = {"exact_match": 0.3, "f1|score": 0.5, "never_scored": None}
    return aggregate(tree, scores, missing="skip")


def test_html_escapes_names_and_contains_every_node(result):
    page = render_html(result, title="Tour <b>report</b>")
    assert "<script>" not in page and EVIL not in page
    assert html.escape(EVIL) in page
    assert "<title>Tour &lt;b&gt;report&lt;/b&gt;</title>" in page
    for node in result.walk():
        assert "<td style=" in page
        assert f">{html.escape(node.name)}</td>" in page
        assert f'title="{html.escape(node.path)}"' in page
    assert "150.00" in page and "0.30" in page  # normalised score and its raw value
    assert "incomplete: no score for toolkit/empty/never_scored" in page
    assert page.startswith("<!DOCTYPE html>") and "http" not in page.replace(
        'name="viewport"', ""
    )  # no external assets


def test_markdown_has_one_row_per_node_and_escapes_pipes(result):
    md = render_markdown(result, title="Tour")
    assert md.startswith("# Tour\n")
    for node in result.walk():
        assert md_path(node.path) in md
    assert "f1\\|score" in md and "&lt;script&gt;" in md
    assert "| toolkit/ddr/qa/exact_match | 150.00 | 0.30 | 0.20 | 1.00 |  |" in md
    assert "> incomplete: no score for toolkit/empty/never_scored" in md


def md_path(path):
    return html.escape(path, quote=False).replace("|", "\\|")


def test_plain_tables():
    rows = [{"model": "a", "em": 0.5, "ok": True}, {"model": "b|c", "em": None, "extra": 3}]
    assert markdown_table(rows) == (
        "| model | em | ok | extra |\n|---|---|---|---|\n"
        "| a | 0.50 | yes |  |\n| b\\|c |  |  | 3 |\n"
    )
    page = render_html(rows, columns=["model", "em"])
    assert '<td class="num">0.50</td>' in page and "<th>extra</th>" not in page


def test_report_blocks_and_write(tmp_path, result):
    png = tmp_path / "plot.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    report = (
        Report("Tour", subtitle="3 systems")
        .heading("Scores")
        .paragraph("First.\n\nSecond & last.")
        .aggregation(result, caption="cross-system")
        .table([{"k": 1}], caption="a table")
        .image(png, caption="a plot", link="plot.png")
        .code("ennead tour --only ddr")
    )
    md_path_, html_path = report.write(tmp_path / "out")
    md, page = md_path_.read_text(), html_path.read_text()
    assert "## Scores" in md and "![a plot](plot.png)" in md and "```\nennead tour" in md
    assert "<p>Second &amp; last.</p>" in page and "<h2>Scores</h2>" in page
    assert "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode() in page
    assert "<caption>cross-system</caption>" in page
    with pytest.raises(DataError, match="image not found"):
        report.image(tmp_path / "missing.png")
    with pytest.raises(DataError, match="unsupported image type"):
        report.image(tmp_path / "plot.bmp")
