"""The coaching report's charts: matplotlib drawn to static SVG, embedded as data URIs.

Static images, not a charting script, so the same chart shows in the HTML file, in the PDF
(weasyprint draws SVG) and in the review app (whose content policy allows `data:` images and no
inline script). Each function takes the report's frames and returns a `data:image/svg+xml` URI.
"""
from __future__ import annotations

import base64
import io
from datetime import date

import matplotlib

matplotlib.use("Agg")  # no display: draw to files only

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

COLOURS = {"agent": "#1f5fa8", "team": "#e08a1e", "department": "#8a8f98"}
plt.rcParams.update({
    "font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
    "svg.hashsalt": "callqa", "svg.fonttype": "path",  # the same SVG for the same data; text as paths
})


def _uri(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")


def score_trend(weekly: pd.DataFrame, labels: dict[str, str], period_since: date) -> str:
    """Average score per week: the agent's line against the team's and the department's; the
    report's period shaded."""
    fig, ax = plt.subplots(figsize=(7.2, 2.6))
    for level in ("department", "team", "agent"):
        rows = weekly[weekly.level == level].sort_values("week")
        if rows.empty:
            continue
        ax.plot(pd.to_datetime(rows.week), rows.avg_score, marker="o", markersize=3.5 if level != "agent" else 5,
                linewidth=2.4 if level == "agent" else 1.4, color=COLOURS[level], label=labels.get(level, level),
                linestyle="-" if level == "agent" else "--")
    weeks = pd.to_datetime(weekly.week)
    if len(weeks):
        ax.axvspan(pd.Timestamp(period_since) - pd.Timedelta(days=3), weeks.max() + pd.Timedelta(days=3),
                   color="#1f5fa8", alpha=0.06, linewidth=0)
    ax.set_ylabel("average score")
    ax.set_ylim(max(0, (weekly.avg_score.min() if len(weekly) else 0) - 10), 101)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower left", frameon=False, ncol=3)
    fig.autofmt_xdate(rotation=0, ha="center")
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d %b"))
    return _uri(fig)


def item_bars(items, labels: dict[str, str]) -> str:
    """Pass rate per item, the agent's bar beside the team's and the department's; the agent's
    calls behind each bar written at its end."""
    items = [i for i in items if i.rates.get("agent") is not None]
    fig, ax = plt.subplots(figsize=(7.2, 0.42 * max(len(items), 1) + 0.8))
    height = 0.26
    for row, item in enumerate(reversed(items)):
        for k, level in enumerate(("agent", "team", "department")):
            rate = item.rates.get(level)
            if rate is None:
                continue
            y = row + (1 - k) * height
            ax.barh(y, 100 * rate, height=height * 0.92, color=COLOURS[level], label=labels[level] if row == 0 else None,
                    alpha=1.0 if level == "agent" else 0.75, edgecolor="#b3261e" if level == "agent" and item.weak else "none",
                    linewidth=1.4)
            if level == "agent":
                ax.text(100 * rate + 1, y, f"{100 * rate:.0f} % of {item.calls['agent']}", va="center", fontsize=7.5,
                        color="#b3261e" if item.weak else "#222")
    ax.set_yticks(range(len(items)), [i.item_id.replace("_", " ") for i in reversed(items)])
    ax.set_xlim(0, 115)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("pass rate % (calls where the item applied)")
    ax.grid(axis="x", alpha=0.3)
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False, ncol=3)
    return _uri(fig)


def item_weeks(frame: pd.DataFrame, items: list[str], sessions: list[date]) -> str:
    """The agent's weekly pass rate of a few items (weak or coached), coaching sessions marked."""
    fig, ax = plt.subplots(figsize=(7.2, 2.4))
    palette = ["#1f5fa8", "#b3261e", "#2e7d32", "#6a3d9a"]
    for colour, item in zip(palette, items):
        rows = frame[frame.item_id == item].sort_values("week")
        if not rows.empty:
            ax.plot(pd.to_datetime(rows.week), 100 * rows.pass_rate, marker="o", markersize=4, color=colour,
                    label=item.replace("_", " "))
    for day in sessions:
        ax.axvline(pd.Timestamp(day), color="#333", linestyle=":", linewidth=1.2)
        ax.annotate("coached", (pd.Timestamp(day), 102), fontsize=7.5, ha="center", va="bottom", annotation_clip=False)
    ax.set_ylim(-3, 108)
    ax.set_ylabel("pass rate %")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.06), frameon=False, ncol=4)
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d %b"))
    return _uri(fig)


def group_item_weeks(trends: pd.DataFrame, item: str) -> str:
    """One item's weekly pass rate in each department (or team), side by side as lines."""
    fig, ax = plt.subplots(figsize=(7.2, 2.4))
    rows = trends[trends.item_id == item]
    palette = ["#1f5fa8", "#e08a1e", "#2e7d32", "#b3261e", "#6a3d9a", "#8a8f98"]
    for colour, (group, g) in zip(palette, rows.groupby("grp")):
        g = g.sort_values("week")
        ax.plot(pd.to_datetime(g.week), 100 * g.pass_rate, marker="o", markersize=3.5, color=colour, label=group)
    ax.set_ylim(-3, 105)
    ax.set_ylabel("pass rate %")
    ax.set_title(item.replace("_", " "), loc="left", fontsize=9.5)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower left", frameon=False, ncol=3)
    ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%d %b"))
    return _uri(fig)
