"""Clear errors and exit codes, through the real `callqa` command run from a fresh directory.

    0 done, 1 some calls failed, 2 usage mistake (one line on stderr, nothing created),
    3 the database is busy (one line).

Also where the database lives when no --db is given: $CALLQA_DB, else
$XDG_DATA_HOME/callqa/callqa.duckdb, shown in every command's --help.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES
from pipeline.store.database import Store

CALLQA = str(Path(sys.executable).with_name("callqa"))


@pytest.fixture()
def place(tmp_path):
    """An empty working directory, an empty HOME and data home, and some inputs beside them."""
    for name in ("cwd", "home", "inputs", "inputs/recordings"):
        (tmp_path / name).mkdir()
    shutil.copy(SAMPLES / "c02_no_name.mp3", tmp_path / "inputs" / "recordings" / "c02.mp3")
    (tmp_path / "inputs" / "a-file.wav").write_bytes(b"RIFF")
    (tmp_path / "inputs" / "bad.yaml").write_text(
        (ROOT / "scorecards" / "aidet.yaml").read_text().replace("weight: 10", "wieght: 10", 1).replace("id:", "idd:", 1)
    )
    (tmp_path / "inputs" / "not-a-db.duckdb").write_text("hello")
    return tmp_path


def _env(place: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CALLQA_DB", "XDG_DATA_HOME", "PREFECT_HOME")}
    env.update(HOME=str(place / "home"), XDG_DATA_HOME=str(place / "xdg"), COLUMNS="250",
               PREFECT_HOME=str(place / "prefect"))
    env.update(extra)
    return env


def callqa(place: Path, *args: str, env: dict | None = None, cwd: Path | None = None, timeout: int = 120):
    return subprocess.run([CALLQA, *args], cwd=cwd or place / "cwd", env=env or _env(place),
                          capture_output=True, text=True, timeout=timeout)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


USAGE_MISTAKES = {
    "missing folder": (["score", "{inputs}/nope"], "recordings folder not found"),
    "file, not a folder": (["score", "{inputs}/a-file.wav"], "not a folder"),
    "unknown model": (["score", "{inputs}/recordings", "--model", "no-such-model"], "no-such-model"),
    "invalid scorecard": (["score", "{inputs}/recordings", "--scorecard", "{inputs}/bad.yaml"], "bad.yaml:"),
    "missing scorecard": (["score", "{inputs}/recordings", "--scorecard", "{inputs}/nope.yaml"], "nope.yaml"),
    "missing manifest": (["score", "{inputs}/recordings", "--manifest", "{inputs}/nope.csv"], "manifest not found"),
    "--db is a folder": (["score", "{inputs}/recordings", "--model", "tiny.en", "--db", "{inputs}"], "is a directory"),
    "--db is not a database": (["score", "{inputs}/recordings", "--model", "tiny.en", "--db", "{inputs}/not-a-db.duckdb"],
                               "is not a DuckDB database file"),
    "--db under a file": (["score", "{inputs}/recordings", "--model", "tiny.en", "--db", "{inputs}/a-file.wav/x.duckdb"],
                          "not a folder"),
    "calls, missing --db": (["calls", "--db", "missing.duckdb"], "no callqa database at missing.duckdb"),
    "calls, --db not a database": (["calls", "--db", "{inputs}/not-a-db.duckdb"], "is not a DuckDB database file"),
    "show, no database": (["show", "unknown-id"], "no callqa database"),
    "agents, no database": (["agents"], "no callqa database"),
    "scorecard check, invalid": (["scorecard", "check", "{inputs}/bad.yaml"], "bad.yaml:"),
}


@pytest.mark.parametrize("case", list(USAGE_MISTAKES))
def test_usage_mistake_is_one_line_exit_2_and_creates_nothing(place, case):
    args, expected = USAGE_MISTAKES[case]
    inputs_before = _files(place / "inputs")
    run = callqa(place, *(a.format(inputs=place / "inputs") for a in args))
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert expected in lines[0]
    assert "Traceback" not in run.stdout + run.stderr
    assert _files(place / "cwd") == []  # no database, no lock files, no .prefect here
    assert not (place / "xdg").exists()  # the default database was not created either
    assert _files(place / "inputs") == [f for f in inputs_before]  # nothing beside a --db that was refused
    assert _files(place / "home") == [] and not (place / "prefect").exists()  # Prefect never started


def test_show_unknown_call_id_in_an_existing_database(place):
    db = place / "inputs" / "empty.duckdb"
    Store(db)
    before = _files(place / "inputs")
    run = callqa(place, "show", "unknown-id", "--db", str(db))
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"error: no call 'unknown-id' in {db}"]
    assert _files(place / "cwd") == [] and _files(place / "inputs") == before


def test_busy_database_is_exit_3_with_one_line(place):
    db = place / "inputs" / "busy.duckdb"
    store = Store(db)
    with store.run_lock():
        run = callqa(place, "score", str(place / "inputs" / "recordings"), "--db", str(db), "--model", "tiny.en")
    assert run.returncode == 3, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "another callqa run is writing to" in lines[0] and f"pid {os.getpid()}" in lines[0]
    assert "Traceback" not in run.stdout + run.stderr
    assert store.query("SELECT count(*) AS n FROM calls").n[0] == 0
    assert _files(place / "cwd") == []


def test_every_db_option_shows_the_default_database_in_help(place):
    """Each command with --db says where the database is when --db is not given: $CALLQA_DB, else
    $XDG_DATA_HOME/callqa/callqa.duckdb, with the path it resolves to here."""
    probe = r"""
import json, sys
from typer.main import get_command
from typer.testing import CliRunner
from flows.cli import app

root = get_command(app)
def walk(cmd, path):
    if hasattr(cmd, "commands"):  # a group
        for name, sub in cmd.commands.items():
            yield from walk(sub, path + [name])
    elif any("--db" in p.opts for p in cmd.params):
        yield path
out = {}
for path in walk(root, []):
    result = CliRunner().invoke(app, path + ["--help"])
    out[" ".join(path)] = result.output
print(json.dumps(out))
"""
    for env, expected in [
        (_env(place), place / "xdg" / "callqa" / "callqa.duckdb"),
        (_env(place, CALLQA_DB=str(place / "inputs" / "chosen.duckdb")), place / "inputs" / "chosen.duckdb"),
    ]:
        run = subprocess.run([sys.executable, "-c", probe], cwd=place / "cwd", env=env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        helps = json.loads(run.stdout)
        assert {"score", "serve", "calls", "show", "agents", "rescore", "compare", "retention"} <= set(helps)
        for command, text in helps.items():
            flat = re.sub(r"[\s│]+", "", text)  # rich wraps the help inside a box
            assert "$CALLQA_DB" in flat and "$XDG_DATA_HOME/callqa/callqa.duckdb" in flat, (command, text)
            assert re.sub(r"\s+", "", str(expected)) in flat, (command, text)
    assert not (place / "xdg").exists()


@pytest.mark.slow  # a flow run of its own (about 30 s): the fast tier has one end-to-end batch
def test_default_database_is_written_by_score_and_read_from_anywhere(place):
    """No --db: `callqa score` writes $XDG_DATA_HOME/callqa/callqa.duckdb; a folder with one bad
    recording exits 1 (the good one scores); `callqa calls` from another directory reads it."""
    recordings = place / "inputs" / "recordings"
    (recordings / "broken.wav").write_bytes(b"")
    run = callqa(place, "score", str(recordings), "--model", "tiny.en", timeout=300)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stdout + run.stderr
    default = place / "xdg" / "callqa" / "callqa.duckdb"
    assert default.is_file()
    assert f"Database: {default}" in run.stdout
    assert "scored 1, failed 1" in run.stdout
    assert _files(place / "cwd") == []

    elsewhere = place / "elsewhere"
    elsewhere.mkdir()
    calls = callqa(place, "calls", cwd=elsewhere)
    assert calls.returncode == 0, calls.stderr
    assert "c02" in calls.stdout and "broken" in calls.stdout and "empty" in calls.stdout
    assert _files(elsewhere) == []

    # $CALLQA_DB wins over the data home
    chosen = callqa(place, "calls", env=_env(place, CALLQA_DB=str(place / "inputs" / "nope.duckdb")), cwd=elsewhere)
    assert chosen.returncode == 2 and "nope.duckdb" in chosen.stderr
