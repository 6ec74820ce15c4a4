"""Agent scorecards on final results: reviewed outcomes where a person decided."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from pipeline.store import reads
from pipeline.web.deps import RequestStore, records, User, current_user, get_store, render

router = APIRouter()


@router.get("/scorecards")
def scorecards_page(request: Request, period: str = "week", agent: str = "", user: User = Depends(current_user),
                    store: RequestStore = Depends(get_store)):
    period = period if period in ("day", "week") else "week"
    if user.role == "agent":
        agent = user.own_agent
    cards, rates = reads.agent_scorecard_rows(store, period, agent)
    items = sorted(set(rates.item_id)) if not rates.empty else []
    by_key: dict[tuple, dict] = {}
    for r in records(rates):
        by_key.setdefault((str(r["period_start"]), r["agent_id"], r["scorecard_id"]), {})[r["item_id"]] = r
    rows = []
    for c in records(cards):
        c["items"] = by_key.get((str(c["period_start"]), c["agent_id"], c["scorecard_id"]), {})
        rows.append(c)
    return render(request, "scorecards.html", user=user, rows=rows, items=items, period=period, agent=agent,
                  agents=reads.queue_choices(store)["agents"] if user.role != "agent" else [])
