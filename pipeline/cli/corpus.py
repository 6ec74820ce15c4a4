"""`callqa import` and `callqa eval`: score existing transcripts, and measure detection against labels.

    callqa import FILE [--db PATH] [--scorecard PATH]
        score the calls in a transcript file (JSONL, JSON list or CSV) into the database
    callqa eval LABELS... [--db PATH] [--scorecard-id aidet] [--transcripts FILE]...
        per-item precision / recall / F1 of "pass", the confusion of outcomes and the
        disagreements, for the labelled calls: from the database, or (with --transcripts)
        scored in memory without one. Exit 1 when a labelled call has no result.

Registered on the main app by `pipeline.cli` with `register(app)`.
"""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.scoring.evaluate import (
    LABEL_OUTCOMES, METRIC_HEADER, LabelError, Report, confusion_rows, evaluate, load_labels, metric_rows,
)
from pipeline.cli.common import (
    EXIT_CALLS_FAILED, console, db_option, fail, open_reader, resolve_db, run_lock_or_exit, scorecard_or_exit,
)
from pipeline.scoring.scorecard import DEFAULT_SCORECARD
from pipeline.store import reads


def _rich_table(title: str, header: list[str], rows: list[list[str]]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    for i, column in enumerate(header):
        if i == 0:
            table.add_column(column, justify="left", no_wrap=True)
        else:
            table.add_column(column, justify="right", overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def print_report(report: Report, show_disagreements: bool = True, out: Console = console) -> None:
    """The evaluation as rich tables: metrics per item, the confusion, the disagreements."""
    out.print(_rich_table(
        f"Detection vs labels: {report.calls} calls (positive = pass; uncertain counts as not pass)",
        METRIC_HEADER, metric_rows(report),
    ))
    outcomes = report.outcomes_seen()
    out.print(_rich_table("Confusion, all items (rows: label, columns: predicted)",
                          ["", *[f"pred {o}" for o in outcomes]], confusion_rows(report.overall, outcomes)))
    per_item = [
        [item] + [str(stats.confusion.get((label, p), 0)) for label in LABEL_OUTCOMES for p in ("pass", "fail", "na", "uncertain")]
        for item, stats in report.items.items()
    ]
    short = {"pass": "P", "fail": "F", "na": "N", "uncertain": "U"}
    out.print(_rich_table(
        "Confusion per item (label>predicted; P pass, F fail, N na, U uncertain)",
        ["item"] + [f"{short[l]}>{short[p]}" for l in LABEL_OUTCOMES for p in ("pass", "fail", "na", "uncertain")],
        per_item,
    ))
    if show_disagreements and report.disagreements:
        table = Table(title=f"Disagreements ({len(report.disagreements)})", title_justify="left", header_style="bold")
        for column in ("call", "item", "label", "predicted"):
            table.add_column(column, overflow="fold", no_wrap=column != "call")
        for d in report.disagreements:
            table.add_row(d.call_id, d.item_id, d.label, d.predicted)
        out.print(table)



def register(app: typer.Typer) -> None:
    """Add `import` and `eval` to the main `callqa` app."""

    @app.command("import")
    def import_cmd(
        file: Path = typer.Argument(..., help="Transcript file: JSON Lines, a JSON list, or CSV (call_id,speaker,start,end,text)."),
        db: Optional[Path] = db_option(),
        scorecard: Path = typer.Option(DEFAULT_SCORECARD, "--scorecard", help="Scorecard YAML file."),
    ) -> None:
        """Score the calls in a transcript file into the database (a call imported again is replaced)."""
        from pipeline.ingest.transcripts import TranscriptError, import_transcripts
        from pipeline.privacy.redact import Redactor
        from pipeline.store.database import Store
        from pipeline.store.writes import save_call

        card = scorecard_or_exit(scorecard)
        if not file.is_file():
            fail(f"transcript file not found: {file}")
        try:
            # transcripts from the phone system carry card numbers too: redact before storing
            problems: list[str] = []
            results = import_transcripts(file, card, redactor=Redactor(), problems=problems)
        except TranscriptError as exc:
            fail(str(exc), EXIT_CALLS_FAILED)
        store = Store(resolve_db(db))
        refused: list[str] = []
        with run_lock_or_exit(store):
            from_audio = reads.audio_call_ids(store)
            for result in results:
                if result.meta.call_id in from_audio:  # never replace a scored recording by text
                    refused.append(result.meta.call_id)
                    continue
                save_call(store, result)
        results = [r for r in results if r.meta.call_id not in refused]
        table = Table(title=escape(f"Imported from {file}"), title_justify="left", header_style="bold")
        for column in ("call", "agent", "turns", "holds", "score", "flagged", "not passed"):
            table.add_column(column, overflow="fold")
        for r in results:
            score = r.score
            not_passed = ", ".join(f"{i.item_id} {i.outcome}" for i in score.items if i.outcome in ("fail", "uncertain"))
            table.add_row(
                escape(r.meta.call_id), escape(r.meta.agent_id), str(len(r.utterances)), str(len(r.holds)),
                "-" if score.score is None else f"{score.score:g}", "yes" if score.flagged else "", not_passed,
                style="yellow" if score.flagged else "",
            )
        console.print(table)
        flagged = sum(1 for r in results if r.score.flagged)
        console.print(f"imported {len(results)} calls, flagged {flagged}, scorecard {card.id}@{card.version}. "
                      f"Database: {escape(str(store.path))}")
        for problem in problems:
            console.print(f"[red]not imported: {escape(problem)}[/red]")
        for call_id in refused:
            console.print(f"[red]not imported: call id '{escape(call_id)}' already holds a scored recording; "
                          "give the transcript its own id[/red]")
        if refused or problems:
            raise typer.Exit(EXIT_CALLS_FAILED)

    @app.command("eval")
    def eval_cmd(
        labels: Optional[List[Path]] = typer.Argument(
            None, help="Labels file(s): JSON list or JSONL of {call_id, expected_items}."),
        db: Optional[Path] = db_option(),
        scorecard_id: str = typer.Option("aidet", "--scorecard-id", help="Which scorecard's latest results to read."),
        transcripts: Optional[List[Path]] = typer.Option(
            None, "--transcripts", help="Score these transcript files in memory instead of reading the database (repeatable)."),
        scorecard: Path = typer.Option(DEFAULT_SCORECARD, "--scorecard", help="Scorecard YAML for --transcripts."),
        disagreements: bool = typer.Option(True, "--disagreements/--no-disagreements", help="List each disagreement."),
        labels_from_reviews: bool = typer.Option(
            False, "--labels-from-reviews",
            help="Use reviewers' verdicts in the database (the newest per item) as labels, against the machine's "
                 "outcome of the same scoring."),
    ) -> None:
        """Precision, recall and F1 of each item's "pass" against labels, the confusion, the disagreements."""
        if labels_from_reviews:
            if labels or transcripts:
                fail("--labels-from-reviews reads labels and predictions from the database: give no labels files or --transcripts")
            from pipeline.scoring.evaluate import labels_from_reviews as to_labels

            store = open_reader(db)
            frame = reads.reviewed_labels(store, scorecard_id)
            if frame.empty:
                fail(f"no reviews of '{scorecard_id}' items in {store.path}")
            expected, predicted = to_labels(frame[["call_id", "item_id", "outcome", "machine_outcome"]].itertuples(index=False))
            report = evaluate(predicted, expected)
            console.print(f"labels: reviewers' verdicts on {len(frame)} item(s) of {len(expected)} call(s) in "
                          f"{escape(str(store.path))}; predictions: the machine's outcome of the same '{scorecard_id}' scoring")
            print_report(report, disagreements)
            return
        if not labels:
            fail("give a labels file, or --labels-from-reviews")
        try:
            expected = load_labels(*labels)
        except LabelError as exc:
            fail(str(exc))
        if transcripts:
            from pipeline.scoring.detect import Detector
            from pipeline.ingest.transcripts import TranscriptError, read_transcripts, score_transcript

            card = scorecard_or_exit(scorecard)
            detector = Detector(card)
            predicted: dict[str, dict[str, str]] = {}
            try:
                for path in transcripts:
                    for call in read_transcripts(path):
                        result = score_transcript(call, card, path, detector=detector)
                        predicted[call.call_id] = {i.item_id: i.outcome for i in result.score.items}
            except TranscriptError as exc:
                fail(str(exc))
            source = f"{len(transcripts)} transcript file(s), scorecard {card.id}@{card.version}"
        else:
            store = open_reader(db)
            frame = reads.predicted_items(store, scorecard_id)
            predicted = {}
            for call_id, item_id, outcome in frame.itertuples(index=False):
                if call_id in expected:
                    predicted.setdefault(call_id, {})[item_id] = outcome
            source = f"{store.path}, latest '{scorecard_id}' scores"
        report = evaluate(predicted, expected)
        console.print(f"labels: {', '.join(str(p) for p in labels)} ({len(expected)} calls); predictions: {source}")
        print_report(report, disagreements)
        if report.missing_calls:
            console.print(f"[red]{len(report.missing_calls)} labelled call(s) have no result: "
                          f"{', '.join(report.missing_calls)}[/red]")
            raise typer.Exit(1)
