"""The review app without a browser: reviews beside machine rows, final results, disputes,
calibration figures, and security (sign-in, CSRF, escaping, access, paths). Text calls only: no
Whisper, a few seconds in all."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pipeline.ingest.transcripts import import_transcripts
from pipeline.scoring.evaluate import cohen_kappa
from pipeline.store import reads, writes
from pipeline.store.database import Store
from pipeline.web import create_app
from pipeline.web.deps import csrf_protect
from pipeline.web.security import SignInLimiter
from pipeline.web.views import highlight, timeline, transcript_lines
from web_helpers import add_accounts, csrf, password, sign_in

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "<script>alert('x')</script>"


def _turns(agent_text: str, customer_text: str) -> list[dict]:
    return [
        {"speaker": "agent", "text": "Thank you for calling Contoso, my name is Sam.", "start_ms": 0, "duration_ms": 3000},
        {"speaker": "customer", "text": customer_text, "start_ms": 3500, "duration_ms": 2000},
        {"speaker": "agent", "text": agent_text, "start_ms": 6000, "duration_ms": 5000},
    ]


CALLS = [
    {"id": "t1", "language": "en", "agent_id": "a001", "agent_name": "Sarah", "department": "billing",
     "turns": _turns("I'll send a new card, it takes about five working days. Thank you, goodbye.", f"Hi {SCRIPT} my card is lost.")},
    {"id": "t2", "language": "en", "agent_id": "a002", "agent_name": "Dan <b>", "department": "support",
     "turns": _turns("Okay. Bye.", "My card is lost.")},
]


@pytest.fixture(scope="module")
def built_db(tmp_path_factory, scorecard):
    """Two text calls, t1 with a recording, and the accounts: built once, copied for each test."""
    tmp_path = tmp_path_factory.mktemp("web")
    path = tmp_path / "calls.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CALLS))
    database = tmp_path / "qa.duckdb"
    store = Store(database)
    for result in import_transcripts(path, scorecard):
        writes.save_call(store, result)
    audio = tmp_path / "recordings" / "t1.wav"
    audio.parent.mkdir()
    shutil.copy(ROOT / "data" / "samples" / "c08_mono.wav", audio)
    with store.transaction() as con:  # as if t1 came from a recording
        con.execute("UPDATE calls SET source_path = ?, channel_layout = 'mono' WHERE call_id = 't1'", [str(audio)])
    add_accounts(database)
    return database


@pytest.fixture()
def db(built_db, tmp_path):
    copy = tmp_path / "qa.duckdb"
    shutil.copy(built_db, copy)
    return copy


@pytest.fixture()
def app(db):
    return create_app(db, secret_key="k" * 40, limiter=SignInLimiter(per_user=3, per_client=100))


def client_as(app, username: str | None) -> TestClient:
    client = TestClient(app)
    if username:
        assert sign_in(client, username).status_code == 303
    return client


def machine_rows(db) -> list:
    return Store(db).query("SELECT * FROM item_results ORDER BY call_id, item_id").values.tolist()


def review_form(client, call_id: str, changes: dict[str, tuple[str, str]]) -> dict:
    """The call page's review form as a browser would post it: every item at its current value,
    `changes` applied."""
    page = client.get(f"/calls/{call_id}").text
    form = {"csrf_token": csrf(page)}
    form["scorecard_id"] = re.search(r'name="scorecard_id" value="([^"]+)"', page).group(1)
    form["scorecard_version"] = re.search(r'name="scorecard_version" value="([^"]+)"', page).group(1)
    for item in re.findall(r'name="outcome__([^"]+)" value="pass"', page):
        checked = re.search(rf'name="outcome__{item}" value="(\w+)" checked', page)
        form[f"outcome__{item}"] = checked.group(1) if checked else "na"
    for item, (outcome, comment) in changes.items():
        form[f"outcome__{item}"], form[f"comment__{item}"] = outcome, comment
    return form


# --- pure pieces ---------------------------------------------------------------------------------

def test_highlight_marks_quoted_words_and_keeps_the_rest():
    segments = highlight("Hi, thanks for calling Contoso.", [{"text": "thanks for calling", "item_id": "greeting"}])
    assert [(s.text, bool(s.finding)) for s in segments] == [("Hi, ", False), ("thanks for calling", True), (" Contoso.", False)]
    assert [s.text for s in highlight("no match here", [{"text": "absent"}])] == ["no match here"]


def test_timeline_lanes_cover_talk_holds_silence_and_redactions():
    utterances = [{"speaker": "agent", "start_s": 0, "end_s": 4, "text": "a", "idx": 0},
                  {"speaker": "customer", "start_s": 4, "end_s": 6, "text": "b", "idx": 1}]
    lanes = timeline(20, utterances, [{"hold_idx": 0, "start_s": 8, "end_s": 18}], [{"kind": "card", "start_s": 5, "end_s": 5.5}])
    assert [b.label for b in lanes["hold"]] == ["hold 1"] and lanes["hold"][0].x == 40.0
    assert [(b.start, b.end) for b in lanes["silence"]] == [(6, 8), (18, 20)]
    assert lanes["redacted"][0].label == "redacted card"
    lines = transcript_lines(utterances, [{"speaker": "agent", "start_s": 1, "text": "a", "item_id": "x"}])
    assert lines[0].segments[0].finding["item_id"] == "x" and not lines[1].findings


def test_cohen_kappa_matches_the_textbook():
    assert cohen_kappa(zip("AABBBA", "ABBBBA")) == pytest.approx(2 / 3)
    assert cohen_kappa([("pass", "pass")] * 4) is None  # one outcome throughout: undefined


# --- reviews beside the machine --------------------------------------------------------------------

def test_a_review_never_changes_machine_rows_and_final_results_say_which(app, db):
    before = machine_rows(db)
    machine = dict(Store(db).query("SELECT item_id, outcome FROM item_results WHERE call_id = 't1'").values.tolist())
    assert machine["introduce_name"] == "pass"
    client = client_as(app, "rita")
    response = client.post("/reviews/t1", data=review_form(client, "t1", {"introduce_name": ("fail", "said <i>Sam</i> too fast")}),
                           follow_redirects=False)
    assert response.status_code == 303
    assert machine_rows(db) == before  # machine rows untouched
    final = Store(db).query("SELECT item_id, outcome, source, machine_outcome, reviewer FROM final_item_results "
                            "WHERE call_id = 't1'").set_index("item_id")
    assert final.loc["introduce_name"].tolist() == ["fail", "review", "pass", "rita"]
    assert set(final.source) == {"review"}  # every item confirmed or changed
    reviewed = Store(db).query("SELECT * FROM item_reviews WHERE call_id = 't1' AND item_id = 'introduce_name'").iloc[0]
    assert (reviewed.reviewer, reviewed.machine_outcome, reviewed.outcome) == ("rita", "pass", "fail")
    assert reviewed.scorecard_id == "aidet" and reviewed.scorecard_version and reviewed.reviewed_at is not None
    page = client.get("/calls/t1?saved=1").text
    assert "said &lt;i&gt;Sam&lt;/i&gt; too fast" in page and "<i>Sam</i>" not in page
    # the reviewed call left the queue; the agent scorecard and item pass rates use the review
    assert "/calls/t1\"" not in client.get("/queue?show=all").text
    rates = reads.agent_scorecard_rows(Store(db), "week", "a001")[1].set_index("item_id")
    assert rates.loc["introduce_name", "pass_rate"] == 0.0 and rates.loc["introduce_name", "reviewed_calls"] == 1
    scores = Store(db).query("SELECT machine_score, score, reviewed FROM final_call_scores WHERE call_id = 't1'").iloc[0]
    assert scores.reviewed and scores.score < scores.machine_score


def test_an_agent_disputes_a_lead_resolves_and_history_stays(app, db):
    reviewer = client_as(app, "rita")
    reviewer.post("/reviews/t1", data=review_form(reviewer, "t1", {"thank_you": ("fail", "no thanks heard")}))
    agent = client_as(app, "sarah")
    page = agent.get("/calls/t1").text
    assert "Save review" not in page  # read-only for agents
    response = agent.post("/disputes", data={"csrf_token": csrf(page), "call_id": "t1", "scorecard_id": "aidet",
                                             "scorecard_version": re.search(r'name="scorecard_version" value="([^"]+)"', page).group(1),
                                             "item_id": "thank_you", "reason": "I said thank you at 0:10"}, follow_redirects=False)
    assert response.status_code == 303
    [dispute] = reads.dispute_list(Store(db), status="open").dispute_id
    # a reviewer may not resolve; a lead may
    assert reviewer.post(f"/disputes/{dispute}/resolve", data={"csrf_token": csrf(reviewer.get("/disputes").text),
                                                               "outcome": "pass", "resolution": "x"}).status_code == 403
    lead = client_as(app, "lena")
    response = lead.post(f"/disputes/{dispute}/resolve", data={"csrf_token": csrf(lead.get("/disputes").text),
                                                               "outcome": "pass", "resolution": "heard it at 0:10"},
                         follow_redirects=False)
    assert response.status_code == 303
    store = Store(db)
    resolved = reads.dispute(store, dispute)
    assert (resolved["status"], resolved["resolved_by"], resolved["resolved_outcome"]) == ("upheld", "lena", "pass")
    history = store.query("SELECT reviewer, outcome, dispute_id FROM item_reviews WHERE call_id = 't1' AND item_id = 'thank_you' "
                          "ORDER BY reviewed_at")
    assert history.reviewer.tolist() == ["rita", "lena"] and history.outcome.tolist() == ["fail", "pass"]
    assert store.query("SELECT outcome FROM final_item_results WHERE call_id = 't1' AND item_id = 'thank_you'").outcome[0] == "pass"
    assert "I said thank you at 0:10" in lead.get("/disputes?status=").text


def test_calibration_counts_agreement_and_eval_takes_reviews_as_labels(app, db):
    for name, change in (("rita", ("fail", "")), ("rob", ("pass", ""))):
        client = client_as(app, name)
        client.post("/reviews/t1", data=review_form(client, "t1", {"introduce_name": change}))
    page = client_as(app, "lena").get("/calibration").text
    assert "Machine vs reviewers" in page and "Two reviewers on the same call and item" in page
    assert "pass → fail × 1" in page
    pairs = reads.reviewer_pairs(Store(db))
    assert len(pairs) == len(set(pairs.item_id)) and {"rita", "rob"} == set(pairs.reviewer_a) | set(pairs.reviewer_b)
    from pipeline.cli.main import app as cli

    result = CliRunner().invoke(cli, ["eval", "--labels-from-reviews", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "reviewers' verdicts" in result.output and "introduce_name" in result.output


# --- security ------------------------------------------------------------------------------------

def test_every_page_and_the_audio_need_sign_in(app):
    client = TestClient(app)
    for path in ("/queue", "/calls/t1", "/audio/t1", "/calibration", "/scorecards", "/disputes"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_wrong_password_is_refused_and_failed_sign_ins_are_limited(app):
    client = TestClient(app)
    for _ in range(3):
        response = sign_in(client, "rita", "wrong password")
        assert response.status_code == 401 and "Wrong user name or password" in response.text
    blocked = sign_in(client, "rita")  # the right password, but too many failures just now
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    assert sign_in(TestClient(app), "rob").status_code == 303  # another user is not locked out


def test_session_cookie_is_httponly_and_samesite_and_disabled_users_are_out(app, db):
    client = TestClient(app)
    response = sign_in(client, "rita")
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert client.get("/queue").status_code == 200
    writes.set_user_disabled(Store(db), "rita")
    assert client.get("/queue", follow_redirects=False).status_code == 303
    assert sign_in(TestClient(app), "rita").status_code == 401


def test_every_form_post_checks_the_csrf_token(app):
    from pipeline.web.routers import audio, auth, calibration, calls, disputes, queue, scorecards

    routes = [r for m in (audio, auth, calibration, calls, disputes, queue, scorecards) for r in m.router.routes] + app.routes
    posts = [r for r in routes if "POST" in (getattr(r, "methods", None) or set())]
    assert {r.path for r in posts} >= {"/login", "/logout", "/reviews/{call_id:path}", "/disputes", "/disputes/{dispute_id}/resolve"}
    for route in posts:
        assert any(d.call is csrf_protect for d in route.dependant.dependencies), route.path
    client = client_as(app, "rita")
    form = review_form(client, "t1", {"greeting": ("fail", "")})
    response = client.post("/reviews/t1", data={**form, "csrf_token": "forged"})
    assert response.status_code == 403
    assert client.post("/login", data={"username": "rita", "password": password("rita")}).status_code == 403


def test_transcript_names_and_comments_are_escaped(app):
    client = client_as(app, "rita")
    page = client.get("/calls/t1").text
    assert SCRIPT not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    queue = client.get("/queue?show=all").text
    assert "Dan <b>" not in queue and "Dan &lt;b&gt;" in queue
    assert "script-src 'self'" in client.get("/queue").headers["content-security-policy"]


def test_an_agent_sees_only_their_own_calls(app):
    client = client_as(app, "sarah")  # a001
    assert client.get("/calls/t1").status_code == 200
    assert client.get("/calls/t2").status_code == 404
    assert client.get("/audio/t2").status_code == 404
    queue = client.get("/queue?show=all&reviewed=").text
    assert "/calls/t1" in queue and "/calls/t2" not in queue
    assert client.get("/calibration").status_code == 403
    assert client.post("/reviews/t1", data={"csrf_token": csrf(client.get("/calls/t1").text)}).status_code == 403


def test_audio_by_call_id_with_ranges_and_no_path_from_the_request(app, db):
    client = client_as(app, "rita")
    whole = client.get("/audio/t1")
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/wav"
    part = client.get("/audio/t1", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100 and part.headers["content-range"].startswith("bytes 0-99/")
    for sneaky in ("/audio/../../etc/passwd", "/audio/%2e%2e/%2e%2e/etc/passwd", "/audio//etc/passwd", "/audio/t1/../t2"):
        assert client.get(sneaky).status_code == 404, sneaky
    assert client.get("/audio/t2").status_code == 404  # an imported transcript has no recording
    with Store(db).transaction() as con:  # a stored path that is not an audio file is never served
        con.execute("UPDATE calls SET source_path = '/etc/passwd' WHERE call_id = 't1'")
    assert client.get("/audio/t1").status_code == 404


def test_users_cli_adds_lists_and_disables(db):
    from pipeline.cli.main import app as cli

    runner = CliRunner()
    added = runner.invoke(cli, ["users", "add", "zoe", "--role", "agent", "--agent-id", "a009", "--password-stdin",
                                "--db", str(db)], input="a long enough password\n")
    assert added.exit_code == 0, added.output
    assert runner.invoke(cli, ["users", "add", "x", "--role", "agent", "--password-stdin", "--db", str(db)],
                         input="a long enough password\n").exit_code == 2
    listed = runner.invoke(cli, ["users", "list", "--db", str(db)])
    assert "zoe" in listed.output and "a009" in listed.output and "argon" not in listed.output
    assert runner.invoke(cli, ["users", "disable", "zoe", "--db", str(db)]).exit_code == 0
    assert reads.user_account(Store(db), "zoe")["disabled"]
    assert runner.invoke(cli, ["users", "disable", "nobody", "--db", str(db)]).exit_code == 2
