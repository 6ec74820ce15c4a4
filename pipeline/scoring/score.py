"""From detections to a scored call: item results, a 0-100 score, and the reasons to flag it.

The score is the weighted share of applicable items passed. A failed auto-fail item sets the
score to 0 (as commercial QA forms do) and flags the call. Every result carries the scorecard's
id and version, so a changed scorecard never silently rewrites the meaning of old scores.
"""
from __future__ import annotations

from typing import Sequence

from pipeline.scoring.detect import Detector, evaluate
from pipeline.records import CallScore, Hold, ItemResult, Metrics, Utterance
from pipeline.scoring.rules import CallView, Verdict


def weighted_score(items: Sequence[ItemResult]) -> float | None:
    """Weighted share of applicable items that passed, 0-100; None when nothing applied.

    Bonus items add their weight when passed and cost nothing when failed; uncertain items are
    left out until a person decides them.
    """
    applicable = [i for i in items if i.outcome in ("pass", "fail") and not i.bonus]
    weight = sum(i.weight for i in applicable)
    if not weight:
        return None
    earned = sum(i.weight for i in items if i.outcome == "pass")
    return round(min(100.0, 100.0 * earned / weight), 1)


def _certain(item, verdict: Verdict, agent_confidence: float | None, threshold: float) -> Verdict:
    """Turn a verdict that rests on doubtful speech into "uncertain" rather than guess."""
    if not item.rule.listens:
        return verdict
    spoken = [f.confidence for f in verdict.findings if f.speaker]
    if verdict.outcome == "pass" and spoken and max(spoken) < threshold:
        return Verdict("uncertain", f"{verdict.reason}, but Whisper was unsure of those words ({max(spoken):.2f})", verdict.findings)
    if verdict.outcome == "fail" and agent_confidence is not None and agent_confidence < threshold:
        return Verdict("uncertain", f"{verdict.reason}; the agent's speech was recognised poorly ({agent_confidence:.2f})", verdict.findings)
    return verdict


def agent_confidence(utterances: Sequence[Utterance]) -> float | None:
    """Mean probability of the agent's recognised words (None when the agent said nothing)."""
    probabilities = [w.probability for u in utterances if u.speaker == "agent" for w in u.words]
    return sum(probabilities) / len(probabilities) if probabilities else None


def score_call(
    scorecard,
    utterances: Sequence[Utterance],
    holds: Sequence[Hold],
    metrics: Metrics | None,
    duration_s: float,
    language: str,
    extra_flags: Sequence[str] = (),
    detector: Detector | None = None,
    context: dict | None = None,
) -> CallScore:
    """Detect, judge every item and score one call against one scorecard.

    `context` holds what applicability may test: department, queue, call_type.
    """
    detector = detector or Detector(scorecard)
    hits = detector.find(utterances, language)
    view = CallView(utterances, holds, metrics, duration_s, hits)
    confidence = agent_confidence(utterances)
    results, findings = [], []
    for item, verdict in evaluate(scorecard, view):
        outside = item.applies_if.why_not(context or {}, duration_s)
        if outside:
            verdict = Verdict("na", outside)
        verdict = _certain(item, verdict, confidence, scorecard.uncertain_below)
        results.append(
            ItemResult(item.id, scorecard.section_of(item.id), verdict.outcome, item.weight, item.auto_fail,
                       verdict.reason, item.bonus)
        )
        findings.extend(verdict.findings)
    score = weighted_score(results)
    flags = list(extra_flags)
    failed_auto = [r.item_id for r in results if r.auto_fail and r.outcome == "fail"]
    if failed_auto:
        score = 0.0
        flags.append(f"auto-fail: {', '.join(failed_auto)}")
    items_by_id = {item.id: item for item in scorecard.items}
    flags.extend(
        f"{r.item_id}: {r.reason}" for r in results if r.outcome == "fail" and items_by_id[r.item_id].flag_on_fail
    )
    uncertain = [r.item_id for r in results if r.outcome == "uncertain"]
    if uncertain:
        flags.append(f"uncertain, a person should decide: {', '.join(uncertain)}")
    if score is not None and score < scorecard.pass_score and not failed_auto:
        flags.append(f"score {score:g} below {scorecard.pass_score:g}")
    if confidence is not None and confidence < scorecard.low_confidence:
        flags.append(f"low transcription confidence ({confidence:.2f})")
    if not any(u.speaker == "agent" for u in utterances):
        flags.append("no agent speech recognised")
    _, fallbacks = detector.matcher(language)
    if fallbacks:
        flags.append(f"scorecard has no '{language}' phrases for some items; used '{scorecard.language}'")
    return CallScore(
        scorecard_id=scorecard.id,
        scorecard_version=scorecard.version,
        score=score,
        flagged=bool(flags),
        flag_reasons=tuple(flags),
        items=tuple(results),
        findings=tuple(sorted(findings, key=lambda f: f.start)),
        band=scorecard.band(score),
        hold_limit_s=hold_limit(scorecard),
    )


def hold_limit(scorecard) -> float | None:
    """The longest hold the scorecard allows (its strictest hold_duration rule, nested ones too),
    or None: stored with the version, so reports count holds over the scorecard's own standard."""
    def limits(rule: dict):
        if rule.get("kind") == "hold_duration":
            yield float(rule["max_s"])
        for value in rule.values():
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, dict):
                    yield from limits(child)

    found = [limit for item in scorecard.items for limit in limits(item.rule.model_dump())]
    return min(found) if found else None
