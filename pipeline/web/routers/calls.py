"""One call: audio, transcript, timeline, scorecard with evidence, and the review form."""
from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from pipeline.store import reads, writes
from pipeline.web.deps import RequestStore, records, User, call_for, call_url, csrf_protect, current_user, get_store, render, reviewer
from pipeline.web.views import timeline, transcript_lines

router = APIRouter()

MAX_COMMENT = 2000


def call_page_context(store: RequestStore, user: User, call_id: str) -> dict:
    """Everything the call page shows, read through the named queries."""
    record = records(reads.call_record(store, call_id))[0]
    utterances = records(reads.call_utterances(store, call_id))
    findings = records(reads.call_findings(store, call_id))
    holds = records(reads.call_holds(store, call_id))
    redactions = records(reads.call_redactions(store, call_id))
    metrics = records(reads.call_metrics(store, call_id))
    items = records(reads.call_final_items(store, call_id))
    scores = {s["scorecard_id"]: s for s in records(reads.call_latest_scores(store, call_id))}
    finals = {s["scorecard_id"]: s for s in records(reads.call_final_scores(store, call_id))}
    by_item: dict[tuple, list] = {}
    for f in findings:
        by_item.setdefault((f["scorecard_id"], f["item_id"]), []).append(f)
    cards: dict[str, dict] = {}
    for item in items:
        card = cards.setdefault(item["scorecard_id"], {"id": item["scorecard_id"], "version": item["scorecard_version"],
                                                       "items": [], "score": scores.get(item["scorecard_id"]),
                                                       "final": finals.get(item["scorecard_id"])})
        item["evidence"] = by_item.get((item["scorecard_id"], item["item_id"]), [])
        card["items"].append(item)
    seen_holds = {(h["hold_idx"]) for h in holds}
    holds_unique = []
    for h in holds:  # hold_details has a row per scorecard: show each hold once
        if h["hold_idx"] in seen_holds:
            seen_holds.discard(h["hold_idx"])
            holds_unique.append(h)
    # one scorecard's findings mark the transcript (the first), so a phrase is not marked twice
    first_card = next(iter(cards), None)
    marked = [f for f in findings if f["scorecard_id"] == first_card]
    source = reads.call_audio_source(store, call_id) or {}
    return {
        "call": record, "cards": list(cards.values()), "lines": transcript_lines(utterances, marked),
        "lanes": timeline(record.get("duration_s") or 0, utterances, holds_unique, redactions),
        "duration": max([record.get("duration_s") or 0] + [u["end_s"] for u in utterances] + [1.0]),
        "holds": holds_unique, "metrics": metrics[0] if metrics else None, "redactions": redactions,
        "history": records(reads.call_review_history(store, call_id)),
        "disputes": records(reads.dispute_list(store, call_id=call_id)),
        "has_audio": bool(source.get("source_path")) and source.get("purged_at") is None,
        "unspoken": [f for f in marked if not f.get("speaker")],
    }


@router.get("/calls/{call_id:path}")
def call_page(request: Request, call_id: str, saved: int = 0, user: User = Depends(current_user),
              store: RequestStore = Depends(get_store)):
    call_for(store, user, call_id)
    context = call_page_context(store, user, call_id)
    if context["call"]["status"] != "scored":
        return render(request, "error.html", status_code=200, user=user, title=f"{call_id}: not scored",
                      message=f"This recording failed: {context['call'].get('error') or 'no reason stored'}")
    next_call = reads.next_to_review(store, call_id) if saved and user.can_review else None
    return render(request, "call.html", user=user, saved=bool(saved), next_call=next_call, **context)


@router.post("/reviews/{call_id:path}", dependencies=[Depends(csrf_protect)])
async def save_review(request: Request, call_id: str, user: User = Depends(reviewer),
                      store: RequestStore = Depends(get_store)):
    """Save a reviewer's verdict on every item of one scoring of the call (confirmations included:
    they are what calibration counts as agreement)."""
    form = await request.form()
    scorecard_id, version = str(form.get("scorecard_id", "")), str(form.get("scorecard_version", ""))
    await run_in_threadpool(call_for, store, user, call_id)
    items = await run_in_threadpool(reads.call_final_items, store, call_id)
    items = items[(items.scorecard_id == scorecard_id) & (items.scorecard_version == version)]
    if items.empty:
        raise HTTPException(400, "this scoring of the call is no longer the newest: reload the page")
    decisions, missing = {}, []
    for item_id in items.item_id:
        outcome = str(form.get(f"outcome__{item_id}", ""))
        if outcome not in writes.REVIEW_OUTCOMES:
            missing.append(item_id)
            continue
        decisions[item_id] = (outcome, str(form.get(f"comment__{item_id}", ""))[:MAX_COMMENT])
    if missing:
        raise HTTPException(400, f"decide every item (pass, fail or N/A) before saving; missing: {', '.join(missing)}")
    try:
        await run_in_threadpool(writes.save_item_reviews, store, call_id, scorecard_id, version, decisions,
                                user.username, user.role)
    except writes.ReviewError as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(call_url(call_id) + "?saved=1", status_code=303)
