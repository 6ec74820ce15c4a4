"""The one write path: transactions, locks, "busy" from the lock itself, staging for workers.

Real DuckDB files; other processes are real processes (the web app and remote workers to come
are other processes, so that is what the locks must hold against).
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from pipeline.ingest.transcripts import import_transcripts
from pipeline.store import reads, writes
from pipeline.store.database import NoDatabase, Store, StoreBusy

CALL = {
    "id": "s1", "language": "en", "agent_id": "a1",
    "turns": [
        {"speaker": "agent", "text": "Thank you for calling Contoso, my name is Sam.", "start_ms": 0, "duration_ms": 3000},
        {"speaker": "customer", "text": "Hi, my card is lost.", "start_ms": 3500, "duration_ms": 2000},
        {"speaker": "agent", "text": "I'll send a new card, it takes about five working days. Thank you, goodbye.", "start_ms": 6000, "duration_ms": 5000},
    ],
}
TABLES = ("calls", "utterances", "holds", "metrics", "findings", "item_results", "call_scores")


@pytest.fixture()
def result(tmp_path, scorecard):
    path = tmp_path / "calls.jsonl"
    path.write_text(json.dumps(CALL) + "\n")
    [scored] = import_transcripts(path, scorecard)
    return scored


def _counts(store: Store) -> dict[str, int]:
    return {t: int(store.query(f"SELECT count(*) AS n FROM {t}").n[0]) for t in TABLES}


def _hold_in_child(db, lock: str, seconds: float) -> subprocess.Popen:
    """Another process that holds one of the database's locks for `seconds`."""
    code = textwrap.dedent(f"""
        import sys, time
        from pipeline.store.database import Store
        store = Store({str(db)!r})
        if {lock!r} == "run":
            with store.run_lock():
                print("held", flush=True); time.sleep({seconds})
        else:
            with store.transaction():
                print("held", flush=True); time.sleep({seconds})
    """)
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    return child


def test_save_replaces_a_call_whole_and_counts_attempts(tmp_path, result):
    store = Store(tmp_path / "qa.duckdb")
    writes.save_call(store, result)
    first = _counts(store)
    writes.save_call(store, result)
    assert _counts(store) == first and first["calls"] == 1 and first["utterances"] == 3
    assert store.query("SELECT attempts FROM calls").attempts.tolist() == [2]


def test_a_failed_transaction_leaves_nothing_behind(tmp_path, result):
    store = Store(tmp_path / "qa.duckdb")
    writes.save_call(store, result)
    before = _counts(store)
    with pytest.raises(RuntimeError, match="mid-way"):
        with store.transaction() as con:
            con.execute("DELETE FROM utterances")
            raise RuntimeError("mid-way")
    assert _counts(store) == before


def test_readers_never_create_a_database(tmp_path):
    with pytest.raises(NoDatabase):
        Store(tmp_path / "missing.duckdb", read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_busy_is_told_by_the_lock_not_by_an_error_message(tmp_path, result):
    db = tmp_path / "qa.duckdb"
    Store(db)
    child = _hold_in_child(db, "write", 5)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusy, match="in use by another callqa process"):
            Store(db, wait_s=0.5).query("SELECT count(*) FROM calls")
        assert time.monotonic() - started < 4
        # a reader that waits long enough gets in once the writer lets go
        assert Store(db, wait_s=30).query("SELECT count(*) AS n FROM calls").n[0] == 0
    finally:
        child.wait(timeout=30)


def test_a_second_run_is_refused_but_short_writers_get_in_during_a_run(tmp_path, result):
    """The nightly run holds the run lock for hours; a reviewer's write must not wait for it."""
    db = tmp_path / "qa.duckdb"
    Store(db)
    child = _hold_in_child(db, "run", 8)
    try:
        store = Store(db, wait_s=5)
        with pytest.raises(StoreBusy, match="another callqa run"):
            with store.run_lock():
                pass
        writes.save_call(store, result)  # what the review app will do: a short transaction
        assert reads.scored_call_ids(store) == {"s1"}
    finally:
        child.kill()
        child.wait()


def test_staged_results_load_once_whatever_happens(tmp_path, result):
    """Workers without the database write Parquet; one loader ingests it, idempotently."""
    staging = tmp_path / "staging"
    folder = writes.stage_call(result, staging, run_id="w1")
    assert (folder / "READY").is_file()
    untouched = staging / "notes.txt"
    untouched.write_text("not ours")
    half = staging / ".s2-half.tmp"  # a worker that died while writing
    half.mkdir()
    store = Store(tmp_path / "qa.duckdb")
    assert writes.load_staged(store, staging) == 1
    loaded = _counts(store)
    assert loaded["calls"] == 1 and loaded["utterances"] == 3 and loaded["item_results"] > 0
    assert store.query("SELECT run_id FROM calls").run_id.tolist() == ["w1"]
    # the same call staged again (a retried worker) replaces itself; nothing doubles
    writes.stage_call(result, staging)
    assert writes.load_staged(store, staging) == 1
    assert _counts(store) == loaded
    assert untouched.read_text() == "not ours" and half.is_dir() and not folder.exists()


def test_odd_call_ids_stage_to_distinct_folders(tmp_path, result):
    from dataclasses import replace

    ids = ["a/b", "a_b", "../x", "[bold]x[/bold]", "é"]
    folders = {writes.stage_call(replace(result, meta=replace(result.meta, call_id=i)), tmp_path).name for i in ids}
    assert len(folders) == len(ids) and all("/" not in f and not f.startswith(".") for f in folders)
    store = Store(tmp_path / "qa.duckdb")
    assert writes.load_staged(store, tmp_path) == len(ids)
    assert sorted(store.query("SELECT call_id FROM calls").call_id) == sorted(ids)


def test_storage_faults_are_told_at_once_not_as_busy(tmp_path):
    from pipeline.store.database import StorageError

    corrupt = tmp_path / "corrupt.duckdb"
    corrupt.write_bytes(b"not a database" * 1000)
    folder = tmp_path / "a-folder.duckdb"
    folder.mkdir()
    for path, reason in ((corrupt, "not a valid DuckDB"), (folder, "is a directory")):
        started = time.monotonic()
        with pytest.raises(StorageError, match=reason):
            Store(path, wait_s=60)
        assert time.monotonic() - started < 5
    with pytest.raises(StorageError, match="cannot"):
        Store("/proc/callqa/qa.duckdb")  # a folder nobody can create, root included
    assert corrupt.read_bytes() == b"not a database" * 1000  # left as it was


def test_another_program_holding_the_file_is_busy_not_broken(tmp_path):
    db = tmp_path / "qa.duckdb"
    Store(db)
    code = f"import duckdb, time; con = duckdb.connect({str(db)!r}); print('held', flush=True); time.sleep(6)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusy, match="another program"):
            Store(db, wait_s=1).query("SELECT 1")
    finally:
        child.kill()
        child.wait()


def test_a_full_disk_mid_import_is_a_storage_fault_and_leaves_whole_calls(tmp_path):
    """The file-size limit stands in for a full disk: DuckDB cannot write its log mid-import."""
    import resource
    import signal
    from pathlib import Path

    db = tmp_path / "qa.duckdb"
    Store(db)
    calls = [json.dumps({"id": f"c{i}", "turns": [
        {"speaker": "agent" if j % 2 == 0 else "customer", "start_ms": j * 5000, "duration_ms": 4000,
         "text": f"thank you for calling contoso, my name is sam, this is line {j} of call {i} " * 5}
        for j in range(20)]}) for i in range(30)]
    (tmp_path / "big.jsonl").write_text("\n".join(calls) + "\n")
    limit = db.stat().st_size + 40_000

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    callqa = str(Path(sys.executable).with_name("callqa"))
    done = subprocess.run([callqa, "import", str(tmp_path / "big.jsonl"), "--db", str(db)], preexec_fn=small_disk,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 4, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "could not write" in done.stderr
    store = Store(db)  # opens again, and every call in it is whole
    calls_in, scored = (int(store.query(f"SELECT count(DISTINCT call_id) AS n FROM {t}").n[0]) for t in ("calls", "call_scores"))
    assert calls_in == scored and calls_in < 30


def test_a_rescore_checks_the_agents_name_as_scoring_did(tmp_path, result, scorecard):
    """The introduction heard ("Sam") against the manifest's name: a re-score flags a mismatch,
    as the nightly run does, and does not flag a match."""
    from dataclasses import replace

    from pipeline.rescore import rescore

    store = Store(tmp_path / "callqa.duckdb")
    writes.save_call(store, replace(result, meta=replace(result.meta, call_id="match", agent_name="Sam")))
    writes.save_call(store, replace(result, meta=replace(result.meta, call_id="mismatch", agent_name="Priyanka")))
    rescore(store, scorecard)
    reasons = dict(store.query("SELECT call_id, flag_reasons FROM call_scores").itertuples(index=False))
    assert not any("Priyanka" in r for r in reasons["match"])
    assert any("Priyanka" in r for r in reasons["mismatch"]), reasons["mismatch"]


def test_a_rescore_keeps_the_flags_the_recording_raised(tmp_path, result, scorecard):
    """Flags about the audio (identical channels, a guessed language) are no scorecard's doing:
    they stay on the call through a re-score, and an older database without the column reads."""
    from dataclasses import replace

    from pipeline.rescore import rescore

    store = Store(tmp_path / "callqa.duckdb")
    flag = "both channels carry the same audio: check the recording setup"
    writes.save_call(store, replace(result, flags=[flag], score=replace(result.score, flagged=True, flag_reasons=(flag,))))
    rescore(store, scorecard)
    assert store.query("SELECT flag_reasons FROM call_scores").flag_reasons[0].tolist() == [flag]
    with store.transaction() as con:
        con.execute("UPDATE calls SET recording_flags = NULL")  # written before the column existed
    rescore(store, scorecard)
    assert store.query("SELECT flagged FROM call_scores").flagged.tolist() == [False]
