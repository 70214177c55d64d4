"""The leaderboard page in headless Chromium (Debian's /usr/bin/chromium; no browser download).

Locally the test skips when Chromium or Playwright is missing; in CI (``CI=true``) it fails
instead, so a browser that could not be installed never passes as a silent skip.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not IN_CI,
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
)


def _need(module: str) -> Any:
    """Import ``module``: skip locally when missing, fail in CI."""
    if not IN_CI:
        return pytest.importorskip(module)
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        pytest.fail(f"CI=true but {module} cannot be imported ({exc}); install the dev extra")


ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_upload_board_custom_board_and_error(cuge, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"CI=true but no Chromium at {CHROMIUM}: .ci/run must install it")
    playwright = _need("playwright.sync_api")
    from ennead.cuge.loadtest import _free_port
    from ennead.cuge.runners import RuleRunner

    uvicorn = _need("uvicorn")
    import threading
    import time

    from ennead.cuge.service import create_app

    sub_path = Path(cuge.predict(runner=RuleRunner()).submission)
    good = tmp_path / "good.json"
    shutil.copy(sub_path, good)
    bad = tmp_path / "bad.json"
    data = json.loads(good.read_text(encoding="utf-8"))
    data["predictions"]["synth-math"].pop()
    data["model"] = "broken"
    bad.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    flagged = tmp_path / "flagged.json"
    data = json.loads(good.read_text(encoding="utf-8"))
    data["model"], data["honor_code"] = "<img src=x onerror=alert(1)>", False
    flagged.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(cuge.config), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.set_default_timeout(15000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("#caps input[value=MR]")
            # upload a good file: accepted and on the board
            page.set_input_files("#file", str(good))
            page.click("#upload-btn")
            page.wait_for_selector("#message.ok")
            assert "Accepted" in page.text_content("#message")
            page.wait_for_selector("#board tbody tr td.model")
            assert page.text_content("#board tbody tr td.model") == "rule-baseline"
            assert page.text_content("#board tbody td.index").startswith("100.0")
            headers = page.locator("#board thead th").all_text_contents()
            assert headers[4:-1] == ["NLU-WSL", "NLU-DL", "IA-QA", "NLG", "MR"]
            # custom board: only the MR capability
            page.check("#caps input[value=MR]")
            page.click("#apply")
            page.wait_for_function("document.querySelectorAll('#board thead th').length === 6")
            assert page.locator("#board thead th").all_text_contents()[4] == "MR"
            assert "Board: full (mean, 1 capabilities, 1 entries)" in page.text_content(
                "#board-title"
            )
            # a bad file: the error is shown and nothing is added
            page.set_input_files("#file", str(bad))
            page.click("#upload-btn")
            page.wait_for_selector("#message.error")
            msg = page.text_content("#message")
            assert "Rejected (422)" in msg and "synth-math" in msg and "no prediction" in msg
            assert page.locator("#board tbody tr").count() == 1
            # honor_code false: accepted, flagged, and its name shown as text (no element)
            page.set_input_files("#file", str(flagged))
            page.click("#upload-btn")
            page.wait_for_function("document.querySelectorAll('#board tbody tr').length === 2")
            assert "honor code not confirmed" in page.text_content("#message")
            models = page.locator("#board tbody td.model").all_text_contents()
            assert "<img src=x onerror=alert(1)> [no honor code]" in models
            assert page.locator("#board img").count() == 0
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
