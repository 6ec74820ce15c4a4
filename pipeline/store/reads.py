"""Named read queries: the one read layer the CLI, the web pages and the reports share.

Each function is one question a user asks of the database, answered with a DataFrame (or a
plain value). The views they read (`latest_scores`, `call_overview`, `agent_scorecards`, ...) are
defined in `schema.sql` and are the documented interface for other tools too.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

from pipeline.records import Hold, Metrics, Utterance, Word
from pipeline.store.database import Store


# --- what the nightly run needs -----------------------------------------------------------------

def scored_call_ids(store: Store) -> set[str]:
    """Calls already scored: a re-run skips them (failed calls are tried again)."""
    with store.connect(read_only=True) as con:
        return {row[0] for row in con.execute("SELECT call_id FROM calls WHERE status = 'scored'").fetchall()}


def known_recordings(store: Store) -> pd.DataFrame:
    """What the database knows of each call a run may meet again: status, file, hash, size, mtime."""
    return store.query(
        "SELECT call_id, status, source_path, file_sha256, file_size, file_mtime, "
        "coalesce(permanent_failure, false) AS permanent_failure FROM calls"
    )


def audio_call_ids(store: Store) -> set[str]:
    """Calls that came from recordings (not imported transcripts): an import never replaces them."""
    return set(store.query("SELECT call_id FROM calls WHERE coalesce(channel_layout, '') <> 'transcript'").call_id)


def scored_hashes(store: Store) -> dict[str, str]:
    """Content hash -> call id of every scored recording (the same audio is not scored twice)."""
    with store.connect(read_only=True) as con:
        rows = con.execute(
            "SELECT file_sha256, min(call_id) FROM calls WHERE status = 'scored' AND file_sha256 IS NOT NULL GROUP BY 1"
        ).fetchall()
    return dict(rows)


def transcribed_calls(store: Store, since: Optional[datetime] = None) -> list[dict]:
    """Everything a re-score needs of each scored call, without its audio: utterances with
    their words, holds, metrics, language, applicability context, the agent's name, and the flags
    the recording raised when it was transcribed (which no scorecard changes)."""
    where, params = "c.status = 'scored' AND c.purged_at IS NULL", []
    if since is not None:
        where += " AND coalesce(c.started_at, c.processed_at) >= ?"
        params.append(since)
    with store.connect(read_only=True) as con:
        calls = con.execute(
            f"SELECT call_id, coalesce(language, '') AS language, duration_s, department, queue, call_type, coalesce(agent_name, '') AS agent_name, "
            f"coalesce(recording_flags, []) AS recording_flags FROM calls c WHERE {where} ORDER BY call_id",
            params,
        ).df()
        utterances = con.execute(
            f"SELECT u.* FROM utterances u JOIN calls c USING (call_id) WHERE {where} ORDER BY call_id, idx", params
        ).df()
        holds = con.execute(f"SELECT h.* FROM holds h JOIN calls c USING (call_id) WHERE {where} ORDER BY call_id, hold_idx", params).df()
        metrics = con.execute(f"SELECT m.* FROM metrics m JOIN calls c USING (call_id) WHERE {where}", params).df()
    by_call = {row.call_id: {"call_id": row.call_id, "language": row.language or "en", "duration_s": row.duration_s or 0.0,
                             "context": {"department": row.department or "", "queue": row.queue or "", "call_type": row.call_type or ""},
                             "agent_name": row.agent_name or "", "flags": list(row.recording_flags),
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


# --- what people ask ----------------------------------------------------------------------------

def scorecard_ids(store: Store) -> list[str]:
    """The scorecards that have results in this database."""
    return list(store.query("SELECT DISTINCT scorecard_id FROM call_scores ORDER BY 1").scorecard_id)


def _agent_clause(column_id: str, column_name: str) -> str:
    """An agent filter that takes the id or the name (any case): a lead knows names."""
    return f"({column_id} = ? OR lower({column_name}) = lower(?))"


def agent_scorecards(store: Store, period: str, scorecard: Optional[str] = None, agent: Optional[str] = None) -> pd.DataFrame:
    """Per agent, day or week and scorecard: calls, average score, flags, handle time, holds (over
    the scorecard version's own hold limit)."""
    where, params = ["period = ?"], [period]
    if scorecard:
        where.append("scorecard_id = ?"); params.append(scorecard)
    if agent:
        where.append(_agent_clause("agent_id", "agent_name")); params += [agent, agent]
    return store.query(
        f"SELECT * EXCLUDE (period) FROM agent_scorecards WHERE {' AND '.join(where)} ORDER BY period_start, agent_id, scorecard_id",
        params)


def item_pass_rates(store: Store, period: str, scorecard: Optional[str] = None, agent: Optional[str] = None) -> pd.DataFrame:
    """Per agent, period, scorecard and item: the percentage of applicable calls that passed and how
    many calls that is; items in the scorecard's order."""
    where, params = ["r.period = ?"], [period]
    if scorecard:
        where.append("r.scorecard_id = ?"); params.append(scorecard)
    if agent:
        where.append(_agent_clause("r.agent_id", "n.agent_name")); params += [agent, agent]
    return store.query(
        f"""WITH names AS (SELECT agent_id, any_value(agent_name) AS agent_name FROM calls GROUP BY 1),
                 item_order AS (SELECT scorecard_id, unnest(item_ids) AS item_id, generate_subscripts(item_ids, 1) AS pos
                                FROM (SELECT scorecard_id, arg_max(item_ids, first_scored_at) AS item_ids
                                      FROM scorecard_versions GROUP BY 1))
            SELECT r.period_start, r.agent_id, n.agent_name, r.scorecard_id, r.item_id,
                   round(100 * r.pass_rate, 1) AS pass_rate_pct, r.applicable_calls
            FROM agent_item_pass_rates r LEFT JOIN names n USING (agent_id)
            LEFT JOIN item_order o USING (scorecard_id, item_id)
            WHERE {' AND '.join(where)}
            ORDER BY r.period_start, r.agent_id, r.scorecard_id, o.pos NULLS LAST, r.item_id""",
        params)


@dataclass(frozen=True)
class CallFilter:
    """What `callqa calls` lists; empty values filter nothing. `until` is inclusive (the whole day)."""

    flagged: bool = False
    failed: bool = False          # only recordings that could not be scored
    agent: Optional[str] = None   # id or name
    scorecard: Optional[str] = None
    item: Optional[str] = None    # only calls that failed this item
    since: Optional[datetime] = None
    until: Optional[datetime] = None


def why(error: Optional[str], flag_reasons, failed_items) -> str:
    """Why a call needs a look: a failed recording's error; else its flag reasons, then every failed
    item the flags do not already name (so an unflagged call that failed an item says which)."""
    listed = lambda value: list(value) if isinstance(value, (list, tuple, np.ndarray)) else []  # noqa: E731 (NULL arrives as NA)
    if isinstance(error, str) and error:
        return error
    reasons = [str(r) for r in listed(flag_reasons)]
    named = " ".join(reasons)
    for entry in listed(failed_items):
        item = str(entry).split(":", 1)[0]
        if not re.search(rf"(?<![\w]){re.escape(item)}(?![\w])", named):
            reasons.append(str(entry))
    return "; ".join(reasons)


def call_list(store: Store, flt: CallFilter = CallFilter(), limit: int = 200) -> tuple[pd.DataFrame, dict]:
    """Calls with date, agent, scorecard, score and why; failed recordings first (so a limit never
    hides them), then lowest score, newest. Returns the rows and counts of what matched
    (`matching`, `failed`) before the limit."""
    where, params = ["TRUE"], []
    if flt.flagged:
        where.append("s.flagged")
    if flt.failed:
        where.append("c.status = 'failed'")
    if flt.agent:
        where.append(_agent_clause("c.agent_id", "c.agent_name")); params += [flt.agent, flt.agent]
    if flt.scorecard:
        where.append("(s.scorecard_id = ? OR c.status = 'failed')"); params.append(flt.scorecard)
    if flt.item:
        where.append("list_contains(f.failed_ids, ?)"); params.append(flt.item)
    if flt.since is not None:
        where.append("coalesce(c.started_at, c.processed_at) >= ?"); params.append(flt.since)
    if flt.until is not None:
        where.append("coalesce(c.started_at, c.processed_at) < CAST(? AS DATE) + INTERVAL 1 DAY"); params.append(flt.until)
    frame = store.query(
        f"""WITH f AS (
                SELECT call_id, scorecard_id, scorecard_version,
                       list(item_id || ': ' || coalesce(reason, 'failed') ORDER BY rowid) AS failed_items,
                       list(item_id) AS failed_ids
                FROM item_results WHERE outcome = 'fail' GROUP BY ALL)
            SELECT c.call_id, coalesce(c.started_at, c.processed_at) AS date, c.agent_id, c.agent_name,
                   s.scorecard_id AS scorecard, s.scorecard_version, c.status, s.score, coalesce(s.flagged, false) AS flagged,
                   c.error, s.flag_reasons, f.failed_items, c.duration_s,
                   count(*) OVER () AS matching, count(*) FILTER (WHERE c.status = 'failed') OVER () AS matching_failed
            FROM calls c LEFT JOIN latest_scores s USING (call_id)
            LEFT JOIN f USING (call_id, scorecard_id, scorecard_version)
            WHERE {' AND '.join(where)}
            ORDER BY c.status = 'failed' DESC, s.score NULLS FIRST, date DESC, c.call_id, s.scorecard_id LIMIT ?""",
        params + [limit])
    counts = {"matching": int(frame.matching.iloc[0]) if len(frame) else 0,
              "failed": int(frame.matching_failed.iloc[0]) if len(frame) else 0}
    frame["why"] = [why(e, r, i) for e, r, i in zip(frame.error, frame.flag_reasons, frame.failed_items)]
    return frame.drop(columns=["error", "flag_reasons", "failed_items", "matching", "matching_failed"]), counts


def call_record(store: Store, call_id: str) -> pd.DataFrame:
    """The `calls` row of one call (empty when there is none)."""
    return store.query("SELECT * FROM calls WHERE call_id = ?", [call_id])


def _scorecard_clause(scorecard: Optional[str], column: str = "scorecard_id") -> tuple[str, list]:
    return (f" AND {column} = ?", [scorecard]) if scorecard else ("", [])


def call_latest_scores(store: Store, call_id: str, scorecard: Optional[str] = None) -> pd.DataFrame:
    """The call's newest score against each scorecard (or one)."""
    extra, params = _scorecard_clause(scorecard)
    return store.query(f"SELECT * FROM latest_scores WHERE call_id = ?{extra} ORDER BY scorecard_id", [call_id] + params)


def call_items(store: Store, call_id: str, scorecard: Optional[str] = None) -> pd.DataFrame:
    """Item results of the call's latest scoring(s), in the scorecard's order, with each reason."""
    extra, params = _scorecard_clause(scorecard, "r.scorecard_id")
    return store.query(
        f"""SELECT r.scorecard_id, r.item_id, r.outcome, r.weight, r.reason
            FROM item_results r JOIN latest_scores s USING (call_id, scorecard_id, scorecard_version)
            LEFT JOIN scorecard_versions v USING (scorecard_id, scorecard_version)
            WHERE call_id = ?{extra}
            ORDER BY r.scorecard_id, coalesce(list_position(v.item_ids, r.item_id), 1000), r.rowid""",
        [call_id] + params)


def call_findings(store: Store, call_id: str, scorecard: Optional[str] = None) -> pd.DataFrame:
    """Evidence of the call's latest scoring(s): who said what, when, how sure Whisper was."""
    extra, params = _scorecard_clause(scorecard, "f.scorecard_id")
    return store.query(
        "SELECT f.* FROM findings f JOIN latest_scores s USING (call_id, scorecard_id, scorecard_version) "
        f"WHERE call_id = ?{extra} ORDER BY start_s", [call_id] + params)


def call_holds(store: Store, call_id: str, scorecard: Optional[str] = None) -> pd.DataFrame:
    """The call's holds with what the agent did around them, per scorecard; `hold` numbers them
    from 1, as reasons do ("hold 1"), beside the stored 0-based `hold_idx`."""
    extra, params = _scorecard_clause(scorecard)
    return store.query(f"SELECT hold_idx + 1 AS hold, * FROM hold_details WHERE call_id = ?{extra} "
                       "ORDER BY scorecard_id, hold_idx", [call_id] + params)


def resolve_audio_path(source_path: Optional[str], recordings_dir: Optional[str], database: Path) -> Optional[str]:
    """A call's recording as an absolute path. New rows store it absolute; an old row's relative
    path was relative to wherever `callqa score` ran, so it is looked for there, beside the
    database and in the folder above it, first found wins (else taken from here)."""
    if not source_path or os.path.isabs(source_path):
        return source_path
    for base in (Path.cwd(), database.parent, database.parent.parent, Path(recordings_dir or ".").parent):
        candidate = (base / source_path).resolve()
        if candidate.exists():
            return str(candidate)
    return os.path.abspath(source_path)


def call_metrics(store: Store, call_id: str) -> pd.DataFrame:
    return store.query("SELECT * EXCLUDE (call_id) FROM metrics WHERE call_id = ?", [call_id])


def call_utterances(store: Store, call_id: str) -> pd.DataFrame:
    return store.query("SELECT * FROM utterances WHERE call_id = ? ORDER BY start_s, idx", [call_id])


def scorecard_versions(store: Store, scorecard_id: Optional[str] = None) -> pd.DataFrame:
    """Versions of each scorecard (or one) that have results, newest first: when each first and
    last scored, how many calls, its hold limit and how many items."""
    extra, params = _scorecard_clause(scorecard_id, "s.scorecard_id")
    return store.query(
        f"""SELECT s.scorecard_id, s.scorecard_version, coalesce(min(v.first_scored_at), min(s.scored_at)) AS first_scored,
                   max(s.scored_at) AS last_scored, count(DISTINCT s.call_id) AS calls,
                   any_value(v.hold_limit_s) AS hold_limit_s, any_value(len(v.item_ids)) AS items
            FROM call_scores s LEFT JOIN scorecard_versions v USING (scorecard_id, scorecard_version)
            WHERE TRUE{extra} GROUP BY 1, 2 ORDER BY s.scorecard_id, last_scored DESC""",
        params)


def resolve_version(store: Store, scorecard_id: str, given: str) -> Optional[str]:
    """The full version a user means by `given` (the version or a unique start of it), or None."""
    versions = [v for v in scorecard_versions(store, scorecard_id).scorecard_version if v.startswith(given)]
    return versions[0] if len(versions) == 1 else None


def predicted_items(store: Store, scorecard_id: str) -> pd.DataFrame:
    """call_id, item_id, outcome of each call's latest scoring with one scorecard (for evaluation)."""
    return store.query(
        """SELECT i.call_id, i.item_id, i.outcome
           FROM latest_scores s
           JOIN item_results i
             ON i.call_id = s.call_id AND i.scorecard_id = s.scorecard_id AND i.scorecard_version = s.scorecard_version
           WHERE s.scorecard_id = ?""",
        [scorecard_id],
    )


def compare_versions(store: Store, scorecard_id: str, old: str, new: str) -> pd.DataFrame:
    """Per call: the score under two versions of a scorecard, the change, and the items that moved."""
    return store.query(
        """
        WITH a AS (SELECT call_id, score FROM call_scores WHERE scorecard_id = ? AND scorecard_version = ?),
             b AS (SELECT call_id, score FROM call_scores WHERE scorecard_id = ? AND scorecard_version = ?),
             moved AS (
                SELECT ra.call_id, string_agg(ra.item_id || ' ' || ra.outcome || '→' || rb.outcome, ', ' ORDER BY ra.item_id) AS items_moved
                FROM item_results ra JOIN item_results rb USING (call_id, item_id)
                WHERE ra.scorecard_id = ? AND ra.scorecard_version = ? AND rb.scorecard_id = ? AND rb.scorecard_version = ?
                  AND ra.outcome <> rb.outcome
                GROUP BY ra.call_id)
        SELECT call_id, a.score AS old_score, b.score AS new_score, round(b.score - a.score, 1) AS change, items_moved
        FROM a JOIN b USING (call_id) LEFT JOIN moved USING (call_id)
        ORDER BY abs(coalesce(b.score - a.score, 0)) DESC, call_id
        """,
        [scorecard_id, old, scorecard_id, new, scorecard_id, old, scorecard_id, new],
    )


# --- the reviewer workbench (pipeline/web) --------------------------------------------------------
# Filters arrive from web forms: every value is bound as a parameter; sort keys and directions are
# looked up in fixed tables, never formatted into SQL.

from dataclasses import field  # noqa: E402  (used only by the workbench queries below)

REASON_KINDS = ("uncertain", "auto-fail", "item failed", "low score", "low confidence", "no agent speech", "other")
"""What a flag reason is about, for the queue's reason filter (from the text `score_call` writes)."""

_REASON_KIND_SQL = """list_distinct(list_transform(coalesce(s.flag_reasons, []), lambda r:
    CASE WHEN r LIKE 'uncertain%' THEN 'uncertain'
         WHEN r LIKE 'auto-fail%' THEN 'auto-fail'
         WHEN r LIKE 'score % below %' THEN 'low score'
         WHEN r LIKE 'low transcription confidence%' THEN 'low confidence'
         WHEN r LIKE 'no agent speech%' THEN 'no agent speech'
         WHEN regexp_matches(r, '^[A-Za-z0-9_]+: ') THEN 'item failed'
         ELSE 'other' END))"""

QUEUE_SORTS = {
    "priority": "uncertain {d}, flagged {d}, score {r} NULLS FIRST, call_time DESC, call_id",
    "score": "score {a} NULLS FIRST, call_id",
    "date": "call_time {a} NULLS LAST, call_id",
    "agent": "agent_id {a}, call_time DESC, call_id",
    "department": "department {a} NULLS LAST, call_time DESC, call_id",
}


@dataclass
class QueueFilter:
    """The queue's filters; empty values filter nothing. `reviewed`: '' (all), 'no' or 'yes'."""

    agent: str = ""
    department: str = ""
    item: str = ""
    reason: str = ""
    scorecard: str = ""
    date_from: Optional[datetime] = None
    date_to: Optional[datetime] = None  # inclusive: the whole day
    reviewed: str = "no"
    flagged_only: bool = True
    extra: dict = field(default_factory=dict)

    def where(self) -> tuple[str, list]:
        clauses, params = ["TRUE"], []
        if self.agent:
            clauses.append("q.agent_id = ?"); params.append(self.agent)
        if self.department:
            clauses.append("q.department = ?"); params.append(self.department)
        if self.scorecard:
            clauses.append("q.scorecard_id = ?"); params.append(self.scorecard)
        if self.reason:
            clauses.append("list_contains(q.reason_kinds, ?)"); params.append(self.reason)
        if self.item:
            clauses.append("q.call_id IN (SELECT i.call_id FROM item_results i WHERE i.item_id = ? "
                           "AND i.outcome IN ('fail', 'uncertain') AND i.scorecard_version = q.scorecard_version)")
            params.append(self.item)
        if self.date_from is not None:
            clauses.append("q.call_time >= ?"); params.append(self.date_from)
        if self.date_to is not None:
            clauses.append("q.call_time < CAST(? AS DATE) + INTERVAL 1 DAY"); params.append(self.date_to)
        return " AND ".join(clauses), params


_QUEUE_BASE = f"""
WITH reviewed AS (SELECT DISTINCT call_id, scorecard_id, scorecard_version FROM item_reviews),
q AS (
    SELECT c.call_id, c.agent_id, c.agent_name, c.department, coalesce(c.started_at, c.processed_at) AS call_time,
           c.duration_s, s.scorecard_id, s.scorecard_version, s.score, s.flagged, s.flag_reasons,
           {_REASON_KIND_SQL} AS reason_kinds,
           list_contains({_REASON_KIND_SQL}, 'uncertain') AS uncertain,
           r.call_id IS NOT NULL AS reviewed
    FROM calls c JOIN latest_scores s USING (call_id)
    LEFT JOIN reviewed r ON r.call_id = s.call_id AND r.scorecard_id = s.scorecard_id AND r.scorecard_version = s.scorecard_version
    WHERE c.status = 'scored'
)
"""


def review_queue(store: Store, flt: QueueFilter, sort: str = "priority", descending: bool = False,
                 limit: int = 50, offset: int = 0) -> tuple[pd.DataFrame, dict]:
    """The review queue: flagged and uncertain calls first (by default), each with why it was
    flagged, score, agent, department, date and scorecard; and counts over the filters
    (total, flagged, uncertain, reviewed, to review)."""
    where, params = flt.where()
    order = QUEUE_SORTS.get(sort, QUEUE_SORTS["priority"]).format(
        a="DESC" if descending else "ASC", d="ASC" if descending else "DESC", r="DESC" if descending else "ASC")
    listed = where
    if flt.flagged_only:
        listed += " AND q.flagged"
    if flt.reviewed == "no":
        listed += " AND NOT q.reviewed"
    elif flt.reviewed == "yes":
        listed += " AND q.reviewed"
    with store.connect(read_only=True) as con:
        rows = con.execute(
            _QUEUE_BASE + f"SELECT * EXCLUDE (reason_kinds) FROM q WHERE {listed} ORDER BY {order} LIMIT ? OFFSET ?",
            params + [int(limit), int(offset)]).df()
        counts = con.execute(
            _QUEUE_BASE + f"""SELECT count(*) AS calls, count(*) FILTER (WHERE flagged) AS flagged,
                   count(*) FILTER (WHERE uncertain) AS uncertain, count(*) FILTER (WHERE reviewed) AS reviewed,
                   count(*) FILTER (WHERE flagged AND NOT reviewed) AS to_review,
                   (SELECT count(*) FROM q WHERE {listed}) AS listed
                FROM q WHERE {where}""", params + params).fetchone()
    keys = ("calls", "flagged", "uncertain", "reviewed", "to_review", "listed")
    return rows, dict(zip(keys, (int(v or 0) for v in counts)))


def calibration_sample(store: Store, flt: QueueFilter, per_agent: int = 2, seed: str = "") -> pd.DataFrame:
    """Unflagged, unreviewed calls spread evenly across agents (`per_agent` each), for checking that
    the machine's passes hold up. The same `seed` (e.g. the ISO week) gives the same sample."""
    where, params = flt.where()
    with store.connect(read_only=True) as con:
        return con.execute(
            _QUEUE_BASE + f"""SELECT * EXCLUDE (reason_kinds, rn) FROM (
                SELECT q.*, row_number() OVER (PARTITION BY agent_id ORDER BY hash(call_id || ?), call_id) AS rn
                FROM q WHERE {where} AND NOT q.flagged AND NOT q.reviewed)
              WHERE rn <= ? ORDER BY agent_id, call_time DESC""",
            [seed] + params + [int(per_agent)]).df()


def queue_choices(store: Store) -> dict[str, list[str]]:
    """Values for the queue's filter menus: agents, departments, scorecards, items."""
    with store.connect(read_only=True) as con:
        agents = con.execute("SELECT agent_id, any_value(agent_name) FROM calls WHERE status = 'scored' "
                             "GROUP BY 1 ORDER BY 1").fetchall()
        departments = [r[0] for r in con.execute(
            "SELECT DISTINCT department FROM calls WHERE department IS NOT NULL ORDER BY 1").fetchall()]
        scorecards = [r[0] for r in con.execute("SELECT DISTINCT scorecard_id FROM call_scores ORDER BY 1").fetchall()]
        items = [r[0] for r in con.execute("SELECT DISTINCT item_id FROM item_results ORDER BY 1").fetchall()]
    return {"agents": [(a, n or "") for a, n in agents], "departments": departments, "scorecards": scorecards,
            "items": items, "reasons": list(REASON_KINDS)}


def next_to_review(store: Store, after_call: str, agent: str = "") -> Optional[str]:
    """The next call a reviewer should open: the top of the default queue, other than `after_call`."""
    frame, _ = review_queue(store, QueueFilter(agent=agent), limit=2)
    ids = [c for c in frame.call_id if c != after_call]
    return ids[0] if ids else None


def user_account(store: Store, username: str) -> Optional[dict]:
    """One account (with its password hash), or None."""
    with store.connect(read_only=True) as con:
        cur = con.execute("SELECT * FROM users WHERE username = ?", [username])
        row = cur.fetchone()
        names = [d[0] for d in cur.description]
    return None if row is None else dict(zip(names, row))


def user_accounts(store: Store) -> pd.DataFrame:
    return store.query("SELECT username, role, agent_id, display_name, disabled, created_at FROM users ORDER BY username")


def call_agent(store: Store, call_id: str) -> Optional[str]:
    """The agent of a call (None when there is no such call): what access checks need."""
    frame = store.query("SELECT agent_id FROM calls WHERE call_id = ?", [call_id])
    return None if frame.empty else str(frame.agent_id.iloc[0])


def call_audio_source(store: Store, call_id: str) -> Optional[dict]:
    """Where a call's recording is (the stored absolute path) and whether retention purged it."""
    with store.connect(read_only=True) as con:
        row = con.execute("SELECT source_path, purged_at, agent_id FROM calls WHERE call_id = ?", [call_id]).fetchone()
    return None if row is None else dict(zip(("source_path", "purged_at", "agent_id"), row))


def call_redactions(store: Store, call_id: str) -> pd.DataFrame:
    return store.query("SELECT kind, speaker, start_s, end_s FROM redactions WHERE call_id = ? ORDER BY start_s", [call_id])


def call_final_items(store: Store, call_id: str) -> pd.DataFrame:
    """The items of the call's newest scoring(s), in the scorecard's order: the machine's outcome
    and reason, the final outcome and whether a person decided it, and open disputes."""
    return store.query(
        """SELECT f.*, s.score AS machine_score, o.rowid AS ord,
                  (SELECT count(*) FROM disputes d WHERE d.call_id = f.call_id AND d.scorecard_version = f.scorecard_version
                     AND d.item_id = f.item_id AND d.status = 'open') AS open_disputes
           FROM final_item_results f
           JOIN latest_scores s USING (call_id, scorecard_id, scorecard_version)
           JOIN (SELECT rowid, call_id, scorecard_id, scorecard_version, item_id FROM item_results WHERE call_id = ?) o
             USING (call_id, scorecard_id, scorecard_version, item_id)
           WHERE f.call_id = ? ORDER BY f.scorecard_id, ord""", [call_id, call_id])


def call_final_scores(store: Store, call_id: str) -> pd.DataFrame:
    return store.query("SELECT * FROM final_call_scores WHERE call_id = ? ORDER BY scorecard_id", [call_id])


def call_review_history(store: Store, call_id: str) -> pd.DataFrame:
    """Every verdict ever given on the call, newest first (nothing is overwritten)."""
    return store.query("SELECT * FROM item_reviews WHERE call_id = ? ORDER BY reviewed_at DESC, item_id", [call_id])


def dispute_list(store: Store, status: str = "", agent: str = "", call_id: str = "") -> pd.DataFrame:
    """Disputes, open first then newest, with the call's agent."""
    where, params = ["TRUE"], []
    if status:
        where.append("d.status = ?"); params.append(status)
    if agent:
        where.append("c.agent_id = ?"); params.append(agent)
    if call_id:
        where.append("d.call_id = ?"); params.append(call_id)
    return store.query(
        f"""SELECT d.*, c.agent_id, c.agent_name FROM disputes d JOIN calls c USING (call_id)
            WHERE {' AND '.join(where)} ORDER BY d.status <> 'open', d.raised_at DESC""", params)


def dispute(store: Store, dispute_id: str) -> Optional[dict]:
    frame = store.query("SELECT d.*, c.agent_id FROM disputes d JOIN calls c USING (call_id) WHERE dispute_id = ?", [dispute_id])
    return None if frame.empty else frame.astype(object).where(frame.notna(), None).iloc[0].to_dict()


_PER_REVIEWER = """
    SELECT * EXCLUDE (rn) FROM (
        SELECT r.*, row_number() OVER (PARTITION BY call_id, scorecard_id, scorecard_version, item_id, reviewer
                                       ORDER BY reviewed_at DESC, review_id DESC) AS rn
        FROM item_reviews r) WHERE rn = 1"""


def machine_review_pairs(store: Store, scorecard_id: str = "") -> pd.DataFrame:
    """Each reviewer's newest verdict on each item beside the machine's outcome (for agreement)."""
    where, params = ("WHERE scorecard_id = ?", [scorecard_id]) if scorecard_id else ("", [])
    return store.query(f"SELECT call_id, scorecard_id, item_id, reviewer, machine_outcome, outcome "
                       f"FROM ({_PER_REVIEWER}) {where} ORDER BY item_id, call_id", params)


def reviewer_pairs(store: Store, scorecard_id: str = "") -> pd.DataFrame:
    """Two reviewers' newest verdicts on the same item of the same call (each pair once)."""
    where, params = ("AND a.scorecard_id = ?", [scorecard_id]) if scorecard_id else ("", [])
    return store.query(
        f"""WITH p AS ({_PER_REVIEWER})
            SELECT a.call_id, a.scorecard_id, a.item_id, a.reviewer AS reviewer_a, a.outcome AS outcome_a,
                   b.reviewer AS reviewer_b, b.outcome AS outcome_b
            FROM p a JOIN p b ON a.call_id = b.call_id AND a.scorecard_id = b.scorecard_id
             AND a.scorecard_version = b.scorecard_version AND a.item_id = b.item_id AND a.reviewer < b.reviewer
            WHERE TRUE {where} ORDER BY a.item_id, a.call_id""", params)


def reviewed_labels(store: Store, scorecard_id: str) -> pd.DataFrame:
    """call_id, item_id, outcome of the newest review of each reviewed item, with the machine's
    outcome of that same scoring: reviews as labels for `callqa eval --labels-from-reviews`."""
    return store.query(
        "SELECT call_id, item_id, outcome, machine_outcome, scorecard_version FROM latest_item_reviews "
        "WHERE scorecard_id = ? ORDER BY call_id, item_id", [scorecard_id])


def agent_scorecard_rows(store: Store, period: str, agent: str = "") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agent scorecards and item pass rates (final results: reviewed where reviewed) for a page."""
    where, params = ("AND agent_id = ?", [agent]) if agent else ("", [])
    cards = store.query(f"SELECT * EXCLUDE (period) FROM agent_scorecards WHERE period = ? {where} "
                        "ORDER BY period_start DESC, agent_id", [period] + params)
    rates = store.query(f"SELECT * EXCLUDE (period) FROM agent_item_pass_rates WHERE period = ? {where} "
                        "ORDER BY period_start DESC, agent_id, item_id", [period] + params)
    return cards, rates


# === Coaching (pipeline/coaching): agent reports, team and department trends, log, exports ========
# Every figure of a coaching report, the web's coaching pages and `callqa export` is one of these
# queries, on final results (the newest review where a person decided, the machine's otherwise).
# Periods are half-open: `since` <= call time < `until`. A call's team is its agent's team in
# `agent_roster`, else its department.

_COACH_BASE = """
WITH cc AS (
    SELECT o.call_id, o.agent_id, o.agent_name, coalesce(o.department, r.department, '-') AS department,
           coalesce(r.team, r.department, o.department, '-') AS team, o.call_time,
           CAST(date_trunc('week', o.call_time) AS DATE) AS week, o.scorecard_id, o.scorecard_version,
           coalesce(fs.score, o.score) AS score, o.score AS machine_score, coalesce(fs.reviewed, false) AS reviewed,
           o.flagged, o.flag_reasons, o.duration_s
    FROM call_overview o
    LEFT JOIN final_call_scores fs USING (call_id, scorecard_id, scorecard_version)
    LEFT JOIN agent_roster r USING (agent_id)
    WHERE o.scorecard_id = ? AND o.call_time >= ? AND o.call_time < ?
)
"""

_COACH_CALLS = _COACH_BASE + """, levels AS (
    SELECT 'agent' AS level, * FROM cc WHERE agent_id = ?
    UNION ALL SELECT 'team' AS level, * FROM cc WHERE team = ?
    UNION ALL SELECT 'department' AS level, * FROM cc WHERE department = ?
)
"""


@dataclass(frozen=True)
class CoachScope:
    """Whose calls and which: the agent, the team and department they are compared with, the
    scorecard and the half-open period [since, until)."""

    scorecard_id: str
    agent_id: str
    team: str
    department: str
    since: datetime
    until: datetime

    def params(self) -> list:
        return [self.scorecard_id, self.since, self.until, self.agent_id, self.team, self.department]


def agent_profile(store: Store, agent_id: str) -> Optional[dict]:
    """An agent's name, team and department (the roster's, else their calls' most frequent
    department), their scorecards by use, and the times of their first and last scored calls."""
    with store.connect(read_only=True) as con:
        row = con.execute(
            """SELECT any_value(o.agent_name), any_value(r.team), coalesce(any_value(r.department), mode(o.department)),
                      min(o.call_time), max(o.call_time), count(DISTINCT o.call_id)
               FROM call_overview o LEFT JOIN agent_roster r USING (agent_id) WHERE o.agent_id = ?""", [agent_id]).fetchone()
        if row is None or not row[5]:
            return None
        cards = [r[0] for r in con.execute(
            "SELECT scorecard_id FROM call_overview WHERE agent_id = ? GROUP BY 1 ORDER BY count(*) DESC, 1", [agent_id]).fetchall()]
    name, team, department, first, last, calls = row
    department = department or "-"
    return {"agent_id": agent_id, "agent_name": name or "", "team": team or department, "department": department,
            "first_call": first, "last_call": last, "calls": int(calls), "scorecards": cards}


def coach_weekly_scores(store: Store, scope: CoachScope) -> pd.DataFrame:
    """Per week: calls and average final score of the agent, their team and their department."""
    return store.query(_COACH_CALLS + """
        SELECT level, week, count(*) AS calls, round(avg(score), 1) AS avg_score,
               count(*) FILTER (WHERE reviewed) AS reviewed_calls
        FROM levels GROUP BY level, week ORDER BY level, week""", scope.params())


def coach_item_rates(store: Store, scope: CoachScope) -> pd.DataFrame:
    """Per item: pass rate of the agent, the team and the department over the period, with the
    calls where the item applied (pass or fail), those passed, uncertain ones and reviewed ones."""
    return store.query(_COACH_CALLS + """
        SELECT l.level, f.item_id,
               count(*) FILTER (WHERE f.outcome IN ('pass', 'fail')) AS applicable_calls,
               count(*) FILTER (WHERE f.outcome = 'pass') AS passed,
               round(count(*) FILTER (WHERE f.outcome = 'pass')
                     / nullif(count(*) FILTER (WHERE f.outcome IN ('pass', 'fail')), 0), 3) AS pass_rate,
               count(*) FILTER (WHERE f.outcome = 'uncertain') AS uncertain_calls,
               count(*) FILTER (WHERE f.source = 'review') AS reviewed_calls
        FROM levels l JOIN final_item_results f USING (call_id, scorecard_id, scorecard_version)
        GROUP BY l.level, f.item_id ORDER BY l.level, f.item_id""", scope.params())


def coach_versions(store: Store, scorecard_id: str, since: datetime, until: datetime) -> pd.DataFrame:
    """The stored scorecard versions the period's calls were scored with, newest first: each
    version's items in its order, its hold limit and how many of the period's calls it scored.

    A coaching report takes its standards from here, as the `agent_scorecards` view does, not
    from whichever scorecard file is at hand: the calls were judged by the version stored with them."""
    return store.query(_COACH_BASE + """
        SELECT v.scorecard_version, any_value(v.item_ids) AS item_ids, any_value(v.hold_limit_s) AS hold_limit_s,
               any_value(v.first_scored_at) AS first_scored_at, count(DISTINCT cc.call_id) AS calls
        FROM cc JOIN scorecard_versions v USING (scorecard_id, scorecard_version)
        GROUP BY v.scorecard_version ORDER BY first_scored_at DESC NULLS LAST, v.scorecard_version""",
        [scorecard_id, since, until])


def coach_holds(store: Store, scope: CoachScope) -> pd.DataFrame:
    """Holds of the agent, the team and the department: count, average, longest, over the hold
    limit of the scorecard version each call was scored with (`scorecard_versions.hold_limit_s`,
    as in the `agent_scorecards` view; none over where a version has no limit), not announced,
    not thanked or apologised for."""
    return store.query(_COACH_CALLS + """
        SELECT l.level, count(DISTINCT l.call_id) AS calls, count(h.hold_idx) AS holds,
               round(avg(h.duration_s), 1) AS avg_hold_s, max(h.duration_s) AS longest_hold_s,
               count(h.hold_idx) FILTER (WHERE h.duration_s > v.hold_limit_s) AS holds_over_standard,
               count(h.hold_idx) FILTER (WHERE NOT h.announced) AS holds_unannounced,
               count(h.hold_idx) FILTER (WHERE NOT h.acknowledged) AS holds_without_apology
        FROM levels l LEFT JOIN hold_details h
          ON h.call_id = l.call_id AND h.scorecard_id = l.scorecard_id AND h.scorecard_version = l.scorecard_version
        LEFT JOIN scorecard_versions v ON v.scorecard_id = l.scorecard_id AND v.scorecard_version = l.scorecard_version
        GROUP BY l.level ORDER BY l.level""", scope.params())


def coach_metrics(store: Store, scope: CoachScope) -> pd.DataFrame:
    """Averages per call of the agent, the team and the department: handle time, speed of answer,
    talk/listen, agent talk share, silence share, dead air."""
    return store.query(_COACH_CALLS + """
        SELECT l.level, count(*) AS calls, round(avg(m.handle_time_s), 1) AS avg_handle_time_s,
               round(avg(m.time_to_answer_s), 1) AS avg_speed_of_answer_s,
               round(avg(m.talk_listen_ratio), 2) AS avg_talk_listen_ratio,
               round(avg(m.agent_talk_share), 3) AS avg_agent_talk_share,
               round(avg(m.silence_share), 3) AS avg_silence_share,
               CAST(coalesce(sum(m.dead_air_count), 0) AS INTEGER) AS dead_air,
               round(avg(m.dead_air_count), 2) AS dead_air_per_call
        FROM levels l LEFT JOIN metrics m USING (call_id)
        GROUP BY l.level ORDER BY l.level""", scope.params())


def coach_calls(store: Store, scope: CoachScope) -> pd.DataFrame:
    """The agent's calls of the period, best first (score, then newest), with flags."""
    return store.query(_COACH_CALLS + """
        SELECT call_id, call_time, score, machine_score, reviewed, flagged,
               array_to_string(flag_reasons, '; ') AS flag_reasons, duration_s
        FROM levels WHERE level = 'agent'
        ORDER BY score DESC NULLS LAST, call_time DESC, call_id""", scope.params())


def coach_failed_moments(store: Store, scope: CoachScope, items: list[str], per_item: int = 3) -> pd.DataFrame:
    """For each of `items`, the agent's newest calls of the period where it failed (final result),
    up to `per_item`, with the reason, the agent's utterances and the holds: where to look."""
    return store.query(_COACH_CALLS + """
        , failed AS (
            SELECT f.item_id, l.call_id, l.call_time, l.scorecard_id, l.scorecard_version, f.reason, f.source,
                   row_number() OVER (PARTITION BY f.item_id ORDER BY l.call_time DESC, l.call_id) AS rn
            FROM levels l JOIN final_item_results f USING (call_id, scorecard_id, scorecard_version)
            WHERE l.level = 'agent' AND f.outcome = 'fail' AND list_contains(?, f.item_id))
        SELECT x.item_id, x.call_id, x.call_time, x.reason, x.source,
               (SELECT list({'speaker': u.speaker, 'start_s': u.start_s, 'end_s': u.end_s, 'text': u.text} ORDER BY u.start_s)
                FROM utterances u WHERE u.call_id = x.call_id) AS utterances,
               (SELECT list({'start_s': h.start_s, 'end_s': h.end_s, 'duration_s': h.duration_s} ORDER BY h.hold_idx)
                FROM holds h WHERE h.call_id = x.call_id) AS holds
        FROM failed x WHERE x.rn <= ? ORDER BY x.item_id, x.call_time DESC""", scope.params() + [list(items), int(per_item)])


def coaching_log(store: Store, agent_id: str = "") -> pd.DataFrame:
    """Coaching sessions, newest first (one agent's, or everyone's)."""
    where, params = ("WHERE s.agent_id = ?", [agent_id]) if agent_id else ("", [])
    return store.query(
        f"""SELECT s.session_date, s.agent_id, r.agent_name, array_to_string(s.items, ', ') AS items, s.goals, s.notes,
                   s.coached_by, s.items AS item_list, s.session_id
            FROM coaching_sessions s LEFT JOIN agent_roster r USING (agent_id) {where}
            ORDER BY s.session_date DESC, s.created_at DESC""", params)


def coach_item_progress(store: Store, scorecard_id: str, agent_id: str, items: list[str], session_date,
                        until: datetime, before_days: int = 28) -> pd.DataFrame:
    """For items discussed in a coaching session: the agent's pass rate in the `before_days`
    before the session and since it (up to `until`), with the calls behind each."""
    return store.query(
        """WITH x AS (
               SELECT f.item_id, f.outcome, o.call_time >= CAST(? AS DATE) AS since
               FROM call_overview o JOIN final_item_results f USING (call_id, scorecard_id, scorecard_version)
               WHERE o.agent_id = ? AND o.scorecard_id = ? AND list_contains(?, f.item_id)
                 AND o.call_time >= CAST(? AS DATE) - to_days(CAST(? AS INTEGER)) AND o.call_time < ?)
           SELECT item_id,
                  count(*) FILTER (WHERE NOT since AND outcome IN ('pass', 'fail')) AS before_calls,
                  round(count(*) FILTER (WHERE NOT since AND outcome = 'pass')
                        / nullif(count(*) FILTER (WHERE NOT since AND outcome IN ('pass', 'fail')), 0), 3) AS before_rate,
                  count(*) FILTER (WHERE since AND outcome IN ('pass', 'fail')) AS since_calls,
                  round(count(*) FILTER (WHERE since AND outcome = 'pass')
                        / nullif(count(*) FILTER (WHERE since AND outcome IN ('pass', 'fail')), 0), 3) AS since_rate
           FROM x GROUP BY item_id ORDER BY item_id""",
        [session_date, agent_id, scorecard_id, list(items), session_date, int(before_days), until])


_GROUPINGS = {"department": "department", "team": "team"}


def item_trends(store: Store, scorecard_id: str, since: datetime, until: datetime, by: str = "department") -> pd.DataFrame:
    """Per department (or team), item and week: calls where the item applied, passed, pass rate."""
    column = _GROUPINGS.get(by, "department")
    return store.query(_COACH_BASE + f"""
        SELECT cc.{column} AS grp, f.item_id, cc.week,
               count(*) FILTER (WHERE f.outcome IN ('pass', 'fail')) AS applicable_calls,
               count(*) FILTER (WHERE f.outcome = 'pass') AS passed,
               round(count(*) FILTER (WHERE f.outcome = 'pass')
                     / nullif(count(*) FILTER (WHERE f.outcome IN ('pass', 'fail')), 0), 3) AS pass_rate
        FROM cc JOIN final_item_results f USING (call_id, scorecard_id, scorecard_version)
        GROUP BY ALL ORDER BY grp, f.item_id, cc.week""", [scorecard_id, since, until])


def topic_counts(store: Store, topics: dict[str, str], since: datetime, until: datetime) -> pd.DataFrame:
    """Per department and week: scored calls, and calls whose customer said words of each topic
    (`topics`: name -> regular expression over the customer's lower-cased words; a call counts once
    per topic). A department's week without any topic has one row with no topic; `calls_in_department`
    gives the share's base."""
    names, patterns = list(topics), [topics[n] for n in topics]
    return store.query(
        """WITH c AS (
               SELECT call_id, coalesce(department, '-') AS department, CAST(date_trunc('week', call_time) AS DATE) AS week
               FROM (SELECT DISTINCT call_id, department, call_time FROM call_overview)
               WHERE call_time >= ? AND call_time < ?),
           t AS (SELECT unnest(?) AS topic, unnest(?) AS pattern),
           hits AS (
               SELECT DISTINCT c.call_id, c.department, c.week, t.topic
               FROM c JOIN utterances u USING (call_id) JOIN t ON regexp_matches(lower(u.text), t.pattern)
               WHERE u.speaker = 'customer'),
           totals AS (SELECT department, week, count(*) AS calls_in_department FROM c GROUP BY ALL)
           SELECT totals.department, totals.week, hits.topic, count(hits.call_id) AS calls, any_value(totals.calls_in_department) AS calls_in_department
           FROM totals LEFT JOIN hits USING (department, week)
           GROUP BY ALL ORDER BY totals.department, totals.week, hits.topic""",
        [since, until, names, patterns])


def newest_call_time(store: Store, agent_id: str = "") -> Optional[datetime]:
    """The time of the newest scored call (of one agent, or anyone's): the default period of a
    coaching report or the trends is the one that holds it. None when nothing is scored."""
    where, params = ("WHERE agent_id = ?", [agent_id]) if agent_id else ("", [])
    with store.connect(read_only=True) as con:
        last = con.execute(f"SELECT max(call_time) FROM call_overview {where}", params).fetchone()[0]
    return last


def has_generated_calls(store: Store) -> bool:
    """Whether any call here was made by `callqa generate` (reports then say so on their first page)."""
    with store.connect(read_only=True) as con:
        return con.execute("SELECT 1 FROM calls WHERE channel_layout = 'generated' LIMIT 1").fetchone() is not None


def generated_call_count(store: Store, seed: int) -> int:
    """Calls of a generated history of this seed already stored (pipeline.coaching.generate)."""
    with store.connect(read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM calls WHERE run_id = ?", [f"generate-seed-{int(seed)}"]).fetchone()[0])


EXPORTS = {
    "calls": """
        SELECT c.call_id, c.agent_id, c.agent_name, coalesce(r.team, c.department) AS team, c.department, c.queue,
               c.call_type, coalesce(c.started_at, c.processed_at) AS call_time, c.duration_s, c.channel_layout,
               c.language, c.model, c.status, c.error, s.scorecard_id, s.scorecard_version,
               s.score AS machine_score, fs.score AS final_score, coalesce(fs.reviewed, false) AS reviewed, s.flagged,
               array_to_string(s.flag_reasons, '; ') AS flag_reasons, m.handle_time_s, m.time_to_answer_s,
               m.talk_listen_ratio, m.agent_talk_share, m.silence_share, m.dead_air_count, m.hold_count, m.hold_total_s,
               m.longest_hold_s
        FROM calls c LEFT JOIN latest_scores s USING (call_id)
        LEFT JOIN final_call_scores fs USING (call_id, scorecard_id, scorecard_version)
        LEFT JOIN metrics m USING (call_id) LEFT JOIN agent_roster r USING (agent_id)
        WHERE coalesce(c.started_at, c.processed_at) >= ? AND coalesce(c.started_at, c.processed_at) < ?
        ORDER BY call_time, c.call_id""",
    "item_results": """
        SELECT f.call_id, c.agent_id, c.department, coalesce(c.started_at, c.processed_at) AS call_time,
               f.scorecard_id, f.scorecard_version, f.item_id, f.section, f.machine_outcome, f.outcome AS final_outcome,
               f.source, f.reviewer, f.reviewed_at, f.review_comment, f.weight, f.auto_fail, f.bonus, f.reason
        FROM final_item_results f JOIN latest_scores s USING (call_id, scorecard_id, scorecard_version)
        JOIN calls c USING (call_id)
        WHERE coalesce(c.started_at, c.processed_at) >= ? AND coalesce(c.started_at, c.processed_at) < ?
        ORDER BY call_time, f.call_id, f.item_id""",
    "agent_scorecards": """
        SELECT a.*, r.team, r.department FROM agent_scorecards a LEFT JOIN agent_roster r USING (agent_id)
        WHERE a.period_start >= CAST(? AS DATE) AND a.period_start < ?
        ORDER BY a.period, a.period_start, a.agent_id, a.scorecard_id""",
}
"""What `callqa export` writes, one file per name: for BI tools, on final results beside the machine's."""


def export_table(store: Store, name: str, path: str, file_format: str, since: datetime, until: datetime) -> int:
    """Write one of `EXPORTS` to `path` as CSV (with a header) or Parquet (DuckDB COPY); returns
    the rows written."""
    options = {"csv": "(FORMAT csv, HEADER)", "parquet": "(FORMAT parquet)"}[file_format]
    target = str(path).replace("'", "''")
    with store.connect(read_only=True) as con:
        con.execute(f"COPY ({EXPORTS[name]}) TO '{target}' {options}", [since, until])
        return int(con.execute(f"SELECT count(*) FROM ({EXPORTS[name]})", [since, until]).fetchone()[0])


def coach_item_weeks(store: Store, scope: CoachScope) -> pd.DataFrame:
    """The agent's pass rate of each item per week (calls where it applied behind each)."""
    return store.query(_COACH_CALLS + """
        SELECT l.week, f.item_id, count(*) FILTER (WHERE f.outcome IN ('pass', 'fail')) AS applicable_calls,
               round(count(*) FILTER (WHERE f.outcome = 'pass')
                     / nullif(count(*) FILTER (WHERE f.outcome IN ('pass', 'fail')), 0), 3) AS pass_rate
        FROM levels l JOIN final_item_results f USING (call_id, scorecard_id, scorecard_version)
        WHERE l.level = 'agent' GROUP BY ALL ORDER BY l.week, f.item_id""", scope.params())
