"""An agent's coaching report and the team/department trends, assembled from the read layer.

Everything here is a small pure function over what `pipeline.store.reads` returns (the coaching
block), except `agent_report` and `trends_report`, which run those queries: so the numbers a
lead sees are the SQL's, and a test can hold the two side by side.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Optional
from urllib.parse import quote

import pandas as pd
import yaml

from pipeline.scoring.rules import clock
from pipeline.store import reads
from pipeline.store.database import Store

LEVELS = ("agent", "team", "department")
TREND_WEEKS = 12          # the score trend shows up to this many weeks up to the period's end
WEAK_BELOW = 0.8          # an item under this pass rate, or
WEAK_GAP = 0.10           # this far under the team's, is one to coach (with at least MIN_CALLS calls)
MIN_CALLS = 3
WORSE_BY = 0.10           # a department "worsens" on an item when its pass rate falls this much
MIN_TREND_CALLS = 8       # with at least this many calls in each window


# --- periods --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """A half-open stretch of days [since, until), and how a lead names it."""

    since: date
    until: date
    label: str

    @property
    def last_day(self) -> date:
        return self.until - timedelta(days=1)

    def bounds(self) -> tuple[datetime, datetime]:
        return datetime.combine(self.since, datetime.min.time()), datetime.combine(self.until, datetime.min.time())


def period_of(kind: str, day: date) -> Period:
    """The calendar week (Monday to Sunday) or month that contains `day`."""
    if kind == "week":
        since = day - timedelta(days=day.weekday())
        return Period(since, since + timedelta(days=7), f"week of {since:%d %b %Y}")
    if kind == "month":
        since = day.replace(day=1)
        until = (since + timedelta(days=32)).replace(day=1)
        return Period(since, until, f"{since:%B %Y}")
    raise ValueError(f"period must be week or month, not {kind!r}")


def custom_period(since: date, last_day: date) -> Period:
    """From `since` to `last_day`, both included."""
    if last_day < since:
        raise ValueError(f"--until {last_day} is before --since {since}")
    return Period(since, last_day + timedelta(days=1), f"{since:%d %b %Y} to {last_day:%d %b %Y}")


# --- the scorecard's own standards ----------------------------------------------------------------

@dataclass(frozen=True)
class Standard:
    """What the scorecard versions stored with the reported calls stood for (`scorecard_versions`),
    so a report judges calls as they were scored and as `callqa agents` counts them, not by
    whichever scorecard file is at hand when the report is made."""

    versions: tuple[str, ...]                 # the versions that scored the period's calls, newest first
    item_ids: tuple[str, ...]                 # the newest version's item order, then items only older ones had
    hold_limits: dict[str, Optional[float]]   # version -> its hold limit (None: no hold_duration rule)

    @property
    def hold_limit_s(self) -> Optional[float]:
        """The newest version's hold limit: the one a lead is shown (each call is still counted
        against its own version's limit)."""
        return self.hold_limits.get(self.versions[0]) if self.versions else None

    @property
    def mixed_limits(self) -> bool:
        """Versions with different hold limits scored the period's calls."""
        return len(set(self.hold_limits.values())) > 1


def standard_of(versions: pd.DataFrame, scorecard) -> Standard:
    """The standard from `reads.coach_versions` (newest first). A period with no stored version
    (no calls) falls back to the scorecard file's item order and no hold limit: nothing to judge."""
    if versions.empty:
        return Standard((), tuple(i.id for i in scorecard.items), {})
    order: list[str] = []
    for ids in versions.item_ids:
        order += [i for i in _listed(ids) if i not in order]
    limits = {str(v): (None if _none(limit) is None else float(limit))
              for v, limit in zip(versions.scorecard_version, versions.hold_limit_s)}
    return Standard(tuple(str(v) for v in versions.scorecard_version), tuple(order), limits)


def where_to_look(rule) -> str:
    """Where in a call an item's failure shows, from its rule: the opening, the closing, around a
    hold, the hold itself, or the next steps (an item that may be said anywhere)."""
    kind = getattr(rule, "kind", "")
    if kind == "hold_duration":
        return "hold"
    if kind == "hold_phrases":
        return "before hold" if getattr(rule, "before_s", None) is not None else "after hold"
    if getattr(rule, "first_s", None) is not None:
        return "opening"
    if getattr(rule, "last_s", None) is not None:
        return "closing"
    return "next steps"


# --- an agent's report ----------------------------------------------------------------------------

@dataclass
class ItemLine:
    """One item's pass rates: the agent's beside the team's and the department's, with calls."""

    item_id: str
    name: str
    rates: dict[str, Optional[float]]     # level -> pass rate (None: never applied)
    calls: dict[str, int]                 # level -> calls where it applied
    passed: dict[str, int]
    reviewed: int = 0                     # the agent's calls where a person decided it
    uncertain: int = 0
    weak: bool = False

    @property
    def gap(self) -> Optional[float]:
        a, t = self.rates.get("agent"), self.rates.get("team")
        return None if a is None or t is None else a - t


@dataclass
class Moment:
    """A concrete moment of a call where an item failed: what was said (or the hold) and when."""

    item_id: str
    call_id: str
    call_time: datetime
    at_s: float
    quote: str
    note: str
    link: str

    @property
    def at(self) -> str:
        return clock(self.at_s)


@dataclass
class Progress:
    """A coaching session and each discussed item's pass rate before it and since."""

    session_date: date
    coached_by: str
    goals: str
    items: list[dict]                     # item_id, name, before_rate, before_calls, since_rate, since_calls


@dataclass
class AgentReport:
    agent: dict
    period: Period
    scorecard_id: str
    scorecard_name: str
    standard: Standard                    # from the stored versions of the period's calls
    weekly: pd.DataFrame                  # level, week, calls, avg_score, reviewed_calls
    item_weeks: pd.DataFrame              # week, item_id, applicable_calls, pass_rate (the agent's)
    items: list[ItemLine]
    holds: dict[str, dict]                # level -> counts
    metrics: dict[str, dict]              # level -> averages
    calls: pd.DataFrame                   # the agent's calls of the period, best first
    moments: dict[str, list[Moment]] = field(default_factory=dict)
    progress: list[Progress] = field(default_factory=list)
    generated: bool = False

    @property
    def hold_limit_s(self) -> Optional[float]:
        return self.standard.hold_limit_s

    @property
    def summary(self) -> dict:
        mine = self.weekly[(self.weekly.level == "agent") & (self.weekly.week >= pd.Timestamp(self.period.since))]
        return {"calls": int(self.metrics.get("agent", {}).get("calls") or 0),
                "reviewed_calls": int(self.calls.reviewed.sum()) if not self.calls.empty else 0,
                "avg_score": _mean(self.calls.score) if not self.calls.empty else None,
                "weeks": len(mine)}

    @property
    def weak_items(self) -> list[ItemLine]:
        return [i for i in self.items if i.weak]

    def best_calls(self, n: int = 3) -> pd.DataFrame:
        return self.calls.dropna(subset=["score"]).head(n)

    def worst_calls(self, n: int = 3) -> pd.DataFrame:
        scored = self.calls.dropna(subset=["score"])
        return scored.sort_values(["score", "call_time"], ascending=[True, False]).head(n)


def _mean(values) -> Optional[float]:
    values = pd.Series(values).dropna()
    return round(float(values.mean()), 1) if len(values) else None


def _none(value):
    return None if value is None or (isinstance(value, float) and value != value) or value is pd.NA else value


def item_lines(rates: pd.DataFrame, scorecard, item_order: Optional[list[str]] = None) -> list[ItemLine]:
    """Per item, in `item_order` (the stored scorecard version's; default the file's), the rates
    at each level; weak ones marked. Names come from the scorecard file (the id where it has none)."""
    names = {i.id: i.name for i in scorecard.items}
    known = list(item_order) if item_order is not None else [i.id for i in scorecard.items]
    order = known + sorted(set(rates.item_id) - set(known))
    lines = []
    for item_id in order:
        rows = {r["level"]: r for r in rates[rates.item_id == item_id].to_dict("records")}
        if not rows:
            continue
        line = ItemLine(item_id, names.get(item_id, item_id),
                        rates={lv: _none(rows.get(lv, {}).get("pass_rate")) for lv in LEVELS},
                        calls={lv: int(rows.get(lv, {}).get("applicable_calls") or 0) for lv in LEVELS},
                        passed={lv: int(rows.get(lv, {}).get("passed") or 0) for lv in LEVELS},
                        reviewed=int(rows.get("agent", {}).get("reviewed_calls") or 0),
                        uncertain=int(rows.get("agent", {}).get("uncertain_calls") or 0))
        agent = line.rates["agent"]
        line.weak = (agent is not None and line.calls["agent"] >= MIN_CALLS
                     and (agent < WEAK_BELOW or (line.gap is not None and line.gap <= -WEAK_GAP)))
        lines.append(line)
    return lines


def _listed(value) -> list:
    """A list column as a list (DuckDB lists arrive as arrays, a missing one as None)."""
    return [] if value is None or (isinstance(value, float) and value != value) else list(value)


def call_link(link_base: str, call_id: str, at_s: float) -> str:
    """The call page at a moment: the review app's page for the call, `#t=` seconds."""
    return f"{link_base.rstrip('/')}/calls/{quote(str(call_id), safe='/~')}#t={at_s:.1f}"


def moment_of(row: dict, look: str, link_base: str) -> Optional[Moment]:
    """The moment to quote for one failed item of one call (pure: from the call's agent
    utterances and holds)."""
    said = [u for u in _listed(row.get("utterances")) if u["speaker"] == "agent"]
    holds = _listed(row.get("holds"))
    pick, note = None, ""
    if look == "hold" and holds:
        hold = max(holds, key=lambda h: h["duration_s"])
        return Moment(row["item_id"], row["call_id"], row["call_time"], hold["start_s"],
                      f"hold of {hold['duration_s']:.0f} s", f"on hold {clock(hold['start_s'])}-{clock(hold['end_s'])}",
                      call_link(link_base, row["call_id"], hold["start_s"]))
    if look == "before hold" and holds:
        before = [u for u in said if u["end_s"] <= holds[0]["start_s"] + 1.0]
        pick, note = (before[-1] if before else None), f"the words before the hold at {clock(holds[0]['start_s'])}"
    elif look == "after hold" and holds:
        after = [u for u in said if u["start_s"] >= holds[0]["end_s"] - 1.0]
        pick, note = (after[0] if after else None), f"back from the hold at {clock(holds[0]['end_s'])}"
    elif look == "opening":
        pick, note = (said[0] if said else None), "how the call was opened"
    elif look == "closing":
        pick, note = (said[-1] if said else None), "how the call was closed"
    else:
        wrap_up = [u for u in said[:-1] if len(u["text"].split()) >= 4]
        pick, note = (wrap_up[-1] if wrap_up else (said[-1] if said else None)), "the next steps as said"
    if pick is None:
        return None
    return Moment(row["item_id"], row["call_id"], row["call_time"], pick["start_s"], pick["text"], note,
                  call_link(link_base, row["call_id"], pick["start_s"]))


def agent_report(store: Store, agent_id: str, period: Period, scorecard, link_base: str = "") -> AgentReport:
    """The coaching report of one agent over `period` (final results: reviewed where reviewed)."""
    profile = reads.agent_profile(store, agent_id)
    if profile is None:
        raise LookupError(f"no scored calls of agent {agent_id!r}")
    since, until = period.bounds()
    scope = reads.CoachScope(scorecard.id, agent_id, profile["team"], profile["department"], since, until)
    trend_since = max(datetime.combine(period.until - timedelta(weeks=TREND_WEEKS), datetime.min.time()),
                      datetime.combine(profile["first_call"].date() - timedelta(days=profile["first_call"].weekday()),
                                       datetime.min.time()))
    trend_scope = reads.CoachScope(scorecard.id, agent_id, profile["team"], profile["department"],
                                   min(trend_since, since), until)
    weekly = reads.coach_weekly_scores(store, trend_scope)
    item_weeks = reads.coach_item_weeks(store, trend_scope)
    standard = standard_of(reads.coach_versions(store, scorecard.id, since, until), scorecard)
    holds = {r["level"]: r for r in reads.coach_holds(store, scope).to_dict("records")}
    metrics = {r["level"]: r for r in reads.coach_metrics(store, scope).to_dict("records")}
    items = item_lines(reads.coach_item_rates(store, scope), scorecard, list(standard.item_ids))
    calls = reads.coach_calls(store, scope)
    report = AgentReport(profile, period, scorecard.id, scorecard.name, standard, weekly, item_weeks, items, holds,
                         metrics, calls, generated=bool(calls.call_id.str.startswith("gen-").any()) if not calls.empty else False)
    weak = sorted(report.weak_items, key=lambda i: (i.gap if i.gap is not None else 0.0, i.rates["agent"] or 0.0))[:3]
    rules = {i.id: i.rule for i in scorecard.items}
    if weak:
        failed = reads.coach_failed_moments(store, scope, [i.item_id for i in weak], per_item=3)
        for item in weak:
            rows = failed[failed.item_id == item.item_id].to_dict("records")
            found = [moment_of(r, where_to_look(rules.get(item.item_id)), link_base) for r in rows]
            report.moments[item.item_id] = [m for m in found if m is not None]
    report.progress = coaching_progress(store, scorecard, agent_id, period)
    return report


def coaching_progress(store: Store, scorecard, agent_id: str, period: Period, sessions: int = 3) -> list[Progress]:
    """The agent's coaching sessions up to the period's end (newest `sessions`), each discussed
    item's pass rate in the four weeks before the session and since."""
    names = {i.id: i.name for i in scorecard.items}
    log = reads.coaching_log(store, agent_id)
    out = []
    _, until = period.bounds()
    for s in log[log.session_date < pd.Timestamp(period.until)].head(sessions).to_dict("records"):
        items = list(s["item_list"])
        rows = {r["item_id"]: r for r in reads.coach_item_progress(store, scorecard.id, agent_id, items,
                                                                    s["session_date"], until).to_dict("records")}
        out.append(Progress(pd.Timestamp(s["session_date"]).date(), s["coached_by"], s["goals"] or "", [
            {"item_id": i, "name": names.get(i, i), "before_rate": _none(rows.get(i, {}).get("before_rate")),
             "before_calls": int(rows.get(i, {}).get("before_calls") or 0),
             "since_rate": _none(rows.get(i, {}).get("since_rate")), "since_calls": int(rows.get(i, {}).get("since_calls") or 0)}
            for i in items]))
    return out


# --- team and department trends -------------------------------------------------------------------

def load_topics(path=None) -> dict[str, str]:
    """Topic name -> regular expression, from `topics.yaml` beside this module (or `path`)."""
    text = (open(path, encoding="utf-8").read() if path else
            resources.files("pipeline.coaching").joinpath("topics.yaml").read_text(encoding="utf-8"))
    topics = yaml.safe_load(text) or {}
    for name, pattern in topics.items():
        try:
            re.compile(str(pattern))
        except re.error as exc:
            raise ValueError(f"topic {name!r}: not a regular expression ({exc})") from None
    return {str(k): str(v) for k, v in topics.items()}


@dataclass
class Worsening:
    """An item whose pass rate fell in a group (department or team) from the earlier weeks to the recent ones."""

    item_id: str
    group: str
    before_rate: float
    before_calls: int
    recent_rate: float
    recent_calls: int


def worsenings(trends: pd.DataFrame, recent_weeks: int = 2, earlier_weeks: int = 4) -> list[Worsening]:
    """Items whose pass rate in the last `recent_weeks` weeks is at least WORSE_BY under the
    `earlier_weeks` before them, per group, with MIN_TREND_CALLS calls in each window."""
    if trends.empty:
        return []
    weeks = sorted(set(trends.week))
    recent, earlier = set(weeks[-recent_weeks:]), set(weeks[-(recent_weeks + earlier_weeks):-recent_weeks])
    out = []
    for (group, item), rows in trends.groupby(["grp", "item_id"]):
        a = rows[rows.week.isin(earlier)]
        b = rows[rows.week.isin(recent)]
        a_n, b_n = int(a.applicable_calls.sum()), int(b.applicable_calls.sum())
        if a_n < MIN_TREND_CALLS or b_n < MIN_TREND_CALLS:
            continue
        a_rate, b_rate = a.passed.sum() / a_n, b.passed.sum() / b_n
        if a_rate - b_rate >= WORSE_BY:
            out.append(Worsening(item, group, round(float(a_rate), 3), a_n, round(float(b_rate), 3), b_n))
    return out


def called_out(found: list[Worsening], at_least: int = 2) -> dict[str, list[Worsening]]:
    """Items that worsened in `at_least` groups at once: one fix for many places."""
    by_item: dict[str, list[Worsening]] = {}
    for w in found:
        by_item.setdefault(w.item_id, []).append(w)
    return {item: ws for item, ws in sorted(by_item.items()) if len(ws) >= at_least}


@dataclass
class TrendsReport:
    period: Period
    scorecard_id: str
    item_names: dict[str, str]            # in the stored scorecard version's order
    by: str
    trends: pd.DataFrame                  # grp, item_id, week, applicable_calls, passed, pass_rate
    worse: list[Worsening]
    called_out: dict[str, list[Worsening]]
    topics: pd.DataFrame                  # department, topic, calls, calls_in_department, share
    topic_weeks: pd.DataFrame             # department, week, topic, calls, calls_in_department

    @property
    def recurring_topics(self) -> list[str]:
        """Topics that customers raise in more than one department, most calls first."""
        t = self.topics[self.topics.calls > 0]
        counts = t.groupby("topic").agg(groups=("department", "nunique"), calls=("calls", "sum"))
        return list(counts[counts.groups >= 2].sort_values("calls", ascending=False).index)


def topic_table(topic_weeks: pd.DataFrame) -> pd.DataFrame:
    """Topic counts per department over the whole period, with each department's share."""
    if topic_weeks.empty:
        return pd.DataFrame(columns=["department", "topic", "calls", "calls_in_department", "share"])
    totals = topic_weeks.groupby(["department", "week"]).calls_in_department.first().groupby("department").sum()
    table = topic_weeks.dropna(subset=["topic"]).groupby(["department", "topic"], as_index=False).calls.sum()
    table["calls_in_department"] = table.department.map(totals).astype(int)
    table["share"] = (table.calls / table.calls_in_department).round(3)
    return table


def trends_report(store: Store, period: Period, scorecard, by: str = "department", topics: Optional[dict] = None) -> TrendsReport:
    """Which items fail where, week over week; items worsening in several groups at once; topics
    customers raise in each department, side by side."""
    since, until = period.bounds()
    trends = reads.item_trends(store, scorecard.id, since, until, by)
    found = worsenings(trends)
    topic_weeks = reads.topic_counts(store, topics if topics is not None else load_topics(), since, until)
    standard = standard_of(reads.coach_versions(store, scorecard.id, since, until), scorecard)
    names = {i.id: i.name for i in scorecard.items}
    return TrendsReport(period, scorecard.id, {i: names.get(i, i) for i in standard.item_ids}, by, trends, found,
                        called_out(found), topic_table(topic_weeks), topic_weeks)
