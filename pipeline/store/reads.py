"""Named read queries: the one read layer the CLI, the web pages and the reports share.

Each function is one question a user asks of the database, answered with a DataFrame (or a
plain value). The views they read (`latest_scores`, `call_overview`, `agent_scorecards`, ...) are
defined in `schema.sql` and are the documented interface for other tools too.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Optional

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
    their words, holds, metrics, language and applicability context."""
    where, params = "c.status = 'scored' AND c.purged_at IS NULL", []
    if since is not None:
        where += " AND coalesce(c.started_at, c.processed_at) >= ?"
        params.append(since)
    with store.connect(read_only=True) as con:
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


# --- what people ask ----------------------------------------------------------------------------

def agent_scorecards(store: Store, period: str) -> pd.DataFrame:
    """Per agent and day or week: calls, average score, flags, handle time, holds."""
    return store.query(
        "SELECT * EXCLUDE (period) FROM agent_scorecards WHERE period = ? ORDER BY period_start, agent_id", [period]
    )


def item_pass_rates(store: Store, period: str) -> pd.DataFrame:
    """Per agent, period and scorecard item: the share of applicable calls that passed."""
    return store.query(
        "SELECT period_start, agent_id, scorecard_id, item_id, pass_rate FROM agent_item_pass_rates "
        "WHERE period = ? ORDER BY period_start, agent_id",
        [period],
    )


def call_list(store: Store, flagged: bool = False, agent: Optional[str] = None, limit: int = 200) -> pd.DataFrame:
    """Calls, failed first then lowest score first, with why each was flagged or failed."""
    where, params = ["TRUE"], []
    if flagged:
        where.append("o.flagged")
    if agent:
        where.append("c.agent_id = ?")
        params.append(agent)
    return store.query(
        f"""SELECT c.call_id, c.agent_id, c.status, o.score, o.flagged,
                   coalesce(c.error, array_to_string(o.flag_reasons, '; ')) AS why, c.duration_s
            FROM calls c LEFT JOIN call_overview o USING (call_id)
            WHERE {' AND '.join(where)} ORDER BY c.status DESC, o.score NULLS FIRST, c.call_id LIMIT ?""",
        params + [limit],
    )


def call_record(store: Store, call_id: str) -> pd.DataFrame:
    """The `calls` row of one call (empty when there is none)."""
    return store.query("SELECT * FROM calls WHERE call_id = ?", [call_id])


def call_latest_scores(store: Store, call_id: str) -> pd.DataFrame:
    return store.query("SELECT * FROM latest_scores WHERE call_id = ?", [call_id])


def call_items(store: Store, call_id: str) -> pd.DataFrame:
    """Item results of the call's latest scoring, with the reason for each."""
    return store.query(
        "SELECT r.item_id, r.outcome, r.weight, r.reason FROM item_results r JOIN latest_scores s "
        "USING (call_id, scorecard_id, scorecard_version) WHERE call_id = ?", [call_id])


def call_findings(store: Store, call_id: str) -> pd.DataFrame:
    """Evidence of the call's latest scoring: who said what, when, how sure Whisper was."""
    return store.query(
        "SELECT f.* FROM findings f JOIN latest_scores s USING (call_id, scorecard_id, scorecard_version) "
        "WHERE call_id = ? ORDER BY start_s", [call_id])


def call_holds(store: Store, call_id: str) -> pd.DataFrame:
    return store.query("SELECT * FROM hold_details WHERE call_id = ? ORDER BY hold_idx", [call_id])


def call_metrics(store: Store, call_id: str) -> pd.DataFrame:
    return store.query("SELECT * EXCLUDE (call_id) FROM metrics WHERE call_id = ?", [call_id])


def call_utterances(store: Store, call_id: str) -> pd.DataFrame:
    return store.query("SELECT * FROM utterances WHERE call_id = ? ORDER BY start_s, idx", [call_id])


def scorecard_versions(store: Store, scorecard_id: str) -> pd.DataFrame:
    """Versions of a scorecard that have results, newest first."""
    return store.query(
        "SELECT scorecard_version, max(scored_at) AS last FROM call_scores WHERE scorecard_id = ? GROUP BY 1 ORDER BY last DESC",
        [scorecard_id],
    )


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
