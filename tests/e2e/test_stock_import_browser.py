"""The stock import page in headless Chromium: the upload queues a job, the job's page
shows its bar moving live and then the rows imported, without the user reloading."""

from __future__ import annotations

import csv
import io
import os
from datetime import date, timedelta
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROWS = 20_000


def _file(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["仓库", "物资编码", "批号", "有效期", "数量"])
    expiry = (date.today() + timedelta(days=400)).isoformat()
    for n in range(rows):
        writer.writerow(["", "N95", f"E2E-{n % 500}", expiry, 1])
    return out.getvalue().encode("utf-8")


def _login(context: Any, base: str) -> Any:
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("input[name=username]", "logistics")
    page.fill("input[name=password]", "logistics-demo")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    return page


def test_an_import_job_shows_its_progress_and_its_result(demo_server, new_context, network):
    base = demo_server.url
    page = _login(new_context(), base)
    page.goto(base + "/stock/import")
    page.wait_for_selector("#import-form")
    depot = page.eval_on_selector("select[name=depot] option:nth-child(2)", "o => o.value")
    page.select_option("select[name=depot]", depot)
    page.set_input_files("input[name=file]", files=[
        {"name": "delivery.csv", "mimeType": "text/csv", "buffer": _file(ROWS)}])
    page.click("#import-form button[type=submit]")
    page.wait_for_url("**/stock/import/jobs/*")
    # Record every state the bar shows until the page turns into the outcome.
    # Record every count the bar shows (kept across the page's reload at the end).
    page.evaluate("""() => {
      const box = document.getElementById('import-progress');
      const note = () => {
        const seen = JSON.parse(sessionStorage.getItem('seen') || '[]');
        seen.push(box.querySelector('.import-rows').textContent);
        sessionStorage.setItem('seen', JSON.stringify(seen));
      };
      new MutationObserver(note).observe(box, {subtree: true, childList: true,
                                               characterData: true});
    }""")
    if shot := os.environ.get("COORDINATION_SCREENSHOTS"):
        page.screenshot(path=f"{shot}-running.png")
    page.wait_for_selector("#import-result", timeout=240_000)
    if shot:
        page.screenshot(path=f"{shot}-done.png")
    assert str(ROWS) in page.inner_text("#import-result")
    assert page.eval_on_selector("#import-progress progress", "p => p.value") == 100
    assert page.locator("#import-problems").count() == 0
    seen = page.evaluate("() => JSON.parse(sessionStorage.getItem('seen') || '[]')")
    assert any(s.endswith(f"/ {ROWS}") for s in seen), seen  # the bar moved while it ran
    assert not network.foreign() and not network.page_errors
