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


def test_sections_mapping_tables_intervals_and_notes():
    from ennead.core.eval.report import format_interval, table_rows
    from ennead.core.eval.stats import Interval

    report = (
        Report("DDR", digits=1)
        .section("Results & gains", "Accuracy in %.")
        .table({"vanilla": {"acc": 34.4}, "ddr": {"acc": 92.2}}, index="method")
        .table([{"gain": Interval(57.8, 50.1, 65.0)}, {"gain": Interval(1.0, float("nan"), 2.0)}])
        .key_values({"seeds": [0, 1], "model": "tiny", "nested": {"a": 1}})
        .bullets(["one <b>", "two"])
        .note("did not reproduce on seed 3")
    )
    md, page = report.to_markdown(), report.to_html()
    assert '<a id="results-gains"></a>\n' in md and "## Results & gains" in md
    assert '<h2 id="results-gains">Results &amp; gains</h2>' in page
    assert "| method | acc |" in md and "| ddr | 92.2 |" in md
    assert "| +57.8 [50.1, 65.0] |" in md and "| +1.0 [n/a] |" in md
    assert '| nested | {"a": 1} |' in md and "| seeds | [0, 1] |" in md
    assert "- one &lt;b&gt;" not in md and "- one <b>\n- two\n" in md
    assert "<li>one &lt;b&gt;</li>" in page and '<p class="note">did not reproduce' in page
    assert "> did not reproduce on seed 3" in md
    assert format_interval(0.052, 0.021, 0.083, digits=1, scale=100) == "+5.2 [2.1, 8.3]"
    assert format_interval(-2, -3, -1, digits=0, sign=False) == "-2 [-3, -1]"
    with pytest.raises(DataError, match="row 'x'"):
        table_rows({"x": 1})


def test_claims_table_from_claim_objects():
    from ennead.core.claims import Claim

    good = Claim(
        system="ddr",
        paper="Li 2025",
        claim="DDR beats vanilla",
        measured="accuracy",
        comparison="DDR - vanilla",
        values=[4.0, 6.0, 5.0],
        seeds=[0, 1, 2],
        claimed=3.0,
    )
    md = Report("Claims").claims([good]).to_markdown()
    header = md.splitlines()[4]
    assert header.startswith("| system | paper | claim |") and "verdict" in header
    assert "| reproduced |" in md and "+5.00 [2.52, 7.48]" in md and "error" not in header
    broken = Claim.not_run("timed out", system="sqe")
    md = Report("Claims").claims([good, broken]).to_markdown()
    assert md.splitlines()[4].endswith("| error |") and "| not run |" in md and "timed out" in md


def test_figures_are_embedded_and_written(tmp_path):
    pytest.importorskip("matplotlib")
    from ennead.core.eval.stats import Interval

    report = (
        Report("Plots")
        .line_plot("loss", {"dpo": ([1, 2, 3], [0.69, 0.5, 0.3])}, "step", "loss", "DPO loss")
        .interval_plot(
            "gains", {"seed pool": Interval(0.1, 0.02, 0.2), "tuple": (0.05, -0.01, 0.1)}, "gain"
        )
    )
    md_path, html_path = report.write(tmp_path)
    md, page = md_path.read_text(), html_path.read_text()
    assert "![DPO loss](figures/loss.png)" in md and "![gains](figures/gains.png)" in md
    for name in ("loss", "gains"):
        data = (tmp_path / "figures" / f"{name}.png").read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 1000
        assert base64.b64encode(data).decode() in page
    with pytest.raises(DataError, match="figure name"):
        report.line_plot("Bad Name", {"a": ([0], [0])})
