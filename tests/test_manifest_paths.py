"""A manifest never stops a batch and never makes callqa read outside the recordings folder.

A row whose `file` is an absolute path outside the folder, climbs out of it, or names a device
is refused for that row alone (a failed call with the reason, or a warning without a call id);
the files it names are never opened. Unit tests on `discover()` and `plan_batch()`, then one
real `callqa score` run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import SAMPLES
from pipeline.ingest.recordings import discover, manifest_key, RefusedPath

CALLQA = str(Path(sys.executable).with_name("callqa"))

# --- every file this process opens, while watched --------------------------------------------

_OPENED: list[str] = []
_WATCHING = threading.Event()


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _WATCHING.is_set() and isinstance(args[0], (str, bytes, os.PathLike)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)  # cannot be removed: it records only while _WATCHING is set


@contextmanager
def opened_files():
    """The paths this process opened inside the block (builtins.open, io.open and os.open)."""
    _OPENED.clear()
    _WATCHING.set()
    try:
        yield _OPENED
    finally:
        _WATCHING.clear()


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture()
def layout(tmp_path):
    """recordings/ with a.wav, b.wav, sub/c.wav; outside/ beside it with a FIFO and a plain file.

    The FIFO makes any attempt to read it hang, so a test that finishes has not read it.
    """
    rec, outside = tmp_path / "recordings", tmp_path / "outside"
    (rec / "sub").mkdir(parents=True)
    outside.mkdir()
    for name in ("a.wav", "b.wav", "sub/c.wav"):
        (rec / name).write_bytes(b"RIFF")
    os.mkfifo(outside / "esc.wav")
    (outside / "plain.wav").write_bytes(b"RIFF")
    return rec, outside


def _write_manifest(rec: Path, rows: list[str]) -> None:
    (rec / "manifest.csv").write_text("file,call_id,agent_id\n" + "\n".join(rows) + "\n")


def _by_id(calls):
    return {c.call_id: c for c in calls}


# --- normal form of a row's file --------------------------------------------------------------


@pytest.mark.parametrize("name, key", [
    ("b.wav", "b.wav"), ("./b.wav", "b.wav"), ("sub//c.wav", "sub/c.wav"), ("sub/../a.wav", "a.wav"),
    ("./sub/./c.wav", "sub/c.wav"),
])
def test_relative_names_are_put_in_normal_form(tmp_path, name, key):
    assert manifest_key(name, tmp_path) == key


@pytest.mark.parametrize("name", ["../x.wav", "sub/../../x.wav", "..", ".", "/dev/zero", "/etc/passwd", "a\x00.wav"])
def test_names_leaving_the_folder_are_refused(tmp_path, name):
    with pytest.raises(RefusedPath):
        manifest_key(name, tmp_path)


def test_absolute_path_inside_the_folder_is_the_same_file(layout):
    rec, _ = layout
    assert manifest_key(str(rec / "sub" / "c.wav"), rec) == "sub/c.wav"
    assert manifest_key(str(rec) + "/./b.wav", rec) == "b.wav"
    link = rec.parent / "link-to-recordings"
    link.symlink_to(rec)  # the folder given through a link, the row with the real path: resolved
    assert manifest_key(str(rec / "a.wav"), link) == "a.wav"


# --- discover() -------------------------------------------------------------------------------


def test_refused_rows_fail_alone_with_their_reason_and_nothing_outside_is_opened(layout):
    rec, outside = layout
    _write_manifest(rec, [
        "./b.wav,,a002",                         # same as b.wav
        f"{rec}/sub/c.wav,,a003",                # absolute, inside: accepted
        f"{outside}/plain.wav,abs-row,a004",     # absolute, outside
        "../outside/esc.wav,esc-row,a005",       # climbs out
        "/dev/zero,dev-row,a006",                # a device
        "/dev/zero,,a007",                       # refused and no call id: a warning
        "a.wav,,a001",
    ])
    warnings: list[str] = []
    with opened_files() as opened:
        calls = discover(rec, warnings=warnings)
    assert any(p.endswith("manifest.csv") for p in opened)  # the watch works
    assert not [p for p in opened if p.startswith(str(outside)) or p.startswith("/dev/")], opened
    by_id = _by_id(calls)
    assert set(by_id) == {"a", "b", "sub/c", "abs-row", "esc-row", "dev-row"}
    assert by_id["b"].agent_id == "a002" and by_id["b"].problem is None
    assert by_id["sub/c"].agent_id == "a003" and by_id["sub/c"].problem is None
    assert by_id["a"].agent_id == "a001" and by_id["a"].problem is None
    assert "manifest.csv:4" in by_id["abs-row"].problem and "absolute path outside" in by_id["abs-row"].problem
    assert "manifest.csv:5" in by_id["esc-row"].problem and "outside the recordings folder" in by_id["esc-row"].problem
    assert "/dev/zero" in by_id["dev-row"].problem and by_id["dev-row"].agent_id == "a006"
    for refused in ("abs-row", "esc-row", "dev-row"):
        assert by_id[refused].path == str(rec)  # the folder itself: there is no file to read
        assert "not read" in by_id[refused].problem
    assert [w for w in warnings if "manifest.csv:7" in w and "no call_id" in w]
    assert [c.call_id for c in calls][-3:] == ["abs-row", "esc-row", "dev-row"]  # real files first


def test_same_file_listed_as_b_and_dot_slash_b_is_listed_twice(layout):
    rec, _ = layout
    _write_manifest(rec, ["b.wav,,a001", "./b.wav,,a002"])
    call = _by_id(discover(rec))["b"]
    assert call.problem and "listed twice" in call.problem


def test_a_refused_row_never_takes_a_real_recordings_call_id(layout):
    rec, outside = layout
    _write_manifest(rec, [f"{outside}/plain.wav,b,a009"])
    calls = [c for c in discover(rec) if c.call_id == "b"]
    assert calls[0].path == str(rec / "b.wav") and calls[0].problem is None  # plan_batch keeps the first


def test_links_out_of_the_folder_and_non_files_are_not_read(layout):
    rec, outside = layout
    (rec / "link.wav").symlink_to(outside / "plain.wav")
    (rec / "inner.wav").symlink_to(rec / "a.wav")  # a link that stays inside is fine
    os.mkfifo(rec / "pipe.wav")
    (rec / "folder.wav").mkdir()
    _write_manifest(rec, ["pipe.wav,,a001", "folder.wav,,a002", "outlink/x.wav,,a003"])
    (rec / "outlink").symlink_to(outside)
    with opened_files() as opened:
        by_id = _by_id(discover(rec))
    assert not [p for p in opened if "pipe.wav" in p or p.startswith(str(outside))], opened
    assert "outside the recordings folder" in by_id["link"].problem
    assert by_id["inner"].problem is None
    assert "not a regular file" in by_id["pipe"].problem
    assert "not a regular file" in by_id["folder"].problem
    assert "outside the recordings folder" in by_id["outlink/x"].problem


def test_plan_batch_reads_nothing_a_refused_row_names(layout, tmp_path):
    from pipeline.batch import plan_batch
    from pipeline.store.database import Store

    rec, outside = layout
    _write_manifest(rec, [f"{outside}/esc.wav,abs-fifo,a001", "../outside/esc.wav,esc-fifo,a002",
                          "/dev/zero,dev-row,a003"])
    store = Store(tmp_path / "plan.duckdb")
    with opened_files() as opened:
        plan = plan_batch(rec, store)
    assert not [p for p in opened if p.startswith(str(outside)) or p.startswith("/dev/")], opened
    todo = _by_id(plan.todo)
    assert {"abs-fifo", "esc-fifo", "dev-row"} <= set(todo)
    assert all(todo[c].problem for c in ("abs-fifo", "esc-fifo", "dev-row"))


# --- one real run -----------------------------------------------------------------------------


@pytest.mark.slow  # a flow run of its own (about 30 s): the fast tier has one end-to-end batch
def test_callqa_score_scores_the_good_rows_and_fails_each_refused_row(tmp_path):
    """Every other call scores, exit 1, the refused rows are failures with reasons, and the FIFOs
    outside the folder were never opened (opening one for reading would hang the run)."""
    import duckdb

    rec, outside, cwd = tmp_path / "recordings", tmp_path / "outside", tmp_path / "cwd"
    for folder in (rec, outside, cwd):
        folder.mkdir()
    shutil.copy(SAMPLES / "c02_no_name.mp3", rec / "good.mp3")
    os.mkfifo(outside / "abs.wav")
    os.mkfifo(outside / "esc.wav")
    _write_manifest(rec, [
        "./good.mp3,good,a001",
        f"{outside}/abs.wav,abs-row,a002",
        "../outside/esc.wav,esc-row,a003",
    ])
    db = tmp_path / "x.duckdb"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "COLUMNS": "250", "HOME": str(tmp_path / "home")}
    env.pop("CALLQA_DB", None)
    run = subprocess.run([CALLQA, "score", str(rec), "--db", str(db), "--model", "tiny.en"], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert "Traceback" not in run.stdout + run.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        rows = {r[0]: r[1:] for r in con.execute("SELECT call_id, status, agent_id, error FROM calls").fetchall()}
    assert set(rows) == {"good", "abs-row", "esc-row"}
    assert rows["good"][:2] == ("scored", "a001")
    assert rows["abs-row"][0] == "failed" and "absolute path outside the recordings folder" in rows["abs-row"][2]
    assert rows["esc-row"][0] == "failed" and "points outside the recordings folder" in rows["esc-row"][2]
    assert "scored 1, failed 2" in run.stdout
    assert not list(cwd.iterdir())
