"""The read commands through the real CLI on a real DuckDB file: per scorecard, --format, layout,
filters, show, versions and compare, help texts, and the run summary of `callqa score`.

The database is written by the real write path: `callqa import` of transcripts (no audio, so
the words are exact on any CPU), one failed recording saved by `writes.save_call` as the nightly
run saves it, and `callqa rescore` with the second scorecard.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipeline.records import CallMeta, CallResult
from pipeline.store.database import Store
from pipeline.store.reads import resolve_audio_path
from pipeline.store.writes import save_call

ROOT = Path(__file__).resolve().parent.parent
SOP = ROOT / "scorecards" / "sop.yaml"
AIDET = ROOT / "scorecards" / "aidet.yaml"
LONG_ID = "c07_no_closing_thanks_and_a_long_call_id"


def _turn(speaker: str, text: str, start_s: float, duration_s: float) -> dict:
    return {"speaker": speaker, "text": text, "start_ms": int(start_s * 1000), "duration_ms": int(duration_s * 1000)}


def _call(call_id: str, agent_id: str, name: str, day: str, back_s: float = 45.0,
          back: str = "Thanks for holding. I'll send a new card, it takes about five working days.",
          closing: str = "Thank you for calling, goodbye.") -> dict:
    """A call with one hold from 0:14 to `back_s`, what the agent says when back, and a closing."""
    return {"id": call_id, "agent_id": agent_id, "agent_name": name, "started_at": f"{day}T10:00:00", "language": "en",
            "turns": [
                _turn("agent", f"Good morning, thank you for calling Contoso Bank, my name is {name}.", 1, 4),
                _turn("customer", "Hi, I lost my card.", 6, 3),
                _turn("agent", "Sorry to hear that. Let me check your account, one moment please.", 10, 3.5),
                _turn("agent", back, back_s, 5),
                _turn("customer", "Great, thanks.", back_s + 6, 1),
                _turn("agent", closing, back_s + 8, 2),
            ]}


CALLS = [
    _call("c01_model_call", "a001", "Sarah", "2025-03-10"),
    _call("c05_long_hold", "a002", "Daniel", "2025-03-11", back_s=90.0),                       # a 76 s hold
    _call(LONG_ID, "a003", "Priya", "2025-03-12", closing="That's all done, goodbye now."),  # thank_you fails, not flagged
    _call("c06_hold_no_apology", "a003", "Priya", "2025-03-14",
          back="Okay, so I've found your account. I'll send a new card, it takes about five working days."),
]


def invoke(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def rows(*args: str) -> list[dict]:
    result = invoke(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


@pytest.fixture(scope="module")
def aidet_db(tmp_path_factory) -> Path:
    """Four imported calls (aidet) and one failed recording, in a real database."""
    folder = tmp_path_factory.mktemp("read")
    transcripts = folder / "calls.jsonl"
    transcripts.write_text("\n".join(json.dumps(c) for c in CALLS) + "\n", encoding="utf-8")
    db = folder / "callqa.duckdb"
    assert invoke("import", transcripts, "--db", db).exit_code == 0
    meta = CallMeta("c12_empty", str(folder / "c12_empty.wav"), "a001", "Sarah", started_at=datetime(2025, 3, 13, 9))
    save_call(Store(db), CallResult(meta=meta, error="empty file (0 bytes)"))
    return db


@pytest.fixture(scope="module")
def both_db(aidet_db, tmp_path_factory) -> Path:
    """The same calls after `callqa rescore --scorecard sop.yaml`: two scorecards in one database."""
    db = tmp_path_factory.mktemp("both") / "callqa.duckdb"
    shutil.copy(aidet_db, db)
    assert invoke("rescore", "--scorecard", SOP, "--db", db).exit_code == 0
    return db


# --- calls ----------------------------------------------------------------------------------------

def test_calls_have_date_agent_scorecard_and_why_and_failed_recordings_come_first(aidet_db):
    listed = rows("calls", "--db", aidet_db)
    assert listed[0]["call_id"] == "c12_empty" and listed[0]["status"] == "failed"
    assert listed[0]["why"] == "empty file (0 bytes)"
    by_id = {r["call_id"]: r for r in listed}
    assert by_id["c05_long_hold"]["date"].startswith("2025-03-11") and by_id["c05_long_hold"]["agent_name"] == "Daniel"
    assert {r["scorecard"] for r in listed if r["status"] == "scored"} == {"aidet"}
    assert "hold_within_standard" in by_id["c05_long_hold"]["why"] and by_id["c05_long_hold"]["flagged"] == "True"
    # not flagged, yet it failed an item: why says which
    assert by_id[LONG_ID]["flagged"] == "False" and by_id[LONG_ID]["why"].startswith("thank_you:")
    assert by_id["c01_model_call"]["why"] == ""


def test_calls_filters(both_db):
    ids = lambda *args: [r["call_id"] for r in rows("calls", "--db", both_db, *args)]  # noqa: E731
    assert ids("--failed") == ["c12_empty"]
    assert ids("--since", "2025-03-12", "--until", "2025-03-12") == [LONG_ID]
    assert set(ids("--since", "2025-03-12")) == {LONG_ID, "c06_hold_no_apology", "c12_empty"}
    assert ids("--item", "hold_thanked") == ["c06_hold_no_apology"]
    assert set(ids("--agent", "priya")) == {LONG_ID, "c06_hold_no_apology"} == set(ids("--agent", "a003"))
    assert ids("--flagged") == ["c05_long_hold"]
    sop = rows("calls", "--db", both_db, "--scorecard", "sop")
    assert {r["scorecard"] for r in sop if r["status"] == "scored"} == {"sop"} and len(sop) == 5
    assert {r["scorecard"] for r in rows("calls", "--db", both_db, "--scorecard", SOP)} == {"sop", ""}
    unknown = invoke("calls", "--db", both_db, "--scorecard", "nope")
    assert unknown.exit_code == 2 and "aidet, sop" in unknown.stderr


def test_the_limit_never_hides_a_failed_recording(aidet_db):
    result = invoke("calls", "--db", aidet_db, "--limit", "1")
    assert "c12_empty" in result.stdout and "1 of 5 rows shown" in result.stderr


def test_two_scorecards_are_not_mixed(both_db):
    default = rows("calls", "--db", both_db)
    assert len(default) == 5 and {r["scorecard"] for r in default if r["scorecard"]} == {"aidet"}
    every = rows("calls", "--db", both_db, "--scorecard", "all")
    assert len(every) == 9 and sorted({r["scorecard"] for r in every if r["scorecard"]}) == ["aidet", "sop"]
    table = invoke("calls", "--db", both_db).stdout
    assert table.count("c06_hold_no_apology") == 1 and "scorecard" not in table.splitlines()[1]
    assert "scorecard" in invoke("calls", "--db", both_db, "--scorecard", "all").stdout.splitlines()[1]
    shown = json.loads(invoke("show", "c06_hold_no_apology", "--db", both_db, "--format", "json").stdout)
    assert [i["weight"] for i in shown["items"] if i["item_id"] == "hold_thanked"] == [10]
    assert len(shown["holds"]) == 1
    sop = json.loads(invoke("show", "c06_hold_no_apology", "--db", both_db, "--scorecard", "sop", "--format", "json").stdout)
    assert [i["weight"] for i in sop["items"] if i["item_id"] == "hold_thanked"] == [15]
    assert {s["scorecard_id"] for s in sop["scores"]} == {"sop"}


# --- standards from the scorecard version ---------------------------------------------------------

def test_holds_over_the_limit_use_the_scorecards_own_limit(both_db, tmp_path):
    def over(db):
        cards = json.loads(invoke("agents", "--db", db, "--agent", "Daniel", "--format", "json").stdout)["scorecards"]
        return [(c["hold_limit_s"], c["holds_over_limit"]) for c in cards]

    assert over(both_db) == [(60.0, 1)]
    relaxed = tmp_path / "aidet.yaml"
    relaxed.write_text(AIDET.read_text(encoding="utf-8").replace("max_s: 60", "max_s: 90"), encoding="utf-8")
    db = tmp_path / "callqa.duckdb"
    shutil.copy(both_db, db)
    assert invoke("rescore", "--scorecard", relaxed, "--db", db).exit_code == 0
    assert over(db) == [(90.0, 0)]  # the newest aidet version allows 90 s: the 76 s hold is within it
    sop = json.loads(invoke("agents", "--db", db, "--agent", "a002", "--scorecard", "sop", "--format", "json").stdout)
    assert [(c["hold_limit_s"], c["holds_over_limit"]) for c in sop["scorecards"]] == [(60.0, 1)]


def test_a_database_from_before_scorecard_versions_is_migrated_by_a_reader(aidet_db, tmp_path):
    db = tmp_path / "old.duckdb"
    shutil.copy(aidet_db, db)
    with duckdb.connect(str(db)) as con:  # as an earlier callqa left it: neither table
        con.execute("DROP TABLE scorecard_versions")
        con.execute("DROP TABLE callqa_schema")
    cards = json.loads(invoke("agents", "--db", db, "--agent", "a002", "--format", "json").stdout)["scorecards"]
    assert [(c["hold_limit_s"], c["holds_over_limit"]) for c in cards] == [(60.0, 1)]  # recovered from the reasons
    shown = json.loads(invoke("show", "c01_model_call", "--db", db, "--format", "json").stdout)
    from pipeline.scoring.scorecard import load_scorecard
    assert [i["item_id"] for i in shown["items"]] == [i.id for i in load_scorecard(AIDET).items]


# --- show -----------------------------------------------------------------------------------------

def test_show_absolute_audio_mss_holds_from_1_items_in_scorecard_order(aidet_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # another directory than the one the import ran in
    result = invoke("show", "c06_hold_no_apology", "--db", aidet_db)
    assert result.exit_code == 0
    audio = re.search(r"^audio (.+)$", result.stdout, re.M).group(1)
    assert os.path.isabs(audio) and Path(audio).is_file()
    holds = result.stdout.split("Holds\n", 1)[1].splitlines()
    assert holds[0].split()[:4] == ["hold", "start", "end", "duration"]
    assert holds[1].split()[:4] == ["1", "0:14", "0:45", "0:32"]
    hold_block = result.stdout.split("Holds\n", 1)[1].split("metrics:", 1)[0]
    assert not re.search(r"\d\.\d", hold_block)  # no raw seconds such as 21.89
    assert "handle time 0:" in result.stdout and "longest hold 0:32" in result.stdout
    from pipeline.scoring.scorecard import load_scorecard
    order = [i.id for i in load_scorecard(AIDET).items]
    shown = [line.split()[0] for line in result.stdout.split("Items (in the scorecard's order)\n", 1)[1].splitlines()[1:10]]
    assert shown == order
    document = invoke("show", "c06_hold_no_apology", "--db", aidet_db, "--format", "csv").stdout
    assert document.startswith("# call\n") and "\n# items\n" in document and "\n# transcript\n" in document


def test_an_old_relative_audio_path_is_resolved(tmp_path, monkeypatch):
    (tmp_path / "data" / "samples").mkdir(parents=True)
    (tmp_path / "data" / "samples" / "c01.ogg").write_bytes(b"x")
    monkeypatch.chdir(tmp_path / "data")
    database = tmp_path / "data" / "callqa.duckdb"
    assert resolve_audio_path("data/samples/c01.ogg", None, database) == str(tmp_path / "data" / "samples" / "c01.ogg")
    assert resolve_audio_path("/srv/rec/c01.ogg", None, database) == "/srv/rec/c01.ogg"


# --- agents, versions, compare --------------------------------------------------------------------

def test_agents_by_name_with_pass_rates_as_percentages_and_counts(aidet_db):
    document = json.loads(invoke("agents", "--db", aidet_db, "--agent", "Priya", "--format", "json").stdout)
    assert {c["agent_id"] for c in document["scorecards"]} == {"a003"}
    thank_you = [r for r in document["item_pass_rates"] if r["item_id"] == "thank_you"]
    assert [(r["pass_rate_pct"], r["applicable_calls"]) for r in thank_you] == [(50.0, 2)]
    table = invoke("agents", "--db", aidet_db, "--agent", "a003").stdout
    assert "50% (2)" in table and "100% (2)" in table


def test_versions_and_compare_with_a_wrong_version(both_db, tmp_path):
    listed = rows("versions", "--db", both_db, "--scorecard", "all")
    assert sorted(r["scorecard_id"] for r in listed) == ["aidet", "sop"]
    assert all(r["calls"] == "4" and r["first_scored"] and r["hold_limit_s"] == "60.0" for r in listed)
    aidet = next(r["scorecard_version"] for r in listed if r["scorecard_id"] == "aidet")
    wrong = invoke("compare", "aidet", "0000", aidet, "--db", both_db)
    assert wrong.exit_code == 2 and aidet in wrong.stderr and "4 calls" in wrong.stderr
    edited = tmp_path / "aidet.yaml"
    edited.write_text(AIDET.read_text(encoding="utf-8").replace("weight: 15", "weight: 20", 1), encoding="utf-8")
    db = tmp_path / "callqa.duckdb"
    shutil.copy(both_db, db)
    assert invoke("rescore", "--scorecard", edited, "--db", db).exit_code == 0
    versions = [r["scorecard_version"] for r in rows("versions", "--db", db)]
    assert len(versions) == 2 and aidet == versions[1]
    moved = rows("compare", "aidet", aidet[:6], versions[0][:6], "--db", db)
    assert {r["call_id"] for r in moved} == {c["id"] for c in CALLS}


def test_every_read_command_speaks_csv_and_json(both_db):
    version = rows("versions", "--db", both_db)[0]["scorecard_version"]
    commands = [["calls"], ["show", "c01_model_call"], ["agents"], ["versions"], ["users", "list"],
                ["compare", "aidet", version, version]]
    for command in commands:
        as_json = invoke(*command, "--db", both_db, "--format", "json")
        assert as_json.exit_code == 0, (command, as_json.output)
        json.loads(as_json.stdout)
        as_csv = invoke(*command, "--db", both_db, "--format", "csv")
        assert as_csv.exit_code == 0 and as_csv.stdout.strip(), command
        list(csv.reader(io.StringIO(as_csv.stdout)))


# --- table layout ---------------------------------------------------------------------------------

def test_piped_tables_are_plain_complete_rows(aidet_db):
    out = invoke("calls", "--db", aidet_db).stdout.splitlines()
    assert out[0] == "Calls (aidet)" and len(out) == 2 + 5  # title, header, one line per call
    assert sum(LONG_ID in line for line in out) == 1


@pytest.mark.parametrize("width", [80, 50])
def test_terminal_tables_fit_the_width_and_never_cut_an_id(aidet_db, width):
    env = {**os.environ, "TTY_COMPATIBLE": "1", "COLUMNS": str(width), "NO_COLOR": "1"}
    env.pop("TERM", None)  # a dumb terminal is taken as 80 columns whatever COLUMNS says
    for command, ids in ((["calls"], [LONG_ID, "c05_long_hold"]), (["agents"], ["a003", "2025-03-10"]),
                         (["show", LONG_ID], [LONG_ID, "hold_within_standard"])):
        done = subprocess.run([sys.executable, "-m", "flows.cli", *command, "--db", str(aidet_db)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        text = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout)
        assert max(len(line) for line in text.splitlines()) <= width
        assert all(i in text for i in ids), (command, text)


# --- help -----------------------------------------------------------------------------------------

def _commands(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, path + (name,))
    else:
        yield path, command


def test_every_option_has_help_and_usage_lines_read_plainly():
    import typer

    root = typer.main.get_command(app)
    found = list(_commands(root))
    assert {"calls", "show", "agents", "versions", "compare", "score", "serve"} <= {p[0] for p, _ in found}
    for path, command in found:
        context = root.context_class(command, info_name=" ".join(path))
        for param in command.get_params(context):
            assert param.help, f"callqa {' '.join(path)}: {param.name} has no help text"
        shown = invoke(*path, "--help").stdout
        usage = next(line for line in shown.splitlines() if "Usage:" in line)
        assert "{" not in usage and "<bool>" not in shown, f"callqa {' '.join(path)}: {usage}"
    serve = invoke("serve", "--help").stdout
    for option in ("--manifest", "--agent-channel", "--language", "--retention-days", "--min-hold"):
        assert option in serve


# --- the summary of a run -------------------------------------------------------------------------

@pytest.mark.slow  # a real `callqa score` subprocess: Prefect's start-up is most of its ~30 s
def test_a_run_that_scores_nothing_says_so_and_times_the_whole_command(tmp_path):
    empty = tmp_path / "recordings"
    empty.mkdir()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "flows.cli", "score", str(empty), "--db", str(tmp_path / "db.duckdb")],
                          env=env, capture_output=True, text=True, timeout=300)
    waited = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "Nothing new to score" in done.stdout and "Run " not in done.stdout
    reported = float(re.search(r"in ([0-9.]+) s\.", done.stdout).group(1))
    assert waited * 0.6 <= reported <= waited


# --- the README's SQL -----------------------------------------------------------------------------

def readme_sql() -> list[str]:
    """The statements of the README's ```sql blocks."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, re.S)
    assert blocks, "the README has no SQL examples"
    return [s.strip() for block in blocks for s in block.split(";") if re.sub(r"--[^\n]*", "", s).strip()]


def test_the_readme_sql_runs_and_returns_rows_once_per_scorecard(aidet_db, both_db):
    statements = readme_sql()
    assert len(statements) >= 4
    for statement in statements:
        with duckdb.connect(str(aidet_db), read_only=True) as con:
            once = [str(row) for row in con.execute(statement).fetchall()]
        with duckdb.connect(str(both_db), read_only=True) as con:
            after_rescore = [str(row) for row in con.execute(statement).fetchall()]
        assert once, f"no rows on the demo-like database:\n{statement}"
        assert len(set(after_rescore)) == len(after_rescore), f"a row twice after a re-score:\n{statement}"
        assert set(once) <= set(after_rescore), statement
        if "'aidet'" in statement:  # one scorecard asked for: a second one adds nothing
            assert sorted(after_rescore) == sorted(once), f"doubled after a re-score:\n{statement}"
