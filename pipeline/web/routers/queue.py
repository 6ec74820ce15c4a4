"""The review queue: flagged and uncertain calls first, filters, counts, a calibration sample."""
from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request

from pipeline.store import reads
from pipeline.web.deps import RequestStore, records, User, current_user, get_store, render

router = APIRouter()

PAGE_SIZE = 50
FILTER_KEYS = ("agent", "department", "item", "reason", "scorecard", "date_from", "date_to", "reviewed", "show")


def _day(text: str) -> datetime | None:
    try:
        return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time()) if text.strip() else None
    except ValueError:
        return None


@router.get("/queue")
def queue_page(request: Request, agent: str = "", department: str = "", item: str = "", reason: str = "",
               scorecard: str = "", date_from: str = "", date_to: str = "", reviewed: str = "no", show: str = "flagged",
               sort: str = "priority", desc: int = 0, page: int = 1,
               user: User = Depends(current_user), store: RequestStore = Depends(get_store)):
    if user.role == "agent":  # an agent sees only their own calls, reviewed or not
        agent = user.own_agent
    page = max(1, page)
    flt = reads.QueueFilter(agent=agent, department=department, item=item, reason=reason, scorecard=scorecard,
                            date_from=_day(date_from), date_to=_day(date_to),
                            reviewed=reviewed if reviewed in ("", "no", "yes") else "no",
                            flagged_only=show != "all")
    sort = sort if sort in reads.QUEUE_SORTS else "priority"
    rows, counts = reads.review_queue(store, flt, sort, bool(desc), PAGE_SIZE, (page - 1) * PAGE_SIZE)
    sample = (reads.calibration_sample(store, flt, per_agent=2, seed=date.today().strftime("%G-W%V"))
              if user.can_review and flt.reviewed != "yes" else None)
    choices = reads.queue_choices(store)
    params = {"agent": agent, "department": department, "item": item, "reason": reason, "scorecard": scorecard,
              "date_from": date_from, "date_to": date_to, "reviewed": flt.reviewed, "show": show}
    kept = {k: v for k, v in params.items() if v}

    def link(**changes) -> str:
        merged = {**kept, "sort": sort, "desc": int(bool(desc)), "page": page, **changes}
        return "/queue?" + urlencode({k: v for k, v in merged.items() if v not in ("", None)})

    return render(request, "queue.html", user=user, rows=records(rows), counts=counts,
                  sample=None if sample is None else records(sample), choices=choices, params=params,
                  sort=sort, desc=bool(desc), page=page, pages=max(1, -(-counts["listed"] // PAGE_SIZE)), link=link)
