"""Coaching reports on a generated history (pipeline/coaching): the generator writes through the
scoring write path, the report's numbers are the SQL's over the same database, `callqa coach`
writes HTML and PDF, and both are rendered to images under tests/artifacts/ (headless Chromium for
the HTML, pdftoppm for the PDF pages) for a person to look at.
"""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.coaching import report as rp
from pipeline.coaching.generate import HistoryOptions, generate_calls, write_history
from pipeline.store.database import Store
from web_helpers import ARTIFACTS, CHROMIUM

MARCH = rp.period_of("month", date(2025, 3, 20))
OPTIONS = HistoryOptions(seed=11, weeks=8, calls_per_week=4)


@pytest.fixture(scope="module")
def history(tmp_path_factory, scorecard):
    """Eight weeks of generated calls of 14 agents (about 450), scored with the default scorecard."""
    db = tmp_path_factory.mktemp("coaching") / "callqa.duckdb"
    done = write_history(Store(db), OPTIONS, scorecard)
    return db, done


def sql(db: Path, query: str, params=()) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


FINAL = """  -- each item's final outcome, told here without the views: the newest review, else the machine's
    WITH rv AS (SELECT call_id, scorecard_version, item_id, arg_max(outcome, reviewed_at) AS outcome
                FROM item_reviews GROUP BY ALL),
         items AS (SELECT i.call_id, i.item_id, coalesce(rv.outcome, i.outcome) AS outcome
                   FROM item_results i LEFT JOIN rv USING (call_id, scorecard_version, item_id))"""


HOLDS_OVER = """  -- an agent's holds: count, longest, over the limit stored with the call's scorecard version
    SELECT count(*), max(h.duration_s), count(*) FILTER (WHERE h.duration_s > v.hold_limit_s)
    FROM holds h JOIN calls c USING (call_id) JOIN call_scores s USING (call_id)
    JOIN scorecard_versions v USING (scorecard_id, scorecard_version)
    WHERE c.agent_id = ? AND c.started_at >= ? AND c.started_at < ?"""


def test_generated_calls_look_like_scored_calls(history, scorecard):
    db, done = history
    assert done.calls >= 400 and done.reviewed_calls > 0 and done.sessions == 1
    agents, teams, departments, calls = sql(db, """SELECT count(DISTINCT agent_id), count(DISTINCT r.team),
        count(DISTINCT c.department), count(*) FROM calls c JOIN agent_roster r USING (agent_id)""")[0]
    assert (agents, teams, departments, calls) == (14, 6, 3, done.calls)
    # marked where a reviewer looks, with words, timings, findings and holds like a scored call
    assert sql(db, "SELECT DISTINCT channel_layout, model, status FROM calls") == [("generated", "generated (seed 11)", "scored")]
    assert sql(db, "SELECT count(*) FROM calls WHERE call_id NOT LIKE 'gen-11-%'")[0][0] == 0
    speakers = sql(db, "SELECT count(DISTINCT call_id), count(DISTINCT speaker) FROM utterances")[0]
    assert speakers == (done.calls, 2)
    words = json.loads(sql(db, "SELECT words FROM utterances WHERE speaker = 'agent' LIMIT 1")[0][0])
    assert len(words[0]) == 4 and words[0][1] < words[0][2]
    assert sql(db, "SELECT count(*) FROM findings WHERE text IS NOT NULL")[0][0] > done.calls
    assert sql(db, "SELECT count(*) FROM holds")[0][0] > 100
    assert sql(db, "SELECT count(DISTINCT call_id) FROM item_reviews WHERE reviewer = 'gen-reviewer'")[0][0] == done.reviewed_calls
    # the scoring write path stored the scorecard version: items in its order, its hold limit
    assert sql(db, "SELECT scorecard_id, scorecard_version, item_ids, hold_limit_s FROM scorecard_versions") == [
        (scorecard.id, scorecard.version, [i.id for i in scorecard.items], 60.0)]
    # the real scorer finds what the generator meant (so the trends are in the words)
    agree = total = 0
    for result, meta in generate_calls(HistoryOptions(seed=3, weeks=1, calls_per_week=3), scorecard):
        for item in result.score.items:
            meant = meta["intended"].get(item.item_id)
            if meant and item.outcome != "uncertain" and not item.item_id.startswith("hold_"):
                agree, total = agree + (item.outcome == meant), total + 1
    assert agree / total > 0.97
    # deterministic: the same seed gives the same words at the same times
    again = generate_calls(HistoryOptions(seed=3, weeks=1, calls_per_week=3), scorecard)
    first = generate_calls(HistoryOptions(seed=3, weeks=1, calls_per_week=3), scorecard)
    assert [[(w.text, w.start) for u in r.utterances for w in u.words] for r, _ in again] == \
           [[(w.text, w.start) for u in r.utterances for w in u.words] for r, _ in first]


def test_agent_report_numbers_equal_the_sql(history, scorecard):
    db, _ = history
    store = Store(db, read_only=True)
    report = rp.agent_report(store, "a103", MARCH, scorecard, "http://review")
    since, until = MARCH.bounds()
    assert report.agent["team"] == "Accounts" and report.agent["department"] == "Billing"
    # the standard is the stored scorecard version's (written with the scores), as in agent_scorecards
    [(version, item_ids, limit)] = sql(db, """SELECT DISTINCT v.scorecard_version, v.item_ids, v.hold_limit_s
        FROM call_scores s JOIN calls c USING (call_id) JOIN scorecard_versions v USING (scorecard_id, scorecard_version)
        WHERE c.started_at >= ? AND c.started_at < ?""", [since, until])
    assert report.standard.versions == (version,) and report.hold_limit_s == limit == 60
    assert [i.item_id for i in report.items] == [i for i in item_ids if i in {line.item_id for line in report.items}]

    # score week by week, agent and team, on final scores
    expected = sql(db, """SELECT CAST(date_trunc('week', c.started_at) AS DATE), count(*), round(avg(f.score), 1)
        FROM calls c JOIN final_call_scores f USING (call_id) JOIN agent_roster r USING (agent_id)
        WHERE r.team = 'Accounts' AND c.started_at < ? GROUP BY 1 ORDER BY 1""", [until])
    team = report.weekly[report.weekly.level == "team"].sort_values("week")
    assert [(w.date(), n, s) for w, n, s in zip(team.week, team.calls, team.avg_score)] == expected

    # pass rate per item: the agent's and the team's, with the calls behind each
    for level, where in (("agent", "c.agent_id = 'a103'"), ("team", "r.team = 'Accounts'"), ("department", "c.department = 'Billing'")):
        rows = sql(db, FINAL + f"""
            SELECT item_id, count(*) FILTER (WHERE outcome IN ('pass', 'fail')),
                   count(*) FILTER (WHERE outcome = 'pass')
            FROM items JOIN calls c USING (call_id) JOIN agent_roster r USING (agent_id)
            WHERE {where} AND c.started_at >= ? AND c.started_at < ? GROUP BY 1""", [since, until])
        for item_id, applicable, passed in rows:
            line = next(i for i in report.items if i.item_id == item_id)
            assert (line.calls[level], line.passed[level]) == (applicable, passed), (level, item_id)
            assert line.rates[level] == (round(passed / applicable, 3) if applicable else None)

    # holds against the standard of the scorecard version each call was scored with, and handling
    holds = sql(db, HOLDS_OVER, ["a103", since, until])[0]
    mine = report.holds["agent"]
    assert (mine["holds"], mine["longest_hold_s"], mine["holds_over_standard"]) == holds
    handle = sql(db, """SELECT count(*), round(avg(m.handle_time_s), 1), round(avg(m.time_to_answer_s), 1)
        FROM metrics m JOIN calls c USING (call_id) WHERE c.agent_id = 'a103' AND c.started_at >= ? AND c.started_at < ?""",
                 [since, until])[0]
    m = report.metrics["agent"]
    assert (m["calls"], m["avg_handle_time_s"], m["avg_speed_of_answer_s"]) == handle

    # best and worst calls, and moments quoted from the agent's own words with their times
    scores = sorted(s for (s,) in sql(db, """SELECT f.score FROM calls c JOIN final_call_scores f USING (call_id)
        WHERE c.agent_id = 'a103' AND c.started_at >= ? AND c.started_at < ?""", [since, until]))
    assert list(report.worst_calls().score) == scores[:3] and list(report.best_calls().score) == scores[::-1][:3]
    for item, moments in report.moments.items():
        assert 1 <= len(moments) <= 3
        for moment in moments:
            said = sql(db, "SELECT text FROM utterances WHERE call_id = ? AND abs(start_s - ?) < 0.01",
                       [moment.call_id, moment.at_s]) or [(f"hold of {moment.quote.split()[2]} s",)]
            assert moment.quote == said[0][0]
            assert moment.link == f"http://review/calls/{moment.call_id}#t={moment.at_s:.1f}"

    # progress on the item discussed in the coaching session (story 1: Sarah, duration, 3 March)
    [progress] = report.progress
    [duration] = progress.items
    before = sql(db, FINAL + """SELECT count(*), avg(CASE outcome WHEN 'pass' THEN 1.0 ELSE 0.0 END) FROM items
        JOIN calls c USING (call_id) WHERE c.agent_id = 'a103' AND item_id = 'duration' AND outcome IN ('pass', 'fail')
        AND c.started_at >= DATE '2025-02-03' AND c.started_at < DATE '2025-03-03'""")[0]
    assert (duration["before_calls"], duration["before_rate"]) == (before[0], round(before[1], 3))
    assert duration["since_rate"] - duration["before_rate"] > 0.3  # the coaching worked, in the words


def test_the_standard_is_the_stored_versions_not_the_file_at_hand(tmp_path, scorecard):
    """Calls scored with a 30 s hold limit stay judged by it when the report is made with the
    default file (60 s): the report, `agent_scorecards` and the SQL agree on one source."""
    from pipeline.scoring.scorecard import DEFAULT_SCORECARD, load_scorecard

    strict_file = tmp_path / "aidet-strict.yaml"
    strict_file.write_text(DEFAULT_SCORECARD.read_text(encoding="utf-8").replace("max_s: 60", "max_s: 30"), encoding="utf-8")
    strict = load_scorecard(strict_file)
    assert strict.id == scorecard.id and strict.version != scorecard.version
    db = tmp_path / "callqa.duckdb"
    write_history(Store(db), HistoryOptions(seed=5, weeks=2, calls_per_week=3), strict)
    store = Store(db, read_only=True)
    period = rp.custom_period(date(2025, 2, 3), date(2025, 2, 16))
    report = rp.agent_report(store, "a103", period, scorecard)  # the 60 s file
    assert report.standard.versions == (strict.version,) and report.hold_limit_s == 30
    since, until = period.bounds()
    count, _, over = sql(db, HOLDS_OVER, ["a103", since, until])[0]
    assert report.holds["agent"]["holds"] == count and report.holds["agent"]["holds_over_standard"] == over
    assert sql(db, "SELECT DISTINCT hold_limit_s FROM agent_scorecards") == [(30.0,)]
    trends = rp.trends_report(store, period, scorecard)
    assert list(trends.item_names) == sql(db, "SELECT item_ids FROM scorecard_versions")[0][0]


def test_trends_call_out_an_item_worse_in_two_departments(history, scorecard):
    db, _ = history
    trends = rp.trends_report(Store(db, read_only=True), rp.custom_period(date(2025, 2, 3), date(2025, 3, 30)), scorecard)
    assert set(trends.called_out) == {"hold_thanked"}  # story 3
    groups = {w.group: w for w in trends.called_out["hold_thanked"]}
    assert set(groups) == {"Billing", "Technical Support"}
    for department, w in groups.items():
        for weeks, rate, calls in (("('2025-03-17', '2025-03-24')", w.recent_rate, w.recent_calls),
                                   ("('2025-02-17', '2025-02-24', '2025-03-03', '2025-03-10')", w.before_rate, w.before_calls)):
            n, passed = sql(db, FINAL + f"""SELECT count(*), count(*) FILTER (WHERE outcome = 'pass') FROM items
                JOIN calls c USING (call_id) WHERE c.department = ? AND item_id = 'hold_thanked' AND outcome IN ('pass', 'fail')
                AND CAST(date_trunc('week', c.started_at) AS DATE)::VARCHAR IN {weeks}""", [department])[0]
            assert (calls, rate) == (n, round(passed / n, 3))
    assert "Price rise" in trends.recurring_topics and "Moving house" in trends.recurring_topics
    price = trends.topics[trends.topics.topic == "Price rise"]
    assert set(price.department) == {"Billing", "Sales", "Technical Support"}
    for row in price.itertuples():
        n = sql(db, """SELECT count(DISTINCT call_id) FROM utterances u JOIN calls c USING (call_id)
            WHERE u.speaker = 'customer' AND c.department = ? AND regexp_matches(lower(u.text), ?)""",
                [row.department, rp.load_topics()["Price rise"]])[0][0]
        assert row.calls == n


def test_coach_log_export_and_formats_through_the_cli(history, tmp_path):
    from pipeline.cli.main import app

    db = tmp_path / "callqa.duckdb"
    shutil.copy(history[0], db)
    runner = CliRunner()
    added = runner.invoke(app, ["coach-log", "add", "a202", "--items", "explanation,hold_within_standard", "--by", "lena",
                                "--goals", "Say what happens next", "--date", "2025-03-10", "--db", str(db)])
    assert added.exit_code == 0, added.output
    bad = runner.invoke(app, ["coach-log", "add", "a202", "--items", "explenation", "--by", "lena", "--db", str(db)])
    assert bad.exit_code == 2 and "explenation" in bad.output
    listed = runner.invoke(app, ["coach-log", "list", "--agent", "a202", "--format", "json", "--db", str(db)])
    assert json.loads(listed.output)[0]["items"] == "explanation, hold_within_standard"
    assert json.loads(listed.output)[0]["session_date"].startswith("2025-03-10")
    # the shared formats: piped tables are plain complete rows, CSV has every column
    piped = runner.invoke(app, ["coach-log", "list", "--db", str(db)])
    row = next(line for line in piped.output.splitlines() if line.startswith("2025-03-10"))
    assert "a202" in row and "explanation, hold_within_standard" in row and "lena" in row
    as_csv = list(csv.DictReader(io.StringIO(runner.invoke(app, ["coach-log", "list", "--format", "csv", "--db", str(db)]).output)))
    assert {"session_id", "notes", "agent_name"} <= set(as_csv[0]) and len(as_csv) == 2

    # trends: json and csv carry every section (worse, items, topics), the table every id whole
    args = ["trends", "--since", "2025-02-03", "--until", "2025-03-30", "--db", str(db)]
    document = json.loads(runner.invoke(app, args + ["--format", "json"]).output)
    assert set(document) == {"worse", "items", "topics"}
    assert {w["item_id"] for w in document["worse"] if w["in_several"]} == {"hold_thanked"}
    assert {w["department"] for w in document["worse"] if w["item_id"] == "hold_thanked"} >= {"Billing", "Technical Support"}
    sections = runner.invoke(app, args + ["--format", "csv"]).output.split("\n\n")
    assert [s.splitlines()[0] for s in sections] == ["# worse", "# items", "# topics"]
    assert len(sections[1].splitlines()) == len(document["items"]) + 2
    table = runner.invoke(app, args).output
    assert "hold_thanked worse in 2 departments at once" in table
    assert re.search(r"^Technical Support\s+hold_within_standard\s+\S+% \(\d+\)", table, re.M)

    out = tmp_path / "export"
    done = runner.invoke(app, ["export", str(out), "--db", str(db)])
    assert done.exit_code == 0, done.output
    calls = sql(db, "SELECT count(*) FROM calls")[0][0]
    assert sql(db, f"SELECT count(*) FROM '{out}/calls.parquet'")[0][0] == calls
    assert len((out / "calls.csv").read_text().splitlines()) == calls + 1
    reviewed = sql(db, f"""SELECT count(*) FILTER (WHERE source = 'review'),
        count(*) FILTER (WHERE machine_outcome <> final_outcome) FROM '{out}/item_results.parquet'""")[0]
    assert reviewed[0] > 0 and reviewed[1] > 0  # machine and final side by side, reviews included
    assert sql(db, f"SELECT count(DISTINCT agent_id) FROM '{out}/agent_scorecards.csv'")[0][0] == 14


def test_callqa_coach_writes_html_and_pdf_rendered_to_images(history):
    """The 'done when' of the coaching issue: HTML and PDF for an agent of the generated history,
    both turned into images a person looks at (tests/artifacts/coach-*.png)."""
    from pipeline.cli.main import app

    db, _ = history
    out = ARTIFACTS / "coaching"
    shutil.rmtree(out, ignore_errors=True)
    result = CliRunner().invoke(app, ["coach", "a103", "--period", "month", "--at", "2025-03-20", "--out", str(out), "--db", str(db)])
    assert result.exit_code == 0, result.output
    html, pdf = out / "coach-a103-2025-03-01.html", out / "coach-a103-2025-03-01.pdf"
    assert "since coaching on 2025-03-03: duration" in result.output
    text = html.read_text()
    assert "Generated history" in text and "Coaching report: Sarah" in text
    assert pdf.read_bytes()[:5] == b"%PDF-"

    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists() or not shutil.which("pdftoppm"):
        pytest.skip("chromium or pdftoppm missing (make system installs them)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        page.goto(html.as_uri())
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 300)")
        assert page.locator("#tile-calls").inner_text() == str(
            sql(db, "SELECT count(*) FROM calls WHERE agent_id = 'a103' AND started_at >= '2025-03-01' AND started_at < '2025-04-01'")[0][0])
        assert page.locator("#moments li").count() >= 2 and page.locator("#progress").count() == 1
        page.screenshot(path=str(ARTIFACTS / "coach-a103-html.png"), full_page=True)
        browser.close()
    for old in ARTIFACTS.glob("coach-a103-pdf-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "70", str(pdf), str(ARTIFACTS / "coach-a103-pdf")], check=True)
    pages = sorted(ARTIFACTS.glob("coach-a103-pdf-*.png"))
    assert len(pages) >= 2 and all(p.stat().st_size > 20_000 for p in pages)


@pytest.mark.slow  # about 30 s on 2 busy cores: a live server, a browser, a PDF
def test_the_review_app_shows_the_same_report_and_takes_a_coaching_session(history, tmp_path):
    """The web view in a real browser: a lead opens Sarah's report (the same article as the file),
    records a coaching session with the form, and sees the trends page; an agent sees only their own."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    from pipeline.web import create_app
    from web_helpers import LiveServer, add_accounts, password

    db = tmp_path / "callqa.duckdb"
    shutil.copy(history[0], db)
    add_accounts(db)
    with LiveServer(create_app(db, secret_key="coaching-test-key" * 3)) as server, playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(server.url + "/coaching/agents/a103?period=month&at=2025-03-20")
        page.fill("input[name=username]", "lena")
        page.fill("input[name=password]", password("lena"))
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url("**/coaching/agents/a103**")
        assert page.locator("#coach-report h1").inner_text().startswith("Coaching report: Sarah")
        assert page.evaluate("[...document.querySelectorAll('#coach-report img')].every(i => i.complete && i.naturalWidth > 300)")
        href = page.locator("a.moment-link").first.get_attribute("href")
        assert re.fullmatch(r"/calls/gen-11-\d{4}#t=\d+\.\d", href)
        page.screenshot(path=str(ARTIFACTS / "coach-web-agent.png"), full_page=True)

        page.fill("#log-form input[name=session_date]", "2025-03-17")
        page.check("#log-form input[value=hold_thanked]")
        page.fill("#log-form input[name=goals]", "Thank the customer after every hold")
        page.click("#log-form button[type=submit]")
        page.wait_for_url("**saved=1")
        assert "hold_thanked" in page.locator("#coaching-log").inner_text()
        assert page.locator("#progress .session").count() == 2  # the new session and the generated one
        assert sql(db, "SELECT coached_by FROM coaching_sessions WHERE session_date = DATE '2025-03-17'") == [("lena",)]

        page.goto(server.url + "/coaching?period=month&at=2025-03-20")
        assert "Worse in several departments at once" in page.locator("#called-out").inner_text()
        page.screenshot(path=str(ARTIFACTS / "coach-web-trends.png"), full_page=True)
        pdf = page.request.get(server.url + "/coaching/agents/a103/report.pdf?at=2025-03-20")
        assert pdf.ok and pdf.body()[:5] == b"%PDF-"

        agent = browser.new_page()
        agent.goto(server.url + "/login")
        agent.fill("input[name=username]", "sarah")
        agent.fill("input[name=password]", password("sarah"))
        agent.click("form[action='/login'] button[type=submit]")
        agent.wait_for_url("**/queue**")
        assert agent.goto(server.url + "/coaching/agents/a103").status == 404  # sarah's account is agent a001
        browser.close()
