"""The product's database: one DuckDB file, written one call per transaction.

DuckDB lets one process hold a file open for writing and locks everyone else out, readers
included. So connections here are short-lived (opened per call saved, closed straight after)
and a locked file is retried with back-off: a reviewer's `callqa agents` during the nightly run
waits a moment instead of failing, and the run never holds the file between calls.
A call's rows are replaced inside one transaction: a crash leaves the old rows or the new ones,
never half of each, and a re-run never duplicates anything.
"""
from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional

import duckdb
import pandas as pd

from .records import CallResult, CallScore, Hold, Metrics, Utterance, Word

DEFAULT_DB = Path("data") / "callqa.duckdb"
SCHEMA = (Path(__file__).parent / "schema.sql").read_text()
_CHILD_TABLES = ("utterances", "holds", "metrics", "redactions")
_SCORE_TABLES = ("findings", "item_results", "call_scores")
_write_lock = threading.Lock()


class StoreBusy(RuntimeError):
    """Another process holds the database file for longer than we were willing to wait."""


class Store:
    """Reads and writes one callqa DuckDB file."""

    def __init__(self, path: str | Path = DEFAULT_DB, wait_s: float = 120.0, read_only: bool = False) -> None:
        """Open (and for writers, create or migrate) the database; readers never write to it."""
        self.path = Path(path)
        self.wait_s = wait_s
        if read_only:
            if not self.path.exists():
                raise FileNotFoundError(f"no callqa database at {self.path}: run `callqa score` first")
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.connect() as con:
            con.execute(SCHEMA)

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection, retried with back-off while another process holds the file."""
        deadline, delay = time.monotonic() + self.wait_s, 0.05
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only and self.path.exists())
                break
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                # another process holds the lock, or this process has it open for writing
                busy = "lock" in str(exc).lower() or "different configuration" in str(exc).lower()
                if not busy or time.monotonic() > deadline:
                    raise StoreBusy(
                        f"{self.path} is in use by another process (a scoring run?); "
                        f"gave up after {self.wait_s:.0f} s: {exc}"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
        try:
            yield con
        finally:
            con.close()

    # --- writing -----------------------------------------------------------------------------

    def save(self, result: CallResult, run_id: str = "") -> None:
        """Replace everything stored for this call with `result`, in one transaction."""
        meta, now = result.meta, datetime.now(timezone.utc).replace(tzinfo=None)
        call_row = {
            "call_id": meta.call_id, "source_path": meta.path, "file_sha256": result.file_sha256 or None,
            "agent_id": meta.agent_id or "unknown", "agent_name": meta.agent_name or None,
            "department": meta.department or None, "queue": meta.queue or None, "call_type": meta.call_type or None,
            "started_at": meta.started_at,
            "channel_layout": result.channel_layout or meta.channel_layout, "language": result.language or None,
            "duration_s": result.metrics.duration_s if result.metrics else None, "model": result.model or None,
            "status": "scored" if result.ok else "failed", "error": result.error,
            "processed_at": now, "run_id": run_id or None,
        }
        frames = self._frames(result, now) if result.ok else {}
        with _write_lock, self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                previous = con.execute("SELECT attempts FROM calls WHERE call_id = ?", [meta.call_id]).fetchone()
                call_row["attempts"] = (previous[0] + 1) if previous else 1
                for table in _CHILD_TABLES + _SCORE_TABLES + ("calls",):
                    con.execute(f"DELETE FROM {table} WHERE call_id = ?", [meta.call_id])
                self._insert(con, "calls", pd.DataFrame([call_row]))
                for table, frame in frames.items():
                    if not frame.empty:
                        self._insert(con, table, frame)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
        con.register("incoming", frame)
        try:
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        finally:
            con.unregister("incoming")

    @staticmethod
    def _frames(result: CallResult, now: datetime) -> dict[str, pd.DataFrame]:
        call_id = result.meta.call_id
        frames = {
            "utterances": pd.DataFrame([
                {"call_id": call_id, "idx": i, "speaker": u.speaker, "start_s": u.start, "end_s": u.end,
                 "text": u.text, "confidence": round(u.confidence, 3),
                 "words": json.dumps([[w.text, w.start, w.end, w.probability] for w in u.words], ensure_ascii=False)}
                for i, u in enumerate(result.utterances)
            ]),
            "holds": pd.DataFrame([
                {"call_id": call_id, "hold_idx": h.index, "start_s": h.start, "end_s": h.end,
                 "duration_s": round(h.duration, 2)}
                for h in result.holds
            ]),
            "metrics": pd.DataFrame([{"call_id": call_id, **asdict(result.metrics)}]) if result.metrics else pd.DataFrame(),
            "redactions": pd.DataFrame([
                {"call_id": call_id, "kind": r.kind, "speaker": r.speaker, "start_s": r.start, "end_s": r.end}
                for r in result.redactions
            ]),
        }
        if result.score is not None:
            frames.update({t: pd.DataFrame(r) for t, r in Store._score_rows(call_id, result.score, now).items()})
        return frames

    @staticmethod
    def _score_rows(call_id: str, score: CallScore, now: datetime) -> dict[str, list[dict]]:
        """The rows one scoring of one call writes, tagged with the scorecard's id and version."""
        version = {"call_id": call_id, "scorecard_id": score.scorecard_id, "scorecard_version": score.scorecard_version}
        return {
            "findings": [
                {**version, "item_id": f.item_id, "rule": f.rule, "speaker": f.speaker, "text": f.text,
                 "start_s": f.start, "end_s": f.end, "confidence": f.confidence, "hold_idx": f.hold_index}
                for f in score.findings
            ],
            "item_results": [
                {**version, "item_id": r.item_id, "section": r.section, "outcome": r.outcome,
                 "weight": r.weight, "auto_fail": r.auto_fail, "bonus": r.bonus, "reason": r.reason}
                for r in score.items
            ],
            "call_scores": [
                {**version, "score": score.score, "flagged": score.flagged, "band": score.band,
                 "flag_reasons": list(score.flag_reasons), "scored_at": now}
            ],
        }

    def save_scores(self, scores: dict[str, CallScore]) -> None:
        """Store new scorings of already-transcribed calls (a re-score), all in one transaction.

        Rows of the same scorecard version are replaced; other versions' results stay, so the
        scores of an old form remain comparable with the new one.
        """
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        rows: dict[str, list[dict]] = {table: [] for table in _SCORE_TABLES}
        for call_id, score in scores.items():
            for table, table_rows in self._score_rows(call_id, score, now).items():
                rows[table].extend(table_rows)
        keys = pd.DataFrame(
            [{"call_id": c, "scorecard_id": s.scorecard_id, "scorecard_version": s.scorecard_version} for c, s in scores.items()]
        )
        with _write_lock, self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                con.register("rescored", keys)
                for table in _SCORE_TABLES:
                    con.execute(
                        f"DELETE FROM {table} t USING rescored r WHERE t.call_id = r.call_id "
                        "AND t.scorecard_id = r.scorecard_id AND t.scorecard_version = r.scorecard_version"
                    )
                con.unregister("rescored")
                for table, table_rows in rows.items():
                    if table_rows:
                        self._insert(con, table, pd.DataFrame(table_rows))
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def transcribed_calls(self, since: Optional[datetime] = None) -> list[dict]:
        """Everything a re-score needs of each scored call, without its audio: utterances with
        their words, holds, metrics, language and applicability context."""
        where, params = "c.status = 'scored' AND c.purged_at IS NULL", []
        if since is not None:
            where += " AND coalesce(c.started_at, c.processed_at) >= ?"
            params.append(since)
        with self.connect(read_only=True) as con:
            calls = con.execute(
                f"SELECT call_id, language, duration_s, department, queue, call_type FROM calls c WHERE {where} ORDER BY call_id",
                params,
            ).df()
            utterances = con.execute(
                f"SELECT u.* FROM utterances u JOIN calls c USING (call_id) WHERE {where} ORDER BY call_id, idx", params
            ).df()
            holds = con.execute(f"SELECT h.* FROM holds h JOIN calls c USING (call_id) WHERE {where} ORDER BY call_id, hold_idx", params).df()
            metrics = con.execute(f"SELECT m.* FROM metrics m JOIN calls c USING (call_id) WHERE {where}", params).df()
        by_call = {row.call_id: {"call_id": row.call_id, "language": row.language or "en", "duration_s": row.duration_s or 0.0,
                                 "context": {"department": row.department or "", "queue": row.queue or "", "call_type": row.call_type or ""},
                                 "utterances": [], "holds": [], "metrics": None}
                   for row in calls.itertuples()}
        for row in utterances.itertuples():
            words = tuple(Word(w, float(a), float(b), float(p)) for w, a, b, p in json.loads(row.words or "[]"))
            by_call[row.call_id]["utterances"].append(Utterance(row.speaker, row.start_s, row.end_s, row.text, words))
        for row in holds.itertuples():
            by_call[row.call_id]["holds"].append(Hold(int(row.hold_idx), row.start_s, row.end_s))
        fields = Metrics.__dataclass_fields__
        for row in metrics.to_dict("records"):
            values = {k: (None if pd.isna(v) else v) for k, v in row.items() if k in fields}
            by_call[row["call_id"]]["metrics"] = Metrics(**values)
        return list(by_call.values())

    # --- reading -----------------------------------------------------------------------------

    def scored_call_ids(self) -> set[str]:
        """Calls already scored: a re-run skips them (failed calls are tried again)."""
        with self.connect(read_only=True) as con:
            return {row[0] for row in con.execute("SELECT call_id FROM calls WHERE status = 'scored'").fetchall()}

    def scored_hashes(self) -> dict[str, str]:
        """Content hash -> call id of every scored recording (the same audio is not scored twice)."""
        with self.connect(read_only=True) as con:
            rows = con.execute(
                "SELECT file_sha256, min(call_id) FROM calls WHERE status = 'scored' AND file_sha256 IS NOT NULL GROUP BY 1"
            ).fetchall()
        return dict(rows)

    @contextmanager
    def run_lock(self) -> Iterator[None]:
        """Hold the database for one scoring run; a second run refuses at once, saying who holds it.

        An OS file lock (released by the kernel even on kill -9), beside the database file.
        """
        lock_path = self.path.with_name(self.path.name + ".lock")
        handle = open(lock_path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StoreBusy(f"another callqa run is scoring into {self.path} ({holder}); run again when it has finished") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now():%Y-%m-%d %H:%M:%S}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run a read query (parameters bound, never formatted in) and return a DataFrame."""
        with self.connect(read_only=True) as con:
            return con.execute(sql, params or []).df()
