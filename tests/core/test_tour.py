import json
import os
from pathlib import Path

import pytest

from ennead.core.claims import Claim, ClaimsSection, Table
from ennead.core.errors import UnknownNameError
from ennead.core.runs import RunDir
from ennead.core.systems import SystemSpec, systems
from ennead.core.tour import run_tour
from ennead.core.tour_report import parse_markdown_table

CALLS: list[str] = []
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def good_claims(run: RunDir, quick: bool) -> ClaimsSection:
    CALLS.append(f"good quick={quick}")
    run.artifact("curve.png").write_bytes(PNG)  # a 1x1 PNG, so the report embeds a real image
    claim = Claim(
        system="zgood",
        paper="Doe 2024",
        claim="A <beats> B",
        measured="accuracy on the toy task",
        comparison="A - B",
        unit="points",
        values=[4.0, 6.0, 5.0],
        seeds=[0, 1, 2],
        claimed=3.0,
    )
    return ClaimsSection(
        title="Good <system>",
        summary="It works.",
        claims=[claim],
        tables=[
            Table(rows=[{"seed": 0, "A": 50.0, "B": 46.0}], caption="per seed"),
            "| a | b |\n|---|---|\n| 1 | 2 |\n",
        ],
        images=["artifacts/curve.png"],
    )


def bad_claims(run: RunDir, quick: bool) -> ClaimsSection:
    CALLS.append("bad")
    raise RuntimeError("demo exploded")


def old_demo(run: RunDir) -> dict:
    CALLS.append("old")
    return {
        "title": "Old demo",
        "summary": "Smoke run.",
        "tasks": {"qa": {"acc": 0.6}},
        "baselines": {"qa": {"acc": 0.4}},
    }


@pytest.fixture
def fake_systems(monkeypatch):
    monkeypatch.setattr(systems, "_targets", dict(systems._targets))
    monkeypatch.setattr(systems, "_meta", dict(systems._meta))
    systems.names()  # load real plugins first so ours are added on top
    for name, kw in {
        "zgood": {"claims": f"{__name__}:good_claims"},
        "zbad": {"claims": f"{__name__}:bad_claims", "paper": "Roe. Bad paper: x. 2020"},
        "zold": {"demo": f"{__name__}:old_demo"},
    }.items():
        systems.register(name, SystemSpec(name, name, cli="x:y", **kw))
    CALLS.clear()
    # sections made by other code are redone; pin the code version so commits made while the
    # test runs do not count as other code
    monkeypatch.setattr("ennead.core.tour.code_version", lambda: "v1")


def test_tour_claims_table_survives_a_failing_section_and_resumes(
    tmp_path: Path, fake_systems, monkeypatch
):
    res = run_tour(tmp_path / "tour", only=["zgood", "zbad", "zold"], quick=True)
    assert res.failed == ["zbad"]
    assert sorted(CALLS) == ["bad", "good quick=True", "old"]
    verdicts = {c.system: (c.verdict, c.error) for c in res.claims}
    assert verdicts["zgood"] == ("reproduced", None)
    assert verdicts["zbad"] == ("not run", "RuntimeError: demo exploded")
    assert verdicts["zold"][0] == "not run" and "no claims function" in verdicts["zold"][1]
    bad = next(c for c in res.claims if c.system == "zbad")
    assert bad.paper == "Roe. Bad paper" and bad.section == "zbad"

    md = res.artifacts["markdown"].read_text()
    html = res.artifacts["html"].read_text()
    # the claims table comes first, each row links to its section
    assert md.index("## Claims") < md.index("## Good")
    assert "| [zgood](#zgood) | Doe 2024 | A &lt;beats&gt; B |" in md
    assert "+5.00 [2.52, 7.48]" in md and "0: +4.00, 1: +6.00, 2: +5.00" in md
    assert "reproduced" in md and "demo exploded" in md
    assert "Across the toolkit" not in md
    assert '<a href="#zgood">zgood</a>' in html and '<h2 id="zgood">' in html
    assert "&lt;system&gt;" in html and "<system>" not in html
    assert "data:image/png;base64," in html and "![curve](quick/zgood/artifacts/curve.png)" in md
    assert "| 1 | 2 |" in md and "per seed" in md
    assert "| qa | acc | 0.60 | 0.40 |" in md  # the older demo's results table
    manifest = json.loads((tmp_path / "tour" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["failed"] == ["zbad"]

    # a second tour in the same folder reuses finished sections and retries the failed one
    CALLS.clear()
    again = run_tour(tmp_path / "tour", only=["zgood", "zbad", "zold"], quick=True)
    assert CALLS == ["bad"]
    assert [s["reused"] for s in again.sections] == [False, True, True]  # names sort: zbad first
    assert "Reused from an earlier tour" in again.artifacts["markdown"].read_text()
    # a full-size tour in the same folder is a different stage: it runs
    CALLS.clear()
    run_tour(tmp_path / "tour", only=["zgood"])
    assert CALLS == ["good quick=False"]
    # other code (a new commit) redoes the section
    CALLS.clear()
    monkeypatch.setattr("ennead.core.tour.code_version", lambda: "v2")
    run_tour(tmp_path / "tour", only=["zgood"])
    assert CALLS == ["good quick=False"]


def test_unknown_system_suggests(fake_systems):
    with pytest.raises(UnknownNameError, match="did you mean 'zgood'"):
        run_tour(None, only=["zgoood"])


def test_parse_markdown_table():
    assert parse_markdown_table("| x | y |\n|:-|-:|\n| 1 | 2 |") == [{"x": "1", "y": "2"}]
    assert parse_markdown_table("not a table") is None


def test_foundation_demo_on_embedded_defaults(tmp_path: Path):
    from ennead.core.tour import foundation_demo

    section = foundation_demo(RunDir.create(tmp_path / "f"))
    assert section["tasks"]["assets"]["prepared"] == 1.0
    assert section["tasks"]["retrieval"]["hit@1"] >= 0.75
    assert section["tasks"]["qa"]["substring_accuracy"] >= 1 / 3  # Paris at least
    assert "Paris" in section["tables"][0]


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
SHOT_DIR = os.environ.get("ENNEAD_SCREENSHOTS")  # keep the screenshot to look at it


def _chromium() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


def test_report_in_headless_chromium(tmp_path: Path, fake_systems):
    """The HTML report as a person sees it: claims table on the first screen, every image
    decoded, every link and source resolving, the system link jumping to its section."""
    executable = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    res = run_tour(tmp_path / "tour", only=["zgood", "zbad", "zold"], quick=True)
    page_path = res.artifacts["html"].resolve()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15000)
            page.goto(page_path.as_uri())
            shot = Path(SHOT_DIR or tmp_path) / "tour-report.png"
            page.screenshot(path=str(shot), full_page=False)
            assert shot.stat().st_size > 5000

            table = page.locator("table", has=page.locator("caption", has_text="paper claims"))
            assert table.is_visible()
            box = table.bounding_box()
            assert box is not None and box["y"] < 900  # on the first screen, no scrolling
            assert table.locator("tbody tr").count() == len(res.claims) == 3
            headers = table.locator("thead th").all_text_contents()
            assert headers[:2] == ["system", "paper"] and "verdict" in headers
            cells = table.locator("tbody td").all_text_contents()
            assert "reproduced" in cells and "not run" in cells
            # verdicts are coloured, each kind differently, and the table fits the viewport
            colours = table.locator("td.verdict").evaluate_all(
                "els => els.map(e => [e.textContent, getComputedStyle(e).backgroundColor])"
            )
            assert len(colours) == 3 and len({c for _, c in colours}) == len(
                {v for v, _ in colours}
            )
            assert all(c not in ("rgba(0, 0, 0, 0)", "transparent") for _, c in colours)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280
            assert page.locator("h2").first.text_content() == "Claims"

            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth, e.src.slice(0, 22)])"
            )
            assert images and all(ok and width > 0 for ok, width, _ in images), images
            links = page.eval_on_selector_all(
                "[href], [src]",
                "els => els.map(e => e.getAttribute('href') ?? e.getAttribute('src'))",
            )
            assert links
            for link in links:
                if link.startswith("#"):
                    assert page.locator(f"[id='{link[1:]}']").count() == 1, link
                elif not link.startswith("data:"):
                    assert (page_path.parent / link).exists(), link

            page.click("table >> a[href='#zgood']")
            page.wait_for_function("window.scrollY > 0")
            top = page.eval_on_selector("#zgood", "e => e.getBoundingClientRect().top")
            assert 0 <= top < 900  # the section is on screen (the page may end before the top)
        finally:
            browser.close()


def test_every_system_names_an_importable_claims_function():
    from ennead.core.registry import load_target
    from ennead.core.systems import get_system

    for name in systems.names():
        spec = get_system(name)
        assert spec.claims, f"{name} has no claims function for the tour"
        assert callable(load_target(spec.claims)), spec.claims


@pytest.mark.slow
@pytest.mark.timeout(2400)  # about 3 minutes on 2 idle cores; shared CI machines are slower
def test_quick_tour_of_the_real_systems(tmp_path: Path):
    """Every system's claims function at smoke size: one section each, a row per claim, no
    failure (the verdicts at this size mean nothing and are not asserted)."""
    from ennead.core.systems import systems as registry

    names = registry.names()
    res = run_tour(tmp_path / "tour", only=names, quick=True)
    assert res.failed == [], [s.get("error") for s in res.sections]
    assert {c.system for c in res.claims} == set(names)
    assert all(c.verdict != "not run" for c in res.claims), [c.error for c in res.claims]
    md = res.artifacts["markdown"].read_text()
    assert md.index("## Claims") < min(md.index(f'<a id="{n}">') for n in names)
