"""Calibration: per item, how far the machine and reviewers agree, and reviewers with each other."""
from __future__ import annotations

from collections import Counter

from fastapi import APIRouter, Depends, Request

from pipeline.scoring.evaluate import agreement_by_item
from pipeline.store import reads
from pipeline.web.deps import RequestStore, User, get_store, render, reviewer

router = APIRouter()


def agreement_table(frame, a: str, b: str) -> list[dict]:
    """Per item (and 'all'): pairs, agreements, percent, kappa, the commonest changes and the calls
    that disagree; worst first (lowest kappa, then lowest percent)."""
    stats = agreement_by_item(frame[["item_id", a, b]].itertuples(index=False))
    disagree: dict[str, list[str]] = {}
    changes: dict[str, Counter] = {}
    for row in frame.itertuples(index=False):
        x, y = getattr(row, a), getattr(row, b)
        if x != y:
            calls = disagree.setdefault(row.item_id, [])
            if row.call_id not in calls:
                calls.append(row.call_id)
            changes.setdefault(row.item_id, Counter())[f"{x} → {y}"] += 1
    rows = [{"item_id": item, "n": s.n, "agree": s.agree, "percent": s.percent, "kappa": s.kappa,
             "changes": changes.get(item, Counter()).most_common(3), "calls": disagree.get(item, [])}
            for item, s in stats.items() if item != "all"]
    rows.sort(key=lambda r: (r["kappa"] if r["kappa"] is not None else 2.0, r["percent"] or 0, r["item_id"]))
    overall = stats.get("all")
    return rows + ([{"item_id": "all items", "n": overall.n, "agree": overall.agree, "percent": overall.percent,
                     "kappa": overall.kappa, "changes": [], "calls": [], "total": True}] if overall else [])


@router.get("/calibration")
def calibration_page(request: Request, scorecard: str = "", user: User = Depends(reviewer),
                     store: RequestStore = Depends(get_store)):
    machine = reads.machine_review_pairs(store, scorecard)
    people = reads.reviewer_pairs(store, scorecard)
    return render(request, "calibration.html", user=user, scorecard=scorecard,
                  scorecards=reads.queue_choices(store)["scorecards"],
                  machine=agreement_table(machine, "machine_outcome", "outcome") if not machine.empty else [],
                  people=agreement_table(people, "outcome_a", "outcome_b") if not people.empty else [],
                  reviewers=sorted(set(machine.reviewer)) if not machine.empty else [])
