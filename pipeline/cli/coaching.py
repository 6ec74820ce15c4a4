"""Coaching commands: reports over time, trends, the coaching log, exports, a generated history.

    callqa coach AGENT [--period week|month | --since D --until D] [--out DIR]
        the agent's coaching report as HTML and PDF (charts, items against the team, moments)
    callqa trends [--period ... | --since D --until D] [--by department|team] [--out DIR] [--format ...]
        items failing where, week over week; items worse in several departments; topics
    callqa coach-log add AGENT --items a,b --goals "..." --by NAME [--date D]
    callqa coach-log list [--agent ID] [--format table|csv|json]
    callqa export OUT_DIR [--what calls,item_results,agent_scorecards] [--as csv|parquet|both]
    callqa generate [--seed N] [--weeks N] [--calls-per-week N]
        a realistic multi-week history of scored calls, for the demo and tests

Registered on the main app by `pipeline.cli.main` with `register(app)`. Figures come from
`pipeline.store.reads` through `pipeline.coaching.report`; tables, CSV and JSON are printed by
`pipeline.cli.common` (`emit`, `print_table`) like every other read command's, so ids are never
cut, piped output is plain complete rows, and CSV/JSON carry every row and column.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.markup import escape

from pipeline.cli.common import (
    EXIT_BUSY, open_writer, Format, console, db_option, emit, emit_document, fail, format_option, needed_width, open_reader,
    print_table, resolve_db, run_lock_or_exit, say, scorecard_or_exit,
)
from pipeline.scoring.scorecard import DEFAULT_SCORECARD
from pipeline.store import reads
from pipeline.store.database import Store, StoreBusy

log_app = typer.Typer(help="The coaching log: sessions with agents and the items discussed.", no_args_is_help=True)

REVIEW_URL = "http://127.0.0.1:8000"


class PeriodKind(str, Enum):
    week = "week"
    month = "month"


class FileFormat(str, Enum):
    csv = "csv"
    parquet = "parquet"
    both = "both"


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
    """The day of the newest scored call (the agent's), else today: the default period holds it."""
    last = reads.newest_call_time(store, agent)
    return last.date() if last is not None and not pd.isna(last) else date.today()


SCORECARD_OPTION = typer.Option(
    DEFAULT_SCORECARD, "--scorecard",
    help="Scorecard file: which scorecard's calls, its items' names and where to look for each. "
         "Item order and hold limit come from the version stored with the calls.")


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
    say(f"{escape(report.agent['agent_name'] or agent)} ({escape(agent)}), {chosen.label}: {s['calls']} calls, "
        f"average {s['avg_score']}, {s['reviewed_calls']} reviewed; to coach: "
        + (", ".join(i.item_id for i in report.weak_items) or "nothing stands out"))
    for p in report.progress:
        for i in p.items:
            say(f"since coaching on {p.session_date}: {i['item_id']} "
                f"{_pct(i['before_rate'])} ({i['before_calls']} calls) -> {_pct(i['since_rate'])} ({i['since_calls']} calls)")
    for f in files:
        say(f"wrote {escape(str(f))}")


def _pct(rate) -> str:
    return "-" if rate is None else f"{100 * rate:.0f} %"


WORSE_COLUMNS = ["item_id", "group", "earlier_rate", "earlier_calls", "recent_rate", "recent_calls", "in_several"]


def worse_frame(report, by: str) -> pd.DataFrame:
    """The worsened items as rows (one per item and group), the group column named for `by`;
    the columns are there even when nothing worsened, so CSV still has its header."""
    rows = [{"item_id": w.item_id, "group": w.group, "earlier_rate": w.before_rate, "earlier_calls": w.before_calls,
             "recent_rate": w.recent_rate, "recent_calls": w.recent_calls, "in_several": w.item_id in report.called_out}
            for w in report.worse]
    return pd.DataFrame(rows, columns=WORSE_COLUMNS).rename(columns={"group": by})


def trend_cells(trends: pd.DataFrame, by: str, order: list[str]) -> pd.DataFrame:
    """One row per group, item and week, items in `order` (the stored scorecard version's), the
    pass rate as a lead reads it: "83% (12)", of the calls the item applied to."""
    rank = {item: n for n, item in enumerate(order)}
    cells = trends.assign(week=trends.week.astype(str), rank=trends.item_id.map(rank),
                          pass_rate=[f"{100 * r:.0f}% ({n})" if r is not None and r == r else f"- ({n})"
                                     for r, n in zip(trends.pass_rate, trends.applicable_calls)])
    cells = cells.sort_values(["grp", "rank", "item_id", "week"], na_position="last")
    return cells.rename(columns={"grp": by})[[by, "item_id", "week", "pass_rate"]]


def week_grid(cells: pd.DataFrame, by: str) -> pd.DataFrame:
    """`trend_cells` with one column per week: a row per group and item, as a lead scans them."""
    if cells.empty:
        return cells
    wide = cells.pivot_table(index=[by, "item_id"], columns="week", values="pass_rate", aggfunc="first", sort=False)
    wide = wide.reset_index()
    wide.columns.name = None
    return wide


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
    fmt: Format = format_option(),
    scorecard: Path = SCORECARD_OPTION,
    db: Optional[Path] = db_option(),
) -> None:
    """Which items fail in which departments week over week, the items worse in several at once
    (with the figures), and the topics customers call about, side by side. csv and json: the
    sections worse, items (per group, item and week) and topics."""
    from pipeline.coaching.render import write_trends_report
    from pipeline.coaching.report import trends_report

    store = open_reader(db)
    card = scorecard_or_exit(scorecard)
    chosen = _period(period, since, until, at.date() if at else _newest_day(store))
    report = trends_report(store, chosen, card, by.value)
    if out:
        generated = bool(report.trends.size) and reads.has_generated_calls(store)
        files = write_trends_report(report, out, generated)
    if fmt is not Format.table:
        emit_document({"worse": worse_frame(report, by.value),
                       "items": report.trends.rename(columns={"grp": by.value}),
                       "topics": report.topics}, fmt)
        return
    for item, ws in report.called_out.items():
        say(f"[bold red]{escape(item)}[/bold red] worse in {len(ws)} {by.value}s at once: " + "; ".join(
            f"{escape(w.group)} {_pct(w.before_rate)} ({w.before_calls}) -> {_pct(w.recent_rate)} ({w.recent_calls})" for w in ws))
    if not report.called_out:
        say(f"No item worse in several {by.value}s at once ({escape(chosen.label)}).")
    title = f"Pass rate per {by.value}, item and week ({chosen.label}): % of the calls the item applied to, (how many)"
    cells = trend_cells(report.trends, by.value, list(report.item_names))
    wide = week_grid(cells, by.value)
    if console.is_terminal and not wide.empty and needed_width(wide) > console.width:
        print_table(cells, title)  # too wide for this terminal: one row per week
    else:
        print_table(wide, title, empty=f"No scored calls in {chosen.label}.")
    topics = report.topics.pivot_table(index="topic", columns="department", values="calls", aggfunc="first").reset_index() \
        if not report.topics.empty else report.topics
    topics.columns.name = None
    print_table(topics, "Topics customers call about, calls per department", empty="No topics heard.")
    for f in files if out else []:
        say(f"wrote {escape(str(f))}")


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

    store = open_writer(db)
    try:
        add_coaching_session(store, agent, (on or datetime.now()).date(), items.split(","), by, goals, notes)
    except CoachingError as exc:
        fail(str(exc))
    except StoreBusy as exc:
        fail(str(exc), EXIT_BUSY)
    say(f"coaching session with {escape(agent)} on {(on or datetime.now()).date()} saved: {escape(items)}")


@log_app.command("list")
def log_list(
    agent: str = typer.Option("", "--agent", help="Only this agent's sessions."),
    fmt: Format = format_option(),
    db: Optional[Path] = db_option(),
) -> None:
    """Coaching sessions, newest first."""
    frame = reads.coaching_log(open_reader(db), agent).drop(columns=["item_list"])
    emit(frame, fmt, "Coaching sessions", ["session_date", "agent_id", "agent_name", "items", "goals", "coached_by"],
         empty="No coaching sessions" + (f" with {agent}." if agent else " yet."),
         narrow=["session_date", "agent_id", "items", "coached_by"])


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
            say(f"wrote {escape(str(path))} ({rows} rows)")


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
    say(f"generated {done.calls} calls ({done.first_day} to {done.last_day}), {done.reviewed_calls} reviewed, "
        f"{done.sessions} coaching session(s) in {escape(str(path))}, scored with {card.id}@{card.version}")
    say(f"try: callqa coach a103 --period month --db {escape(str(path))}")


def register(app: typer.Typer) -> None:
    """Add `coach`, `trends`, `coach-log`, `export` and `generate` to the main `callqa` app."""
    app.command("coach")(coach)
    app.command("trends")(trends)
    app.add_typer(log_app, name="coach-log")
    app.command("export")(export)
    app.command("generate")(generate)
