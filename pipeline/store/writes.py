"""Every write to the database, in one place, each inside `Store.transaction()`.

The nightly run saves one call per transaction; a re-score saves many scorings in one; retention
purges words. A call's rows are replaced as a whole: a crash leaves the old rows or the new ones,
never half of each, and a re-run never duplicates anything.

Rows are built by pure functions (`call_frames`), so a worker that cannot reach the database (a
Dask worker on another machine) can write the same frames to a staging folder of Parquet files
(`stage_call`) and a single loader ingests them later (`load_staged`), idempotently.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from pipeline.records import CallResult, CallScore, printable
from pipeline.store.database import Store

CHILD_TABLES = ("utterances", "holds", "metrics", "redactions")
SCORE_TABLES = ("findings", "item_results", "call_scores")
CALL_TABLES = ("calls",) + CHILD_TABLES + SCORE_TABLES + ("scorecard_versions",)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


# --- rows (pure) --------------------------------------------------------------------------------

def _absolute(path: str) -> str:
    """A source path as absolute (recordings already are; an imported transcript's may be relative
    to wherever `callqa import` ran), so `callqa show` names a file from any directory."""
    return path if not path or os.path.isabs(path) else os.path.abspath(path)


def call_row(result: CallResult, run_id: str = "", now: datetime | None = None) -> dict:
    """The `calls` row of one result (`attempts` is counted when it is saved)."""
    meta = result.meta
    return {
        "call_id": printable(meta.call_id), "source_path": printable(_absolute(meta.path)), "file_sha256": result.file_sha256 or None,
        "agent_id": meta.agent_id or "unknown", "agent_name": meta.agent_name or None,
        "department": meta.department or None, "queue": meta.queue or None, "call_type": meta.call_type or None,
        "started_at": meta.started_at,
        "channel_layout": result.channel_layout or meta.channel_layout, "language": result.language or None,
        "duration_s": result.metrics.duration_s if result.metrics else None, "model": result.model or None,
        "status": "scored" if result.ok else "failed", "error": result.error,
        "permanent_failure": bool(result.error and result.permanent),
        "recordings_dir": printable(meta.recordings_dir) or None, "file_size": meta.file_size, "file_mtime": meta.file_mtime,
        "processed_at": now or _now(), "run_id": run_id or None, "recording_flags": list(result.flags),
    }


def score_rows(call_id: str, score: CallScore, now: datetime) -> dict[str, list[dict]]:
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
        "scorecard_versions": [
            {"scorecard_id": score.scorecard_id, "scorecard_version": score.scorecard_version,
             "item_ids": [r.item_id for r in score.items], "hold_limit_s": score.hold_limit_s, "first_scored_at": now}
        ],
    }


def call_frames(result: CallResult, run_id: str = "", now: datetime | None = None) -> dict[str, pd.DataFrame]:
    """Every row one call writes, table by table (a failed call has only its `calls` row)."""
    now = now or _now()
    call_id = result.meta.call_id
    frames = {"calls": pd.DataFrame([call_row(result, run_id, now)])}
    if not result.ok:
        return frames
    frames.update({
        "utterances": pd.DataFrame([
            {"call_id": call_id, "idx": i, "speaker": u.speaker, "start_s": u.start, "end_s": u.end,
             "text": u.text, "confidence": round(u.confidence, 3),
             "words": json.dumps([[w.text, w.start, w.end, w.probability] for w in u.words], ensure_ascii=False)}
            for i, u in enumerate(result.utterances)
        ]),
        "holds": pd.DataFrame([
            {"call_id": call_id, "hold_idx": h.index, "start_s": h.start, "end_s": h.end, "duration_s": round(h.duration, 2)}
            for h in result.holds
        ]),
        "metrics": pd.DataFrame([{"call_id": call_id, **asdict(result.metrics)}]) if result.metrics else pd.DataFrame(),
        "redactions": pd.DataFrame([
            {"call_id": call_id, "kind": r.kind, "speaker": r.speaker, "start_s": r.start, "end_s": r.end}
            for r in result.redactions
        ]),
    })
    if result.score is not None:
        frames.update({t: pd.DataFrame(rows) for t, rows in score_rows(call_id, result.score, now).items()})
    return frames


# --- writes -------------------------------------------------------------------------------------

def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    con.register("incoming", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    finally:
        con.unregister("incoming")


def _remember_versions(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> None:
    """Record scorecard versions not seen before (the first scoring's row stays)."""
    if frame.empty:
        return
    con.register("incoming", frame.drop_duplicates(["scorecard_id", "scorecard_version"]))
    try:
        con.execute("INSERT INTO scorecard_versions BY NAME SELECT * FROM incoming "
                    "ON CONFLICT (scorecard_id, scorecard_version) DO NOTHING")
    finally:
        con.unregister("incoming")


def _replace_call(con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> None:
    """Delete every row of the call in `frames`, then insert the frames (inside a transaction)."""
    calls = frames["calls"].copy()
    call_id = str(calls.call_id.iloc[0])
    previous = con.execute("SELECT attempts FROM calls WHERE call_id = ?", [call_id]).fetchone()
    calls["attempts"] = (previous[0] + 1) if previous else 1
    if previous:  # a call's rows are only ever written with its `calls` row: a new call has none
        for table in CHILD_TABLES + SCORE_TABLES + ("calls",):
            con.execute(f"DELETE FROM {table} WHERE call_id = ?", [call_id])
    _insert(con, "calls", calls)
    for table, frame in frames.items():
        if table == "scorecard_versions":
            _remember_versions(con, frame)
        elif table != "calls":
            _insert(con, table, frame)


def save_call(store: Store, result: CallResult, run_id: str = "") -> None:
    """Replace everything stored for this call with `result`, in one transaction."""
    frames = call_frames(result, run_id)
    with store.transaction() as con:
        _replace_call(con, frames)


def save_scores(store: Store, scores: dict[str, CallScore]) -> None:
    """Store new scorings of already-transcribed calls (a re-score), all in one transaction.

    Rows of the same scorecard version are replaced; other versions' results stay, so the
    scores of an old form remain comparable with the new one.
    """
    if not scores:
        return
    now = _now()
    rows: dict[str, list[dict]] = {table: [] for table in SCORE_TABLES + ("scorecard_versions",)}
    for call_id, score in scores.items():
        for table, table_rows in score_rows(call_id, score, now).items():
            rows[table].extend(table_rows)
    keys = pd.DataFrame(
        [{"call_id": c, "scorecard_id": s.scorecard_id, "scorecard_version": s.scorecard_version} for c, s in scores.items()]
    )
    with store.transaction() as con:
        con.register("rescored", keys)
        for table in SCORE_TABLES:
            con.execute(
                f"DELETE FROM {table} t USING rescored r WHERE t.call_id = r.call_id "
                "AND t.scorecard_id = r.scorecard_id AND t.scorecard_version = r.scorecard_version"
            )
        con.unregister("rescored")
        _remember_versions(con, pd.DataFrame(rows.pop("scorecard_versions")))
        for table, table_rows in rows.items():
            _insert(con, table, pd.DataFrame(table_rows))


QUOTED = r'"[^"]*"'
"""Words quoted in reasons ('agent said "..." at 0:05'): the agent's or customer's words."""


def purge_transcripts(store: Store, cutoff: datetime, now: datetime | None = None) -> tuple[list[dict], int]:
    """Delete the words of every call that started before `cutoff`; scores, metrics, holds stay.

    Words go wherever they were copied: utterances, the quoted text of findings, and the words
    quoted in item reasons and flag reasons. Returns the purged calls (call_id, source_path,
    recordings_dir, channel_layout) and how many utterances went.
    """
    now = now or _now()
    with store.transaction() as con:
        rows = con.execute(
            "SELECT call_id, source_path, recordings_dir, channel_layout FROM calls "
            "WHERE purged_at IS NULL AND coalesce(started_at, processed_at) < ? ORDER BY call_id",
            [cutoff],
        ).fetchall()
        rows = [dict(zip(("call_id", "source_path", "recordings_dir", "channel_layout"), r)) for r in rows]
        ids = [r["call_id"] for r in rows]
        if not ids:
            return [], 0
        utterances = con.execute("SELECT count(*) FROM utterances WHERE call_id IN (SELECT unnest(?))", [ids]).fetchone()[0]
        con.execute("DELETE FROM utterances WHERE call_id IN (SELECT unnest(?))", [ids])
        con.execute("UPDATE findings SET text = NULL WHERE call_id IN (SELECT unnest(?)) AND speaker IS NOT NULL", [ids])
        con.execute("UPDATE item_results SET reason = regexp_replace(reason, ?, '\"[purged]\"', 'g') "
                    "WHERE call_id IN (SELECT unnest(?))", [QUOTED, ids])
        con.execute("UPDATE call_scores SET flag_reasons = list_transform(flag_reasons, "
                    "lambda r: regexp_replace(r, ?, '\"[purged]\"', 'g')) WHERE call_id IN (SELECT unnest(?))", [QUOTED, ids])
        con.execute("UPDATE calls SET purged_at = ? WHERE call_id IN (SELECT unnest(?))", [now, ids])
    return rows, int(utterances)


# --- staging: results from workers that cannot reach the database -------------------------------

_READY = "READY"


def _stage_name(call_id: str) -> str:
    """A folder name for any call id (ids may hold any character): readable part + hash."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", call_id).lstrip(".")[:60]  # "." marks unfinished folders
    return f"c-{readable}-{hashlib.sha256(call_id.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}"


def _worker_tag() -> str:
    """This process among every worker that shares the staging folder: host and pid."""
    return f"{re.sub(r'[^A-Za-z0-9-]+', '-', socket.gethostname())}-{os.getpid()}"


_UNFINISHED = re.compile(r"^\.c-.+\.tmp$")


def clear_unfinished(staging: str | Path) -> int:
    """Remove the half-written folders of workers that died while staging (`.c-….tmp`).

    Call it only while no worker of the database's runs is staging (at the start of a run, under
    its lock): a live worker's folder would go too. Nothing else in the folder is touched.
    """
    staging, removed = Path(staging), 0
    if not staging.is_dir():
        return 0
    for folder in staging.iterdir():
        if _UNFINISHED.match(folder.name) and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def stage_call(result: CallResult, staging: str | Path, run_id: str = "") -> Path:
    """Write one call's rows as Parquet files into `staging/<call>/`, marked ready last.

    A worker writes here instead of the database; `load_staged` ingests it. Writing into a
    temporary folder and renaming it makes a half-written call invisible to the loader.
    """
    staging = Path(staging)
    target = staging / _stage_name(result.meta.call_id)
    temporary = staging / f".{target.name}.{_worker_tag()}.tmp"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    with duckdb.connect() as scratch:  # DuckDB writes the Parquet: no pyarrow needed
        for table, frame in call_frames(result, run_id).items():
            if not frame.empty:
                scratch.register("frame", frame)
                target_file = str(temporary / f"{table}.parquet").replace("'", "''")
                scratch.execute(f"COPY frame TO '{target_file}' (FORMAT parquet)")
                scratch.unregister("frame")
    (temporary / _READY).write_text("")
    if target.exists():
        shutil.rmtree(target)  # a newer result of the same call replaces an unloaded older one
    temporary.rename(target)
    return target


def load_staged(store: Store, staging: str | Path) -> int:
    """Ingest every ready staged call, one transaction each, then remove what was loaded.

    Idempotent: a call loaded twice (a crash between commit and clean-up) replaces itself.
    Only folders `stage_call` made are read or removed.
    """
    staging, loaded = Path(staging), 0
    if not staging.is_dir():
        return 0
    for folder in sorted(staging.iterdir()):
        if folder.name.startswith(".") or not (folder / _READY).is_file() or not (folder / "calls.parquet").is_file():
            continue
        with duckdb.connect() as scratch:
            frames = {t: scratch.read_parquet(str(folder / f"{t}.parquet")).df()
                      for t in CALL_TABLES if (folder / f"{t}.parquet").is_file()}
        with store.transaction() as con:
            _replace_call(con, frames)
        for table in CALL_TABLES:
            (folder / f"{table}.parquet").unlink(missing_ok=True)
        (folder / _READY).unlink()
        folder.rmdir()
        loaded += 1
    return loaded


# --- people: accounts, reviews and disputes (the reviewer workbench) ----------------------------
# Short transactions that change no machine rows and take no run lock: a reviewer's verdict gets
# in between two calls of a nightly run.

import uuid  # noqa: E402  (used only by the functions below)

ROLES = ("reviewer", "lead", "agent")
REVIEW_OUTCOMES = ("pass", "fail", "na")


class ReviewError(ValueError):
    """A review or dispute that cannot be saved as asked (unknown item, settled dispute, ...)."""


def add_user(store: Store, username: str, password_hash: str, role: str, agent_id: str | None = None,
             display_name: str | None = None) -> None:
    """Create an account (or replace its password, role and agent, enabling it again)."""
    if role not in ROLES:
        raise ReviewError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role == "agent" and not agent_id:
        raise ReviewError("an agent account needs the agent id whose calls it may see (--agent-id)")
    with store.transaction() as con:
        con.execute(
            "INSERT INTO users (username, password_hash, role, agent_id, display_name, disabled, created_at) "
            "VALUES (?, ?, ?, ?, ?, false, ?) ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash, "
            "role = excluded.role, agent_id = excluded.agent_id, display_name = excluded.display_name, disabled = false",
            [username, password_hash, role, agent_id, display_name, _now()],
        )


def set_user_disabled(store: Store, username: str, disabled: bool = True) -> bool:
    """Disable (or enable) an account; False when there is no such user."""
    with store.transaction() as con:
        found = con.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone()
        if found:
            con.execute("UPDATE users SET disabled = ? WHERE username = ?", [disabled, username])
    return bool(found)


def save_item_reviews(store: Store, call_id: str, scorecard_id: str, scorecard_version: str,
                      decisions: dict[str, tuple[str, str]], reviewer: str, reviewer_role: str = "reviewer",
                      dispute_id: str | None = None, con: duckdb.DuckDBPyConnection | None = None) -> list[str]:
    """Record a person's verdicts on items of one scored call: {item_id: (outcome, comment)}.

    Each verdict is a new `item_reviews` row carrying the machine's outcome of that item;
    `item_results` is never touched. Items must belong to that scoring. Returns the review ids.
    """
    for item_id, (outcome, _) in decisions.items():
        if outcome not in REVIEW_OUTCOMES:
            raise ReviewError(f"{item_id}: outcome must be one of {', '.join(REVIEW_OUTCOMES)}, not {outcome!r}")
    if con is None:
        with store.transaction() as own:
            return save_item_reviews(store, call_id, scorecard_id, scorecard_version, decisions, reviewer,
                                     reviewer_role, dispute_id, own)
    machine = dict(con.execute(
        "SELECT item_id, outcome FROM item_results WHERE call_id = ? AND scorecard_id = ? AND scorecard_version = ?",
        [call_id, scorecard_id, scorecard_version]).fetchall())
    unknown = sorted(set(decisions) - set(machine))
    if unknown:
        raise ReviewError(f"call {call_id!r} has no item {', '.join(unknown)} in {scorecard_id}@{scorecard_version}")
    now, ids = _now(), []
    rows = []
    for item_id, (outcome, comment) in decisions.items():
        review_id = uuid.uuid4().hex
        ids.append(review_id)
        rows.append({"review_id": review_id, "call_id": call_id, "scorecard_id": scorecard_id,
                     "scorecard_version": scorecard_version, "item_id": item_id, "machine_outcome": machine[item_id],
                     "outcome": outcome, "comment": (comment or "").strip() or None, "reviewer": reviewer,
                     "reviewer_role": reviewer_role, "reviewed_at": now, "dispute_id": dispute_id})
    _insert(con, "item_reviews", pd.DataFrame(rows))
    return ids


def open_dispute(store: Store, call_id: str, scorecard_id: str, scorecard_version: str, item_id: str,
                 reason: str, raised_by: str) -> str:
    """Dispute the reviewed result of one item; only reviewed items can be disputed, one open at a time."""
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("a dispute needs a reason")
    with store.transaction() as con:
        review = con.execute(
            "SELECT review_id, outcome FROM latest_item_reviews WHERE call_id = ? AND scorecard_id = ? "
            "AND scorecard_version = ? AND item_id = ?", [call_id, scorecard_id, scorecard_version, item_id]).fetchone()
        if review is None:
            raise ReviewError(f"{item_id} of {call_id} has not been reviewed: only a reviewed item can be disputed")
        if con.execute("SELECT 1 FROM disputes WHERE call_id = ? AND scorecard_id = ? AND scorecard_version = ? "
                       "AND item_id = ? AND status = 'open'", [call_id, scorecard_id, scorecard_version, item_id]).fetchone():
            raise ReviewError(f"{item_id} of {call_id} already has an open dispute")
        dispute_id = uuid.uuid4().hex
        con.execute(
            "INSERT INTO disputes (dispute_id, call_id, scorecard_id, scorecard_version, item_id, review_id, "
            "disputed_outcome, reason, raised_by, raised_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')",
            [dispute_id, call_id, scorecard_id, scorecard_version, item_id, review[0], review[1], reason, raised_by, _now()])
    return dispute_id


def resolve_dispute(store: Store, dispute_id: str, resolved_by: str, outcome: str, resolution: str) -> str:
    """A lead settles an open dispute with the item's outcome: a changed outcome is recorded as a
    new review by the lead (the disputed review stays); returns 'upheld' or 'rejected'."""
    if outcome not in REVIEW_OUTCOMES:
        raise ReviewError(f"outcome must be one of {', '.join(REVIEW_OUTCOMES)}, not {outcome!r}")
    with store.transaction() as con:
        row = con.execute("SELECT call_id, scorecard_id, scorecard_version, item_id, disputed_outcome, status "
                          "FROM disputes WHERE dispute_id = ?", [dispute_id]).fetchone()
        if row is None:
            raise ReviewError(f"no dispute {dispute_id!r}")
        call_id, scorecard_id, version, item_id, disputed, status = row
        if status != "open":
            raise ReviewError(f"dispute {dispute_id} is already {status}")
        status = "upheld" if outcome != disputed else "rejected"
        save_item_reviews(store, call_id, scorecard_id, version, {item_id: (outcome, resolution)}, resolved_by,
                          "lead", dispute_id, con)
        con.execute("UPDATE disputes SET status = ?, resolved_by = ?, resolved_at = ?, resolution = ?, resolved_outcome = ? "
                    "WHERE dispute_id = ?", [status, resolved_by, _now(), (resolution or "").strip() or None, outcome, dispute_id])
    return status


# --- coaching: generated history, the team roster, the coaching log (pipeline/coaching) ----------

def save_calls(store: Store, results: list[CallResult], run_id: str = "") -> None:
    """Replace everything stored for each of `results`, all in one transaction: the rows are the
    ones `save_call` writes (`call_frames`), so a generated history is stored as scoring stores a
    night's calls, only table by table for the whole batch instead of call by call (hundreds of
    calls in a second or two, not minutes)."""
    if not results:
        return
    now = _now()
    per_call = [call_frames(result, run_id, now) for result in results]
    tables = {table for frames in per_call for table in frames}
    batch = {table: pd.concat([f[table] for f in per_call if table in f and not f[table].empty], ignore_index=True)
             for table in tables if any(table in f and not f[table].empty for f in per_call)}
    calls = batch.pop("calls").drop_duplicates("call_id", keep="last")
    with store.transaction() as con:
        con.register("batch_calls", calls)
        try:
            previous = dict(con.execute("SELECT call_id, attempts FROM calls WHERE call_id IN "
                                        "(SELECT call_id FROM batch_calls)").fetchall())
            calls["attempts"] = [previous.get(c, 0) + 1 for c in calls.call_id]
            for table in CHILD_TABLES + SCORE_TABLES + ("calls",):
                con.execute(f"DELETE FROM {table} WHERE call_id IN (SELECT call_id FROM batch_calls)")
        finally:
            con.unregister("batch_calls")
        _insert(con, "calls", calls)
        for table, frame in batch.items():
            if "call_id" in frame.columns:
                _insert(con, table, frame)
            else:  # rows shared by many calls (a scorecard version): only those not stored yet
                keys = [c for c in frame.columns if c.endswith(("_id", "_version"))] or list(frame.columns)
                con.register("incoming", frame.drop_duplicates(keys))
                try:
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming ON CONFLICT DO NOTHING")
                finally:
                    con.unregister("incoming")


def save_roster(store: Store, rows: list[dict]) -> None:
    """Set the team and department of agents: {agent_id, agent_name, team, department, source}."""
    if not rows:
        return
    frame = pd.DataFrame(rows).drop_duplicates("agent_id", keep="last")
    with store.transaction() as con:
        con.register("roster", frame)
        try:
            con.execute("DELETE FROM agent_roster WHERE agent_id IN (SELECT agent_id FROM roster)")
            con.execute("INSERT INTO agent_roster BY NAME SELECT * FROM roster")
        finally:
            con.unregister("roster")


class CoachingError(ValueError):
    """A coaching session that cannot be recorded as given (no items, unknown agent, ...)."""


def add_coaching_session(store: Store, agent_id: str, session_date, items: list[str], coached_by: str,
                         goals: str = "", notes: str = "") -> str:
    """Record a coaching session (date, agent, items discussed, goals); returns its id.

    The agent must have scored calls and each item must be one of their calls' scorecard items,
    so a typo cannot create a session whose progress no report can ever show.
    """
    items = [i.strip() for i in items if i and i.strip()]
    if not items:
        raise CoachingError("name at least one scorecard item discussed")
    if not (coached_by or "").strip():
        raise CoachingError("say who coached (the lead's name)")
    with store.transaction() as con:
        if not con.execute("SELECT 1 FROM calls WHERE agent_id = ? AND status = 'scored' LIMIT 1", [agent_id]).fetchone():
            raise CoachingError(f"no scored calls of agent {agent_id!r}")
        known = {r[0] for r in con.execute(
            "SELECT DISTINCT i.item_id FROM item_results i JOIN calls c USING (call_id) WHERE c.agent_id = ?",
            [agent_id]).fetchall()}
        unknown = sorted(set(items) - known)
        if unknown:
            raise CoachingError(f"not an item of {agent_id}'s scorecards: {', '.join(unknown)} "
                                f"(one of: {', '.join(sorted(known))})")
        session_id = uuid.uuid4().hex
        con.execute(
            "INSERT INTO coaching_sessions (session_id, agent_id, session_date, items, goals, notes, coached_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [session_id, agent_id, session_date, items, (goals or "").strip() or None, (notes or "").strip() or None,
             coached_by.strip(), _now()])
    return session_id
