"""How well detection agrees with a person: precision, recall and F1 per scorecard item.

Labels are a QA lead's judgement per call and item (`pass`, `fail`, `na`), in the format of
`data/samples/labels.json`: a JSON list (or JSON Lines) of objects with `call_id` and
`expected_items: {item_id: outcome}`; other keys are ignored.

The positive class is "pass" (the agent did it). A predicted "uncertain" is not a pass, so it
counts against recall when the label is pass, and it is also counted on its own: an item that is
often uncertain sends many calls to a person even when its F1 looks fine.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

OUTCOMES = ("pass", "fail", "na", "uncertain")
LABEL_OUTCOMES = ("pass", "fail", "na")
MISSING = "missing"  # the item has a label but no prediction

Outcomes = Mapping[str, Mapping[str, str]]  # call id -> item id -> outcome


class LabelError(ValueError):
    """A labels file that cannot be used; the message names the file and where."""


@dataclass
class Stats:
    """Counts for one item (or all items together) and the figures made from them."""

    tp: int = 0  # label pass, predicted pass
    fp: int = 0  # label not pass, predicted pass
    fn: int = 0  # label pass, predicted not pass (fail, na, uncertain, missing)
    tn: int = 0  # label not pass, predicted not pass
    uncertain: int = 0  # predicted uncertain (whatever the label)
    agree: int = 0  # predicted outcome equals the label exactly
    confusion: Counter = field(default_factory=Counter)  # (label, predicted) -> count

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def precision(self) -> Optional[float]:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> Optional[float]:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> Optional[float]:
        """2tp / (2tp + fp + fn): 0 when passes exist but none was found; None when neither
        the labels nor the predictions have a pass."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else None

    @property
    def accuracy(self) -> Optional[float]:
        """Share of labels matched exactly (pass/fail/na all count)."""
        return self.agree / self.n if self.n else None

    def add(self, label: str, predicted: str) -> None:
        self.confusion[(label, predicted)] += 1
        if predicted == "uncertain":
            self.uncertain += 1
        if predicted == label:
            self.agree += 1
        if label == "pass":
            if predicted == "pass":
                self.tp += 1
            else:
                self.fn += 1
        elif predicted == "pass":
            self.fp += 1
        else:
            self.tn += 1


@dataclass(frozen=True)
class Disagreement:
    call_id: str
    item_id: str
    label: str
    predicted: str


@dataclass
class Report:
    items: dict[str, Stats]
    overall: Stats
    disagreements: list[Disagreement]
    calls: int  # labelled calls that were evaluated
    missing_calls: list[str]  # labelled calls without a prediction

    def outcomes_seen(self) -> list[str]:
        """Outcome names for the confusion table: the four, plus 'missing' if it occurred."""
        seen = {o for pair in self.overall.confusion for o in pair}
        return list(OUTCOMES) + sorted(seen - set(OUTCOMES))


def evaluate(predicted: Outcomes, labels: Outcomes) -> Report:
    """Compare predicted item outcomes with labels, for every labelled call and item.

    Calls labelled but not predicted are listed in `missing_calls` and otherwise left out;
    predictions without a label are ignored; a labelled item the prediction lacks counts as
    predicted "missing" (not a pass).
    """
    items: dict[str, Stats] = {}
    overall = Stats()
    disagreements: list[Disagreement] = []
    missing_calls: list[str] = []
    calls = 0
    for call_id, expected in labels.items():
        if call_id not in predicted:
            missing_calls.append(call_id)
            continue
        calls += 1
        got = predicted[call_id]
        for item_id, label in expected.items():
            outcome = got.get(item_id, MISSING)
            items.setdefault(item_id, Stats()).add(label, outcome)
            overall.add(label, outcome)
            if outcome != label:
                disagreements.append(Disagreement(call_id, item_id, label, outcome))
    return Report(items, overall, disagreements, calls, missing_calls)


# --- labels ----------------------------------------------------------------------------------

def _labels_from(obj, where: str) -> tuple[str, dict[str, str]]:
    if not isinstance(obj, dict) or "call_id" not in obj or not isinstance(obj.get("expected_items"), dict):
        raise LabelError(f"{where}: each entry needs 'call_id' and an 'expected_items' object")
    items = {}
    for item_id, outcome in obj["expected_items"].items():
        if outcome not in LABEL_OUTCOMES:
            raise LabelError(
                f"{where}: call {obj['call_id']!r} item {item_id!r}: label {outcome!r} is not one of {', '.join(LABEL_OUTCOMES)}"
            )
        items[str(item_id)] = outcome
    return str(obj["call_id"]), items


def load_labels(*paths: str | Path) -> dict[str, dict[str, str]]:
    """call id -> item id -> labelled outcome, from one or more labels files (JSON list or JSONL)."""
    labels: dict[str, dict[str, str]] = {}
    where_of: dict[str, str] = {}
    for path in paths:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise LabelError(f"{path}: cannot read ({exc.strerror})") from None
        entries: list[tuple[object, str]] = []
        if text.lstrip().startswith("["):
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise LabelError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
            entries = [(obj, f"{path}: entry {n}") for n, obj in enumerate(data, 1)]
        else:
            for line_no, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    entries.append((json.loads(line), f"{path}:{line_no}"))
                except json.JSONDecodeError as exc:
                    raise LabelError(f"{path}:{line_no}: not valid JSON ({exc.msg})") from None
        for obj, where in entries:
            call_id, items = _labels_from(obj, where)
            if call_id in labels:
                raise LabelError(f"{where}: call {call_id!r} is labelled twice (also at {where_of[call_id]})")
            labels[call_id], where_of[call_id] = items, where
    return labels


# --- rendering -------------------------------------------------------------------------------

def _pct(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.2f}"


def metric_rows(report: Report) -> list[list[str]]:
    """Per item, then 'all': item, n, tp, fp, fn, precision, recall, F1, exact agreement, uncertain."""
    rows = []
    for name, s in list(report.items.items()) + [("all", report.overall)]:
        rows.append([name, str(s.n), str(s.tp), str(s.fp), str(s.fn), _pct(s.precision), _pct(s.recall),
                     _pct(s.f1), _pct(s.accuracy), str(s.uncertain)])
    return rows


METRIC_HEADER = ["item", "n", "tp", "fp", "fn", "prec", "recall", "f1", "agree", "uncert"]


def confusion_rows(stats: Stats, outcomes: list[str]) -> list[list[str]]:
    """One row per labelled outcome: counts of each predicted outcome."""
    return [
        [f"label {label}"] + [str(stats.confusion.get((label, p), 0)) for p in outcomes]
        for label in LABEL_OUTCOMES
    ]


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def render_text(report: Report, disagreements: bool = True) -> str:
    """The report as plain text tables: metrics per item, overall confusion, disagreements."""
    outcomes = report.outcomes_seen()
    parts = [
        f"{report.calls} labelled calls evaluated; positive class = pass; "
        f"uncertain counts as not pass for precision/recall",
        _text_table(METRIC_HEADER, metric_rows(report)),
        "",
        "Confusion, all items (rows: label, columns: predicted)",
        _text_table(["", *[f"pred {o}" for o in outcomes]], confusion_rows(report.overall, outcomes)),
    ]
    if report.missing_calls:
        parts += ["", f"labelled but not predicted ({len(report.missing_calls)}): {', '.join(report.missing_calls)}"]
    if disagreements and report.disagreements:
        parts += ["", f"Disagreements ({len(report.disagreements)})",
                  _text_table(["call", "item", "label", "predicted"],
                              [[d.call_id, d.item_id, d.label, d.predicted] for d in report.disagreements])]
    return "\n".join(parts)


# --- agreement between the machine and people, and between people ------------------------------

@dataclass
class Agreement:
    """How often two raters gave the same outcome to the same items: counts, percent agreement and
    Cohen's kappa (agreement beyond what each rater's own mix of outcomes gives by chance)."""

    n: int = 0
    agree: int = 0
    confusion: Counter = field(default_factory=Counter)  # (rater a, rater b) -> count

    def add(self, a: str, b: str) -> None:
        self.n += 1
        self.agree += a == b
        self.confusion[(a, b)] += 1

    @property
    def percent(self) -> Optional[float]:
        return 100.0 * self.agree / self.n if self.n else None

    @property
    def kappa(self) -> Optional[float]:
        """(p_o - p_e) / (1 - p_e); None without pairs, or when chance agreement is total (both raters
        gave one and the same outcome throughout: kappa is undefined, percent agreement says 100)."""
        if not self.n:
            return None
        p_o = self.agree / self.n
        left, right = Counter(), Counter()
        for (a, b), count in self.confusion.items():
            left[a] += count
            right[b] += count
        p_e = sum(left[k] * right[k] for k in left) / (self.n * self.n)
        if p_e >= 1.0:
            return None
        return (p_o - p_e) / (1.0 - p_e)


def cohen_kappa(pairs) -> Optional[float]:
    """Cohen's kappa of (a, b) outcome pairs (None when undefined)."""
    stats = Agreement()
    for a, b in pairs:
        stats.add(a, b)
    return stats.kappa


def agreement_by_item(rows) -> dict[str, Agreement]:
    """(item_id, a, b) rows -> per item agreement, plus 'all'."""
    out: dict[str, Agreement] = {}
    for item_id, a, b in rows:
        out.setdefault(item_id, Agreement()).add(a, b)
        out.setdefault("all", Agreement()).add(a, b)
    return out


def labels_from_reviews(rows) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """(call_id, item_id, reviewed outcome, machine outcome) rows -> (labels, predictions) for
    `evaluate`: people's newest verdicts as labels, the machine's outcome of the same scoring."""
    labels: dict[str, dict[str, str]] = {}
    predicted: dict[str, dict[str, str]] = {}
    for call_id, item_id, outcome, machine in rows:
        labels.setdefault(call_id, {})[item_id] = outcome
        predicted.setdefault(call_id, {})[item_id] = machine if machine else MISSING
    return labels, predicted


# --- transcripts scored in memory ---------------------------------------------------------------

def predict_transcripts(transcript_paths, scorecard) -> dict[str, dict[str, str]]:
    """call id -> item id -> outcome for every call in the transcript files, scored in memory with
    one detector (no database): what `callqa eval --transcripts` and the accuracy guard compare
    with labels. Deterministic on text."""
    from pipeline.ingest.transcripts import read_transcripts, score_transcript
    from pipeline.scoring.detect import Detector

    detector = Detector(scorecard)
    predicted: dict[str, dict[str, str]] = {}
    for path in transcript_paths:
        for call in read_transcripts(path):
            result = score_transcript(call, scorecard, path, detector=detector)
            predicted[call.call_id] = {i.item_id: i.outcome for i in result.score.items}
    return predicted


def evaluate_transcripts(label_paths, transcript_paths, scorecard) -> Report:
    """Labels files against transcript files scored in memory (see `predict_transcripts`)."""
    return evaluate(predict_transcripts(transcript_paths, scorecard), load_labels(*label_paths))
