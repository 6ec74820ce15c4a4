"""Coaching commands: reports over time, trends, the coaching log, exports, a generated history.

    callqa coach AGENT [--period week|month | --since D --until D] [--out DIR]
        the agent's coaching report as HTML and PDF (charts, items against the team, moments)
    callqa trends [--period ... | --since D --until D] [--by department|team] [--out DIR]
        items failing where, week over week; items worse in several departments; topics
    callqa coach-log add AGENT --items a,b --goals "..." --by NAME [--date D]
    callqa coach-log list [--agent ID]
    callqa export OUT_DIR [--what calls,item_results,agent_scorecards] [--as csv|parquet|both]
    callqa generate [--seed N] [--weeks N] [--calls-per-week N]
        a realistic multi-week history of scored calls, for the demo and tests

Registered on the main app by `pipeline.cli.main` with `register(app)`. Figures come from
`pipeline.store.reads` through `pipeline.coaching.report`.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.markup import escape

from pipeline.cli.common import (
    EXIT_BUSY, console, db_option, fail, open_reader, resolve_db, run_lock_or_exit, scorecard_or_exit, table,
)
from pipeline.scoring.scorecard import DEFAULT_SCORECARD
from pipeline.store import reads
from pipeline.store.database import StorageError, Store, StoreBusy

log_app = typer.Typer(help="The coaching log: sessions with agents and the items discussed.", no_args_is_help=True)

REVIEW_URL = "http://127.0.0.1:8000"


class PeriodKind(str, Enum):
    week = "week"
    month = "month"


class Output(str, Enum):
    table = "table"
    csv = "csv"
    json = "json"


class FileFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    both = "both"


def _emit(frame: pd.DataFrame, out: Output, title: str) -> None:
    """A result as a table for people, or CSV / JSON for programs (all columns, raw values)."""
    if out is Output.csv:
        typer.echo(frame.to_csv(index=False), nl=False)
    elif out is Output.json:
        typer.echo(frame.to_json(orient="records", date_format="iso", indent=1))
    else:
        console.print(table(frame, title) if not frame.empty else f"{title}: none.")


def _writer(db: Optional[Path]) -> Store:
    """The database for a short write (no run lock: a coaching session while the nightly run goes)."""
    open_reader(db)
    try:
        return Store(resolve_db(db))
    except StorageError as exc:
        fail(str(exc))
    except StoreBusy as exc:
        fail(str(exc), EXIT_BUSY)


def _period(kind: PeriodKind, since: Optional[datetime], until: Optional[datetime], at: date):
    """--since/--until (both days included) when given, else the week or month containing `at`."""
    from pipeline.coaching.report import custom_period, period_of

    if since or until:
        try:
            return custom_period((since or until).date(), (until or since + timedelta(days=30)).date())
        except ValueError as exc:
            fail(str(exc))
    return period_of(kind.value, at)


def _newest_day(store: Store, agent: str = "") -> date:
    frame = store.query("SELECT max(call_time) AS last FROM call_overview" + (" WHERE agent_id = ?" if agent else ""),
                        [agent] if agent else [])
    last = frame["last"].iloc[0]
    return (last.date() if not pd.isna(last) else date.today())


SCORECARD_OPTION = typer.Option(DEFAULT_SCORECARD, "--scorecard", help="Scorecard file: its items' names, where to look for each, the hold standard.")


def coach(
    agent: str = typer.Argument(..., help="The agent id (as in `callqa agents`)."),
    period: PeriodKind = typer.Option(PeriodKind.month, help="The calendar week or month of --at."),
    at: Optional[datetime] = typer.Option(None, help="A day in the period. Default: the agent's newest call."),
    since: Optional[datetime] = typer.Option(None, help="A custom period from this day (instead of --period)."),
    until: Optional[datetime] = typer.Option(None, help="... to this day, included."),
    out: Path = typer.Option(Path("."), "--out", help="Folder for coach-AGENT-DATE.html and .pdf."),
    pdf: bool = typer.Option(True, help="Also write the PDF."),
    link_base: str = typer.Option(REVIEW_URL, help="Address of the review app, for links to calls (callqa review)."),
    scorecard: Path = SCORECARD_OPTION,
    db: Optional[Path] = db_option(),
) -> None:
    """An agent's coaching report (HTML and PDF): score trend, items against team and department,
    moments to coach from, progress since coaching, holds, handling, best and worst calls."""
    from pipeline.coaching.render import write_agent_report
    from pipeline.coaching.report import agent_report

    store = open_reader(db)
    card = scorecard_or_exit(scorecard)
    if reads.agent_profile(store, agent) is None:
        fail(f"no scored calls of agent {agent!r} in {store.path}")
    chosen = _period(period, since, until, at.date() if at else _newest_day(store, agent))
    report = agent_report(store, agent, chosen, card, link_base)
    if report.calls.empty:
        fail(f"agent {agent} has no {card.id} calls in {chosen.label}: pick another --period/--at or --since/--until")
    files = write_agent_report(report, out, link_base, pdf)
    s = report.summary
    console.print(f"{escape(report.agent['agent_name'] or agent)} ({agent}), {chosen.label}: {s['calls']} calls, "
                  f"average {s['avg_score']}, {s['reviewed_calls']} reviewed; to coach: "
                  + (", ".join(i.item_id for i in report.weak_items) or "nothing stands out"))
    for p in report.progress:
        for i in p.items:
            console.print(f"since coaching on {p.session_date}: {i['item_id']} "
                          f"{_pct(i['before_rate'])} ({i['before_calls']} calls) -> {_pct(i['since_rate'])} ({i['since_calls']} calls)")
    for f in files:
        console.print(f"wrote {escape(str(f))}", soft_wrap=True)


def _pct(rate) -> str:
    return "-" if rate is None else f"{100 * rate:.0f} %"


class Grouping(str, Enum):
    department = "department"
    team = "team"


def trends(
    period: PeriodKind = typer.Option(PeriodKind.month, help="The calendar week or month of --at (weeks inside it)."),
    at: Optional[datetime] = typer.Option(None, help="A day in the period. Default: the newest call."),
    since: Optional[datetime] = typer.Option(None, help="A custom period from this day (e.g. the last 8 weeks)."),
    until: Optional[datetime] = typer.Option(None, help="... to this day, included."),
    by: Grouping = typer.Option(Grouping.department, help="Compare departments or teams."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write trends-....html and .pdf into this folder."),
    fmt: Output = typer.Option(Output.table, "--format", help="table for people; csv or json for programs."),
    scorecard: Path = SCORECARD_OPTION,
    db: Optional[Path] = db_option(),
) -> None:
    """Which items fail in which departments week over week, the items worse in several at once
    (with the figures), and the topics customers call about, side by side."""
    from pipeline.coaching.render import write_trends_report
    from pipeline.coaching.report import trends_report

    store = open_reader(db)
    card = scorecard_or_exit(scorecard)
    chosen = _period(period, since, until, at.date() if at else _newest_day(store))
    report = trends_report(store, chosen, card, by.value)
    worse = pd.DataFrame([{"item_id": w.item_id, by.value: w.group, "earlier_rate": w.before_rate, "earlier_calls": w.before_calls,
                           "recent_rate": w.recent_rate, "recent_calls": w.recent_calls,
                           "in_several": w.item_id in report.called_out} for w in report.worse])
    if fmt is not Output.table:
        if fmt is Output.json:
            typer.echo(json.dumps({"worse": json.loads(worse.to_json(orient="records")),
                                   "items": json.loads(report.trends.to_json(orient="records", date_format="iso")),
                                   "topics": json.loads(report.topics.to_json(orient="records"))}, indent=1))
        else:
            _emit(report.trends.rename(columns={"grp": by.value}), fmt, "")
        return
    for item, ws in report.called_out.items():
        console.print(f"[bold red]{item}[/bold red] worse in {len(ws)} {by.value}s at once: " + "; ".join(
            f"{escape(w.group)} {_pct(w.before_rate)} ({w.before_calls}) -> {_pct(w.recent_rate)} ({w.recent_calls})" for w in ws))
    if not report.called_out:
        console.print(f"No item worse in several {by.value}s at once ({chosen.label}).")
    wide = report.trends.assign(week=report.trends.week.astype(str)).pivot_table(
        index=["grp", "item_id"], columns="week", values="pass_rate", aggfunc="first").reset_index()
    wide.columns.name = None
    console.print(table(wide.rename(columns={"grp": by.value}), f"Pass rate per {by.value}, item and week ({chosen.label})"))
    topics = report.topics.pivot_table(index="topic", columns="department", values="calls", aggfunc="first").reset_index()
    topics.columns.name = None
    console.print(table(topics, "Topics customers call about, calls per department"))
    if out:
        generated = bool(report.trends.size) and bool(store.query("SELECT 1 FROM calls WHERE channel_layout = 'generated' LIMIT 1").size)
        for f in write_trends_report(report, out, generated):
            console.print(f"wrote {escape(str(f))}", soft_wrap=True)


@log_app.command("add")
def log_add(
    agent: str = typer.Argument(..., help="The agent coached."),
    items: str = typer.Option(..., "--items", help="Scorecard item ids discussed, comma-separated (e.g. duration,hold_thanked)."),
    by: str = typer.Option(..., "--by", help="Who coached (the lead's name)."),
    goals: str = typer.Option("", "--goals", help="The goals agreed."),
    notes: str = typer.Option("", "--notes", help="Anything else worth keeping."),
    on: Optional[datetime] = typer.Option(None, "--date", help="The session's day. Default: today."),
    db: Optional[Path] = db_option(),
) -> None:
    """Record a coaching session; the agent's next reports show these items' progress since."""
    from pipeline.store.writes import CoachingError, add_coaching_session

    store = _writer(db)
    try:
        add_coaching_session(store, agent, (on or datetime.now()).date(), items.split(","), by, goals, notes)
    except CoachingError as exc:
        fail(str(exc))
    except StoreBusy as exc:
        fail(str(exc), EXIT_BUSY)
    console.print(f"coaching session with {escape(agent)} on {(on or datetime.now()).date()} saved: {escape(items)}")


@log_app.command("list")
def log_list(
    agent: str = typer.Option("", "--agent", help="Only this agent's sessions."),
    fmt: Output = typer.Option(Output.table, "--format", help="table for people; csv or json for programs."),
    db: Optional[Path] = db_option(),
) -> None:
    """Coaching sessions, newest first."""
    frame = reads.coaching_log(open_reader(db), agent).drop(columns=["item_list"])
    _emit(frame, fmt, "Coaching sessions")


def export(
    out_dir: Path = typer.Argument(..., help="Folder for the files (created)."),
    what: str = typer.Option("calls,item_results,agent_scorecards", "--what", help="Which tables, comma-separated."),
    file_format: FileFormat = typer.Option(FileFormat.both, "--as", help="csv, parquet or both."),
    since: Optional[datetime] = typer.Option(None, help="Calls from this day on."),
    until: Optional[datetime] = typer.Option(None, help="... to this day, included."),
    db: Optional[Path] = db_option(),
) -> None:
    """Calls, item results (machine and final) and agent scorecards as CSV and Parquet, for BI tools."""
    store = open_reader(db)
    names = [n.strip() for n in what.split(",") if n.strip()]
    unknown = [n for n in names if n not in reads.EXPORTS]
    if unknown:
        fail(f"cannot export {', '.join(unknown)}: choose from {', '.join(reads.EXPORTS)}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot create {out_dir}: {exc.strerror}")
    start = since or datetime(1900, 1, 1)
    end = (until + timedelta(days=1)) if until else datetime(9999, 1, 1)
    formats = ["csv", "parquet"] if file_format is FileFormat.both else [file_format.value]
    for name in names:
        for f in formats:
            path = out_dir / f"{name}.{f}"
            rows = reads.export_table(store, name, str(path), f, start, end)
            console.print(f"wrote {escape(str(path))} ({rows} rows)", soft_wrap=True)


def generate(
    seed: int = typer.Option(7, help="The same seed gives the same calls."),
    weeks: int = typer.Option(8, min=1, max=104, help="Weeks of calls."),
    calls_per_week: int = typer.Option(6, min=1, max=200, help="Calls per agent and week, on average."),
    start: datetime = typer.Option(datetime(2025, 2, 3), help="The Monday of the first week."),
    scorecard: Path = typer.Option(DEFAULT_SCORECARD, "--scorecard", help="Scorecard the calls are scored with."),
    db: Optional[Path] = db_option(),
) -> None:
    """Write a realistic multi-week history of scored calls (14 agents, 6 teams, 3 departments,
    trends built in), marked as generated, through the scoring write path."""
    from pipeline.coaching.generate import AlreadyGenerated, HistoryOptions, write_history
    from pipeline.cli.common import check_database_for_writing

    card = scorecard_or_exit(scorecard)
    path = resolve_db(db)
    check_database_for_writing(path)
    monday = start.date() - timedelta(days=start.date().weekday())
    store = Store(path)
    with run_lock_or_exit(store):
        try:
            done = write_history(store, HistoryOptions(seed=seed, start=monday, weeks=weeks, calls_per_week=calls_per_week), card)
        except AlreadyGenerated as exc:
            fail(str(exc))
    console.print(f"generated {done.calls} calls ({done.first_day} to {done.last_day}), {done.reviewed_calls} reviewed, "
                  f"{done.sessions} coaching session(s) in {escape(str(path))}", soft_wrap=True)
    console.print(f"try: callqa coach a103 --period month --db {escape(str(path))}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `coach`, `trends`, `coach-log`, `export` and `generate` to the main `callqa` app."""
    app.command("coach")(coach)
    app.command("trends")(trends)
    app.add_typer(log_app, name="coach-log")
    app.command("export")(export)
    app.command("generate")(generate)
