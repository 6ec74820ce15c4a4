"""Coaching reports as HTML and PDF: one template for the file, the PDF and the review app.

`agent_body` / `trends_body` render the report's article (charts as data URIs, links to the
review app's call pages); `document` wraps an article into a standalone HTML file with its CSS;
`write_pdf` prints that same HTML with weasyprint. The web app puts the same article inside its
own page, so the lead sees one report wherever they open it.
"""
from __future__ import annotations

from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Optional

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from pipeline.coaching import charts
from pipeline.coaching.report import LEVELS, WORSE_BY, AgentReport, TrendsReport, call_link


def _pct(rate) -> str:
    return "–" if rate is None or rate != rate else f"{100 * float(rate):.0f} %"


def _num(value) -> str:
    if value is None or value != value:
        return "–"
    return f"{float(value):g}" if isinstance(value, (int, float)) else str(value)


def _secs(value) -> str:
    return "–" if value is None or value != value else f"{float(value):.0f} s"


def _clockf(value) -> str:
    if value is None or value != value:
        return "–"
    seconds = int(round(float(value)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _day(value) -> str:
    if value is None or value != value:
        return "–"
    return value.strftime("%d %b %Y") if hasattr(value, "strftime") else str(value)[:10]


def _change(item: dict) -> str:
    if item.get("before_rate") is None or item.get("since_rate") is None:
        return "–"
    points = round(100 * (item["since_rate"] - item["before_rate"]))
    return f"{points:+d} points"


ENV = Environment(loader=PackageLoader("pipeline.coaching", "templates"), autoescape=select_autoescape(["html"]))
ENV.filters.update(pct=_pct, num=_num, secs=_secs, clockf=_clockf, day=_day, change=_change)


def css() -> str:
    return resources.files("pipeline.coaching").joinpath("templates/report.css").read_text(encoding="utf-8")


# --- an agent -------------------------------------------------------------------------------------

def level_names(report: AgentReport) -> dict[str, str]:
    a = report.agent
    return {"agent": a["agent_name"] or a["agent_id"], "team": f"team {a['team']}", "department": a["department"]}


def week_rows(report: AgentReport) -> list[dict]:
    """The trend table: one row per week, the agent's average beside the team's and department's."""
    weekly = report.weekly
    rows = []
    for week in sorted(set(weekly.week)):
        at = {r["level"]: r for r in weekly[weekly.week == week].to_dict("records")}
        rows.append({"week": week, "calls": int(at["agent"]["calls"]) if "agent" in at else 0,
                     "agent": at.get("agent", {}).get("avg_score"), "team": at.get("team", {}).get("avg_score"),
                     "department": at.get("department", {}).get("avg_score"),
                     "in_period": pd.Timestamp(week) >= pd.Timestamp(report.period.since)})
    return rows


def _level_score(report: AgentReport, level: str) -> Optional[float]:
    """A level's average score over the period (calls-weighted from the weekly rows)."""
    rows = report.weekly[(report.weekly.level == level) & (report.weekly.week >= pd.Timestamp(report.period.since))]
    rows = rows.dropna(subset=["avg_score"])
    return round(float((rows.avg_score * rows.calls).sum() / rows.calls.sum()), 1) if len(rows) and rows.calls.sum() else None


def agent_charts(report: AgentReport) -> dict[str, str]:
    names = level_names(report)
    tracked = list(dict.fromkeys(p["item_id"] for s in report.progress for p in s.items))
    weakest = sorted(report.weak_items, key=lambda i: i.gap if i.gap is not None else 0.0)
    tracked += [i.item_id for i in weakest if i.item_id not in tracked][:max(0, 3 - len(tracked))]
    return {
        "trend": charts.score_trend(report.weekly, names, report.period.since),
        "item_bars": charts.item_bars(report.items, names),
        "item_weeks": charts.item_weeks(report.item_weeks, tracked[:4], [s.session_date for s in report.progress])
        if tracked else "",
    }


def _calls(frame: pd.DataFrame, link_base: str) -> list[dict]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in rows:
        row["link"] = call_link(link_base, row["call_id"], 0.0).split("#")[0]
    return rows


def agent_body(report: AgentReport, link_base: str = "") -> Markup:
    """The report's article: tiles, trend, items against the team, moments, progress, holds,
    handling, best and worst calls."""
    return Markup(ENV.get_template("agent_body.html").render(
        report=report, s=report.summary, charts=agent_charts(report), weeks=week_rows(report),
        team_score=_level_score(report, "team"), dept_score=_level_score(report, "department"),
        levels=LEVELS, level_names=level_names(report), best=_calls(report.best_calls(), link_base),
        worst=_calls(report.worst_calls(), link_base), made=f"{datetime.now():%Y-%m-%d %H:%M}"))


# --- teams and departments ------------------------------------------------------------------------

def trends_body(trends: TrendsReport, generated: bool = False) -> Markup:
    t = trends.trends
    grid = {(r["grp"], r["item_id"], r["week"]): r for r in t.astype(object).where(t.notna(), None).to_dict("records")}
    order = list(trends.item_names)
    items = [i for i in order if i in set(t.item_id)] + sorted(set(t.item_id) - set(order))
    topics = trends.topics
    cells = {(r["department"], r["topic"]): r for r in topics.to_dict("records")}
    ranked = list(topics.groupby("topic").calls.sum().sort_values(ascending=False).index) if not topics.empty else []
    return Markup(ENV.get_template("trends_body.html").render(
        trends=trends, generated=generated, charts={i: charts.group_item_weeks(t, i) for i in trends.called_out},
        groups=sorted(set(t.grp)), weeks=sorted(set(t.week)), items=items, grid=grid,
        departments=sorted(set(topics.department)), topics=ranked, topic_cells=cells, worse_by=round(100 * WORSE_BY)))


# --- files ----------------------------------------------------------------------------------------

def document(body: Markup, title: str) -> str:
    """A standalone HTML file: the article and its CSS, nothing loaded from elsewhere."""
    return ENV.get_template("document.html").render(title=title, css=Markup(css()), body=body)


def write_pdf(html: str, path: str | Path) -> Path:
    """Print the HTML (the same file a lead opens) to PDF, A4, with weasyprint."""
    from weasyprint import HTML  # imported here: pango loads only when a PDF is asked for

    path = Path(path)
    HTML(string=html, base_url=str(path.parent)).write_pdf(str(path))
    return path


def write_agent_report(report: AgentReport, out_dir: str | Path, link_base: str, pdf: bool = True) -> list[Path]:
    """`coach-<agent>-<since>.html` (and `.pdf`) in `out_dir`; returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"coach-{report.agent['agent_id']}-{report.period.since:%Y-%m-%d}"
    html = document(agent_body(report, link_base), f"Coaching report: {report.agent['agent_name']} ({report.period.label})")
    written = [out_dir / f"{stem}.html"]
    written[0].write_text(html, encoding="utf-8")
    if pdf:
        written.append(write_pdf(html, out_dir / f"{stem}.pdf"))
    return written


def write_trends_report(trends: TrendsReport, out_dir: str | Path, generated: bool = False, pdf: bool = True) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"trends-{trends.by}-{trends.period.since:%Y-%m-%d}"
    html = document(trends_body(trends, generated), f"Team and department trends ({trends.period.label})")
    written = [out_dir / f"{stem}.html"]
    written[0].write_text(html, encoding="utf-8")
    if pdf:
        written.append(write_pdf(html, out_dir / f"{stem}.pdf"))
    return written


__all__ = ["agent_body", "trends_body", "document", "write_pdf", "write_agent_report", "write_trends_report"]
