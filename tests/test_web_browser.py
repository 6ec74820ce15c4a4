"""The review app in a real browser (Debian's chromium driven by Playwright) against the fast
tier's scored database (`fast_batch` in conftest: no extra Whisper run), copied so the reviews
made here change nothing the other tests read.

sign in -> queue -> call -> play from a finding -> change an item with a comment -> the agent
scorecard shows the reviewed result; a wrong password refused; an agent cannot see another
agent's call. Screenshots go to tests/artifacts/ (or $CALLQA_ARTIFACTS).
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.store.database import Store
from pipeline.web import create_app
from web_helpers import ARTIFACTS, CHROMIUM, LiveServer, add_accounts, password

playwright = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip("chromium is not installed (make system installs it with apt)", allow_module_level=True)

CALL = "c05_long_hold"  # agent a002 (Daniel), flagged: an 80 s hold over the 60 s standard
ITEM = "hold_within_standard"


@pytest.fixture(scope="module")
def served(fast_batch, tmp_path_factory):
    db = tmp_path_factory.mktemp("web-db") / "callqa.duckdb"
    shutil.copy(fast_batch[1], db)
    add_accounts(db)
    with LiveServer(create_app(db, secret_key="browser-test-key" * 3)) as server:
        yield server, db


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, url: str, username: str, secret: str | None = None) -> None:
    page.goto(url + "/queue")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", secret or password(username))
    page.click("form[action='/login'] button[type=submit]")


def test_a_reviewer_works_a_call_from_the_queue_to_the_agent_scorecard(served, browser):
    server, db = served
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    sign_in(page, server.url, "rita", "not the password")
    assert page.locator(".error").inner_text().startswith("Wrong user name or password")
    shot(page, "01-login-refused")

    sign_in(page, server.url, "rita")
    page.wait_for_url("**/queue")
    queue = page.locator("table.calls").first
    assert queue.locator(f"a.call-link:text-is('{CALL}')").count() == 1
    assert "over 60 s" in queue.locator("tr", has=page.locator(f"a:text-is('{CALL}')")).inner_text()
    shot(page, "02-queue")

    page.click(f"a.call-link:text-is('{CALL}')")
    page.wait_for_url(f"**/calls/{CALL}")
    page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=15000)
    finding = page.locator(f"button.finding-link[data-item='{ITEM}']").first
    start = float(finding.get_attribute("data-seek"))
    assert start > 10  # the hold starts well into the call: a seek that did nothing would stay near 0
    finding.click()
    page.wait_for_function(f"document.getElementById('player').currentTime >= {start - 0.05}", timeout=10000)
    now = page.evaluate("document.getElementById('player').currentTime")
    assert start - 0.05 <= now <= start + 3, (start, now)
    assert page.locator("mark.finding").count() >= 3  # findings highlighted in the transcript
    assert page.locator("svg#timeline rect.bar.hold").count() == 1
    shot(page, "03-call-playing-from-finding")

    machine = Store(db).query("SELECT outcome FROM item_results WHERE call_id = ? AND item_id = ?", [CALL, ITEM]).outcome[0]
    assert machine == "fail"
    item = page.locator(f"#item-aidet-{ITEM}")
    item.locator("input[value=pass]").check()
    item.locator(f"input[name=comment__{ITEM}]").fill("Customer agreed to the longer hold at 0:20 <b>ok</b>")
    for uncertain in page.locator("li.item.needs").all():  # settle any uncertain item as pass
        uncertain.locator("input[value=pass]").check()
    page.click("form#review-aidet button[type=submit]")
    page.wait_for_selector("#saved")
    assert "reviewed by rita" in item.locator(".final").inner_text()
    assert "Customer agreed to the longer hold at 0:20 <b>ok</b>" in item.locator(".comment").inner_text()
    shot(page, "04-call-reviewed")
    assert Store(db).query("SELECT outcome FROM item_results WHERE call_id = ? AND item_id = ?", [CALL, ITEM]).outcome[0] == "fail"

    page.goto(server.url + "/scorecards?period=week&agent=a002")
    cell = page.locator(f"#scorecards tr[data-agent='a002'] td.rate[data-item='{ITEM}']").first
    assert cell.inner_text().startswith("100 %")  # was 0 % on the machine's result alone
    shot(page, "05-agent-scorecard")

    page.goto(server.url + "/queue")
    assert page.locator(f"table.calls a.call-link:text-is('{CALL}')").count() == 0  # reviewed: out of the queue
    page.goto(server.url + "/calibration")
    assert page.locator("table.calibration").first.inner_text().count(ITEM) >= 1
    shot(page, "06-calibration")
    page.close()


def test_an_agent_sees_their_own_calls_only(served, browser):
    server, _ = served
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    sign_in(page, server.url, "sarah")  # agent a001
    page.wait_for_url("**/queue**")
    page.goto(server.url + "/queue?show=all&reviewed=")
    assert page.locator("a.call-link:text-is('c01_model_call')").count() >= 1
    assert page.locator(f"a.call-link:text-is('{CALL}')").count() == 0
    shot(page, "07-agent-own-calls")
    response = page.goto(server.url + f"/calls/{CALL}")
    assert response.status == 404 and "Not found" in page.content()
    assert page.goto(server.url + f"/audio/{CALL}").status == 404
    page.goto(server.url + "/calls/c01_model_call")
    assert page.locator("form.review").count() == 0  # read-only
    shot(page, "08-agent-call-read-only")
    page.close()


def test_a_link_to_a_moment_marks_that_line_and_cues_the_player(served, browser):
    """Coaching reports link to /calls/ID#t=SECONDS: the line said then is marked and in view, and
    the player waits there (no autoplay: the reviewer presses play)."""
    server, db = served
    with Store(db).connect(read_only=True) as con:
        start, text = con.execute(
            "SELECT start_s, text FROM utterances WHERE call_id = ? AND speaker = 'agent' "
            "ORDER BY start_s DESC LIMIT 1", [CALL]).fetchone()
    page = browser.new_page(viewport={"width": 1400, "height": 700})
    sign_in(page, server.url, "lena")
    page.wait_for_url("**/queue**")
    page.goto(server.url + f"/calls/{CALL}#t={start + 0.2:.1f}")
    marked = page.locator("#transcript li.moment")
    marked.wait_for()
    assert marked.count() == 1 and text.split()[0] in marked.inner_text()
    assert marked.is_visible()
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    assert abs(page.evaluate("document.getElementById('player').currentTime") - (start + 0.2)) < 1.0
    shot(page, "09-moment-link")
    page.close()
