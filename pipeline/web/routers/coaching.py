"""Coaching in the review app: an agent's report (the same article as `callqa coach`), its PDF,
the coaching log form, and the team/department trends. Agents see only their own report."""
from __future__ import annotations

from datetime import date
from functools import lru_cache

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from pipeline.coaching import render as coach_render
from pipeline.coaching.report import agent_report, period_of, trends_report
from pipeline.scoring.scorecard import DEFAULT_SCORECARD, load_scorecard
from pipeline.store import reads, writes
from pipeline.web.deps import RequestStore, User, csrf_protect, current_user, get_store, records, render, reviewer

router = APIRouter()


@lru_cache(maxsize=1)
def _scorecard():
    """The scorecard whose item names and moment windows the reports use (loaded once); the hold
    standard and item order come from the stored scorecard versions of the calls reported on."""
    return load_scorecard(DEFAULT_SCORECARD)


def _day(value: str, fallback: date) -> date:
    try:
        return date.fromisoformat(value) if value else fallback
    except ValueError:
        raise HTTPException(400, "dates are YYYY-MM-DD") from None


def _newest(store: RequestStore, agent: str = "") -> date:
    profile = reads.agent_profile(store, agent) if agent else None
    if profile:
        return profile["last_call"].date()
    last = reads.newest_call_time(store)
    return last.date() if last is not None else date.today()


def _allowed(user: User, agent_id: str) -> None:
    if user.role == "agent" and agent_id != user.own_agent:
        raise HTTPException(404, "no such agent")


def _report(store: RequestStore, agent_id: str, period: str, at: str):
    if reads.agent_profile(store, agent_id) is None:
        raise HTTPException(404, "no scored calls of this agent")
    chosen = period_of(period if period in ("week", "month") else "month", _day(at, _newest(store, agent_id)))
    return agent_report(store, agent_id, chosen, _scorecard(), link_base="")


@router.get("/coaching/report.css", include_in_schema=False)
def report_css():
    return PlainTextResponse(coach_render.css(), media_type="text/css")


@router.get("/coaching")
def coaching_home(request: Request, period: str = "month", at: str = "", by: str = "department",
                  user: User = Depends(current_user), store: RequestStore = Depends(get_store)):
    if user.role == "agent":
        return RedirectResponse(f"/coaching/agents/{user.own_agent}", status_code=303)
    chosen = period_of(period if period in ("week", "month") else "month", _day(at, _newest(store)))
    trends = trends_report(store, chosen, _scorecard(), "team" if by == "team" else "department")
    generated = reads.has_generated_calls(store)
    return render(request, "coaching.html", user=user, agents=reads.queue_choices(store)["agents"], period=period,
                  at=chosen.since.isoformat(), by=by, body=coach_render.trends_body(trends, generated),
                  log=records(reads.coaching_log(store).drop(columns=["item_list"]).head(20)))


@router.get("/coaching/agents/{agent_id}")
def coaching_agent(request: Request, agent_id: str, period: str = "month", at: str = "", saved: int = 0,
                   user: User = Depends(current_user), store: RequestStore = Depends(get_store)):
    _allowed(user, agent_id)
    report = _report(store, agent_id, period, at)
    return render(request, "coaching_agent.html", user=user, report=report, period=period,
                  at=report.period.since.isoformat(), body=coach_render.agent_body(report, link_base=""),
                  items=[i.id for i in _scorecard().items], today=date.today().isoformat(), saved=bool(saved),
                  log=records(reads.coaching_log(store, agent_id).drop(columns=["item_list"])))


@router.get("/coaching/agents/{agent_id}/report.pdf")
def coaching_pdf(agent_id: str, period: str = "month", at: str = "", user: User = Depends(current_user),
                 store: RequestStore = Depends(get_store)):
    from weasyprint import HTML

    _allowed(user, agent_id)
    report = _report(store, agent_id, period, at)
    store.close()
    html = coach_render.document(coach_render.agent_body(report, link_base=""), f"Coaching report: {agent_id}")
    name = f"coach-{agent_id}-{report.period.since:%Y-%m-%d}.pdf"
    return Response(HTML(string=html).write_pdf(), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@router.post("/coaching/agents/{agent_id}/sessions", dependencies=[Depends(csrf_protect)])
async def coaching_session(request: Request, agent_id: str, user: User = Depends(reviewer),
                           store: RequestStore = Depends(get_store)):
    """A lead records a coaching session: the day, the items discussed, the goals."""
    form = await request.form()
    try:
        day = date.fromisoformat(str(form.get("session_date") or date.today().isoformat()))
        writes.add_coaching_session(store, agent_id, day, form.getlist("items"), user.username,
                                    str(form.get("goals", ""))[:2000], str(form.get("notes", ""))[:2000])
    except (ValueError, writes.CoachingError) as exc:
        raise HTTPException(400, str(exc)) from None
    return RedirectResponse(f"/coaching/agents/{agent_id}?saved=1", status_code=303)


__all__ = ["router"]
