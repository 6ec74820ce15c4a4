"""Disputes: an agent or lead disputes a reviewed item; a lead resolves it; history stays."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from pipeline.store import reads, writes
from pipeline.web.deps import RequestStore, records, User, call_for, call_url, csrf_protect, current_user, get_store, lead, render

router = APIRouter()


@router.get("/disputes")
def disputes_page(request: Request, status: str = "open", user: User = Depends(current_user),
                  store: RequestStore = Depends(get_store)):
    status = status if status in ("", "open", "upheld", "rejected") else "open"
    rows = reads.dispute_list(store, status=status, agent=user.own_agent)
    return render(request, "disputes.html", user=user, rows=records(rows), status=status)


@router.post("/disputes", dependencies=[Depends(csrf_protect)])
def open_dispute(call_id: str = Form(...), scorecard_id: str = Form(...), scorecard_version: str = Form(...),
                 item_id: str = Form(...), reason: str = Form(""), user: User = Depends(current_user),
                 store: RequestStore = Depends(get_store)):
    if user.role not in ("agent", "lead"):
        raise HTTPException(403, "agents and leads dispute reviewed items; a reviewer changes their own review")
    call_for(store, user, call_id)
    try:
        writes.open_dispute(store, call_id, scorecard_id, scorecard_version, item_id, reason[:2000], user.username)
    except writes.ReviewError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(call_url(call_id) + "#disputes", status_code=303)


@router.post("/disputes/{dispute_id}/resolve", dependencies=[Depends(csrf_protect)])
def resolve_dispute(dispute_id: str, outcome: str = Form(...), resolution: str = Form(""),
                    user: User = Depends(lead), store: RequestStore = Depends(get_store)):
    found = reads.dispute(store, dispute_id)
    if found is None:
        raise HTTPException(404, "no such dispute")
    try:
        writes.resolve_dispute(store, dispute_id, user.username, outcome, resolution[:2000])
    except writes.ReviewError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(call_url(found["call_id"]) + "#disputes", status_code=303)
