"""A realistic multi-week history of scored calls, for the demo and the tests of the reports.

Hours of audio are not needed to show or test a coaching report; weeks of calls are. This module
writes calls that look, to every reader, like a night's scored calls: agent and customer
utterances with word timings and probabilities, holds (gaps in the agent's speech that
`activity.find_holds` finds), metrics from `activity.measure`, and item results with findings
from the real detector and scorer (`score.score_call` with the scorecard given). They are saved by
the write path of scoring (`writes.call_frames`, via `writes.save_calls`). Only the words are
invented: what the agent says is drawn from phrasings for each AIDET behaviour, so the trends
below are in the transcripts and the scorer finds them, as it would in real calls.

Generated calls are marked where a reviewer looks: ids `gen-<seed>-NNNN`, channel layout
`generated`, model `generated (seed N)`, no recording; the roster rows, reviews and coaching
sessions it adds name `generated`, `gen-reviewer` and `gen-lead`. The same seed, start and size
give the same calls, words and times (only the review and session timestamps are the clock's).

Trends built in (the stories a report should tell):
  1. Sarah (a103, Billing/Accounts) rarely says how long things take (duration passes on about a
     third of her calls) until a coaching session on the Monday of week 5; after it, most calls.
  2. Mateo (a202, Technical Support/Broadband) explains what happens next less and less, week
     after week, and his holds grow longer (more of them over the standard).
  3. From week 6, agents in Billing and in Technical Support stop thanking customers after holds
     (hold_thanked falls in both departments at once; Sales stays as it was).
  4. Customers call about a price rise more and more in the last three weeks, in every
     department (a topic that recurs across departments).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Optional

from pipeline.audio.activity import ActivityOptions, find_holds, measure
from pipeline.records import CallMeta, CallResult, Span, Utterance, Word
from pipeline.scoring.detect import Detector
from pipeline.scoring.score import score_call

COMPANY = "Northwind Energy"
GENERATED = "generated"
REVIEWER = "gen-reviewer"
LEAD = "gen-lead"


@dataclass(frozen=True)
class Agent:
    agent_id: str
    name: str
    team: str
    department: str


ROSTER: tuple[Agent, ...] = (
    Agent("a101", "Priya", "Payments", "Billing"), Agent("a102", "Daniel", "Payments", "Billing"),
    Agent("a103", "Sarah", "Accounts", "Billing"), Agent("a104", "Tomasz", "Accounts", "Billing"),
    Agent("a201", "Aisha", "Broadband", "Technical Support"), Agent("a202", "Mateo", "Broadband", "Technical Support"),
    Agent("a203", "Hannah", "Broadband", "Technical Support"), Agent("a204", "Kwame", "Devices", "Technical Support"),
    Agent("a205", "Elena", "Devices", "Technical Support"),
    Agent("a301", "Oliver", "Upgrades", "Sales"), Agent("a302", "Mei", "Upgrades", "Sales"),
    Agent("a303", "Rashid", "Retention", "Sales"), Agent("a304", "Grace", "Retention", "Sales"),
    Agent("a305", "Lukas", "Retention", "Sales"),
)

BEHAVIOURS = ("greeting", "introduce_name", "introduce_company", "duration", "explanation", "thank_you",
              "hold_announced", "hold_thanked")
"""The AIDET scorecard's items the agent does or does not do (hold length is drawn separately)."""


@dataclass(frozen=True)
class HistoryOptions:
    """What history to generate.

    Attributes:
      seed: the same seed gives the same calls, words and times.
      start: the Monday of the first week (calls fall on weekdays, 08:30-17:30).
      weeks: how many weeks.
      calls_per_week: calls per agent and week, on average (each agent's count varies a little).
      review_share: share of flagged calls that `gen-reviewer` reviews (deciding uncertain items,
        and overturning an occasional machine fail), so reports meet reviewed results.
      agents: the roster (agent id, name, team, department).
    """

    seed: int = 7
    start: date = date(2025, 2, 3)
    weeks: int = 8
    calls_per_week: int = 6
    review_share: float = 0.15
    agents: tuple[Agent, ...] = ROSTER


# --- what people say ------------------------------------------------------------------------------

TOPICS: dict[str, dict] = {
    # customer openers per topic, the departments it comes to (with weights), the agent's reply
    "high_bill": {"where": {"Billing": 3, "Sales": 1},
                  "say": ["My bill is much higher than usual this month.", "Why has my bill gone up so much?",
                          "I have just had a bill that is way higher than normal."],
                  "ack": "I can see the last bill included an estimated reading."},
    "payment_plan": {"where": {"Billing": 2},
                     "say": ["I can't pay the full amount, can I set up a payment plan?",
                             "Is it possible to spread the payments out?"],
                     "ack": "I can see the balance on the account."},
    "direct_debit": {"where": {"Billing": 2, "Sales": 1},
                     "say": ["My direct debit payment failed.", "I want to change the bank account for my direct debit."],
                     "ack": "I can see the last direct debit was returned by the bank."},
    "moving_house": {"where": {"Billing": 1, "Technical Support": 1, "Sales": 2},
                     "say": ["I'm moving house soon and need to move my service.",
                             "We're moving to a new address, what do I need to do?"],
                     "ack": "I can see the current address on the account."},
    "internet_down": {"where": {"Technical Support": 3},
                      "say": ["My internet keeps dropping out every evening.", "The broadband has been down since yesterday."],
                      "ack": "I can see some drops on the line in the last week."},
    "router_lights": {"where": {"Technical Support": 2},
                      "say": ["The lights on my router are flashing red.", "My router won't turn on at all."],
                      "ack": "I can see the router has not connected since this morning."},
    "slow_speed": {"where": {"Technical Support": 2},
                   "say": ["My internet is really slow.", "The speeds are much lower than I'm paying for."],
                   "ack": "I can see the line speed is lower than it should be."},
    "upgrade": {"where": {"Sales": 3},
                "say": ["I'd like to upgrade to the faster package.", "Can I add the TV bundle to my plan?"],
                "ack": "I can see what the account has at the moment."},
    "cancel": {"where": {"Sales": 2, "Billing": 1, "Technical Support": 1},
               "say": ["I want to cancel my contract.", "I'm thinking of leaving, how do I cancel?"],
               "ack": "I can see when the contract ends."},
    "price_rise": {"where": {"Billing": 1, "Technical Support": 1, "Sales": 1},
                   "say": ["I got a letter saying my price is going up.", "Why is the price going up again?",
                           "The new price in that letter is a lot more than I pay now."],
                   "ack": "I can see the price change letter that went out."},
}

GREET = ["Good morning,", "Hi,", "Hello,", "Good afternoon,"]
EXPLAIN = ["I'll send you a confirmation email with all the details.", "I've updated the account for you.",
           "I'm going to raise a ticket with our engineers.", "You'll receive a text once it's done.",
           "I'll email you a summary of what we changed today."]
DURATION = ["That takes about three working days.", "It can take up to five business days to show.",
            "It should all be done within 24 hours.", "That usually takes a couple of days."]
ANNOUNCE = ["Let me just check that for you, bear with me a moment.", "Can you hold the line for a minute?",
            "Give me a second while I look into that."]
RETURN_THANKED = ["Thanks for holding.", "Sorry to keep you waiting.", "Thank you for your patience."]
RETURN_PLAIN = ["Right.", "Okay, so.", "Yeah."]
VERIFY = [("Can I take the postcode on the account, please?", "Sure, it's in the north of the town, by the station."),
          ("And can I take your full name?", "Yes, it's on the account as Morgan Ellis."),
          ("Can you confirm the first line of the address?", "Twelve Mill Lane.")]
CUSTOMER_FOLLOW = ["Okay, and what happens now?", "Right, so what do I need to do?", "Okay, is there anything else I need to do?"]
CUSTOMER_OK = ["Okay, that's great.", "Brilliant, that's fine.", "Alright, good."]
CLOSE_THANKED = ["Thank you for calling, have a lovely day.", "Thanks very much for calling, take care."]
CLOSE_PLAIN = ["Okay, bye now.", "Alright then, bye."]


@dataclass
class _Script:
    """A call as lines and pauses, before words get times: ('agent'|'customer', text) or ('hold'|'pause', s)."""

    steps: list = field(default_factory=list)
    intended: dict = field(default_factory=dict)  # item id -> 'pass' | 'fail' the generator meant

    def say(self, speaker: str, text: str) -> None:
        self.steps.append((speaker, text))

    def wait(self, kind: str, seconds: float) -> None:
        self.steps.append((kind, seconds))


# --- skills and trends ------------------------------------------------------------------------------

def base_skills(agent: Agent, seed: int) -> dict[str, float]:
    """How often each agent does each behaviour, before the built-in trends (deterministic)."""
    rng = random.Random(f"{seed}-skills-{agent.agent_id}")
    return {item: rng.uniform(0.72, 0.97) for item in BEHAVIOURS}


def chance(agent: Agent, item: str, week: int, skills: dict[str, float], weeks: int) -> float:
    """The chance the agent does `item` in week `week` (0-based): the base skill and the trends."""
    p = skills[item]
    if agent.agent_id == "a103" and item == "duration":
        p = 0.33 if week < 4 else 0.86              # story 1: coached at the start of week 5
    if agent.agent_id == "a202" and item == "explanation":
        p = 0.92 - 0.5 * week / max(weeks - 1, 1)   # story 2: declines week after week
    if item == "hold_thanked" and week >= 5 and agent.department in ("Billing", "Technical Support"):
        p *= 0.3                                     # story 3: two departments at once
    return min(max(p, 0.0), 1.0)


def topic_for(rng: random.Random, department: str, week: int, weeks: int) -> str:
    """What the customer calls about; price rises grow in the last three weeks (story 4)."""
    weights = {t: spec["where"].get(department, 0) for t, spec in TOPICS.items()}
    if week >= weeks - 3:
        weights["price_rise"] = weights.get("price_rise", 0) * 4
    names = [t for t, w in weights.items() if w]
    return rng.choices(names, weights=[weights[t] for t in names])[0]


# --- one call -------------------------------------------------------------------------------------

def script(rng: random.Random, agent: Agent, topic: str, does: dict[str, bool], holds: list[float]) -> _Script:
    """The lines of one call, given what the agent does and the holds' lengths."""
    spec, s = TOPICS[topic], _Script()
    opening = []
    if does["greeting"]:
        opening.append(rng.choice(GREET))
    if does["introduce_company"]:
        opening.append(f"you're through to {COMPANY}," if opening else f"You're through to {COMPANY},")
    if does["introduce_name"]:
        opening.append(rng.choice([f"my name is {agent.name}.", f"{agent.name} speaking."]) if opening
                       else f"My name is {agent.name}.")
    opening.append("How can I help you today?" if does["greeting"] else "What's the account number?")
    s.say("agent", " ".join(opening).replace(",.", ".").replace(", What", ". What").replace(", How", ". How"))
    s.say("customer", rng.choice(spec["say"]))
    question, answer = rng.choice(VERIFY)
    s.say("agent", question)
    s.say("customer", answer)
    if rng.random() < 0.12:
        s.wait("pause", rng.uniform(10.5, 12.5))  # the agent reading the account in silence: dead air
    s.say("agent", spec["ack"])
    for hold_s in holds:
        s.say("agent", rng.choice(ANNOUNCE) if does["hold_announced"] else "Okay.")
        s.wait("hold", hold_s)
        back = rng.choice(RETURN_THANKED) if does["hold_thanked"] else rng.choice(RETURN_PLAIN)
        s.say("agent", f"{back} I have found what happened there.")
        s.say("customer", "Okay.")
    s.say("customer", rng.choice(CUSTOMER_FOLLOW))
    next_steps = []
    if does["explanation"]:
        next_steps.append(rng.choice(EXPLAIN))
    if does["duration"]:
        next_steps.append(rng.choice(DURATION))
    s.say("agent", " ".join(next_steps) or "Okay, that's everything on my side.")
    s.say("customer", rng.choice(CUSTOMER_OK))
    s.say("agent", "Is there anything else today?")
    s.say("customer", "No, that's all.")
    s.say("agent", rng.choice(CLOSE_THANKED) if does["thank_you"] else rng.choice(CLOSE_PLAIN))
    s.say("customer", "Bye.")
    s.intended = {item: ("pass" if does[item] else "fail") for item in BEHAVIOURS}
    if not holds:
        s.intended.update(hold_announced="na", hold_thanked="na")
    return s


def timed(rng: random.Random, steps: list, answer_s: float, quality: float) -> tuple[list[Utterance], float]:
    """Words with times and probabilities for a script; returns the utterances and the call's length."""
    utterances, t = [], answer_s
    for kind, value in steps:
        if kind in ("hold", "pause"):
            t += value
            continue
        words = []
        for text in value.split():
            length = (0.16 + 0.045 * len(text)) * rng.uniform(0.85, 1.15)
            probability = min(0.999, max(0.2, rng.gauss(quality, 0.05)))
            words.append(Word(text, round(t, 2), round(t + length, 2), round(probability, 3)))
            t += length + rng.uniform(0.03, 0.12)
        utterances.append(Utterance(kind, words[0].start, words[-1].end, value, tuple(words)))
        t = words[-1].end + rng.uniform(0.35, 1.1)
    return utterances, round(t + 1.0, 2)


def generated_call(rng: random.Random, options: HistoryOptions, agent: Agent, week: int, number: int,
                   skills: dict[str, float], scorecard, detector: Detector) -> tuple[CallResult, dict]:
    """One scored call of `agent` in `week`, and what the generator meant each item to be."""
    day = options.start + timedelta(weeks=week, days=rng.randrange(5))
    started = datetime.combine(day, time(8, 30)) + timedelta(minutes=rng.randrange(9 * 60))
    does = {item: rng.random() < chance(agent, item, week, skills, options.weeks) for item in BEHAVIOURS}
    hold_count = rng.choices([0, 1, 2], weights=[5, 4, 1] if agent.department == "Technical Support" else [6, 3, 1])[0]
    over_share = 0.12 + (0.45 * week / max(options.weeks - 1, 1) if agent.agent_id == "a202" else 0.0)
    holds = [rng.uniform(62, 125) if rng.random() < over_share else rng.uniform(24, 55) for _ in range(hold_count)]
    topic = topic_for(rng, agent.department, week, options.weeks)
    lines = script(rng, agent, topic, does, holds)
    answer_s = {"Billing": 4.0, "Technical Support": 8.0, "Sales": 3.0}.get(agent.department, 5.0) * rng.uniform(0.4, 2.5)
    quality = 0.45 if rng.random() < 0.03 else rng.uniform(0.86, 0.96)  # now and then a poor line
    utterances, duration = timed(rng, lines.steps, answer_s, quality)
    agent_spans = [Span(u.start, u.end) for u in utterances if u.speaker == "agent"]
    customer_spans = [Span(u.start, u.end) for u in utterances if u.speaker == "customer"]
    options_ = ActivityOptions()
    found = find_holds(agent_spans, customer_spans, options_)
    metrics = measure(duration, agent_spans, customer_spans, found, utterances, options_)
    meta = CallMeta(call_id=f"gen-{options.seed}-{number:04d}", path="", agent_id=agent.agent_id,
                    agent_name=agent.name, department=agent.department, started_at=started,
                    channel_layout=None, language="en")
    score = score_call(scorecard, utterances, found, metrics, duration, "en", detector=detector, context=meta.context)
    result = CallResult(meta=meta, channel_layout=GENERATED, language="en", model=f"generated (seed {options.seed})",
                        utterances=utterances, holds=found, metrics=metrics, score=score)
    return result, {"topic": topic, "intended": lines.intended}


def generate_calls(options: HistoryOptions, scorecard) -> list[tuple[CallResult, dict]]:
    """Every call of the history, in time order within each agent (pure: nothing is written)."""
    rng = random.Random(options.seed)
    detector = Detector(scorecard)
    out, number = [], 0
    for week in range(options.weeks):
        for agent in options.agents:
            skills = base_skills(agent, options.seed)
            count = max(1, options.calls_per_week + rng.choice([-2, -1, 0, 0, 1, 2]))
            for _ in range(count):
                number += 1
                out.append(generated_call(rng, options, agent, week, number, skills, scorecard, detector))
    return out


def review_decisions(rng: random.Random, result: CallResult, intended: dict) -> dict[str, tuple[str, str]]:
    """What `gen-reviewer` decides on a flagged call: the generator's intent for uncertain items, the
    machine's outcome otherwise, and now and then a machine fail overturned (a phrasing it missed)."""
    decisions = {}
    for item in result.score.items:
        outcome, comment = item.outcome, ""
        if outcome == "uncertain":
            outcome = intended.get(item.item_id, "fail") if intended.get(item.item_id) != "na" else "na"
            comment = "generated review: decided from the words"
        elif outcome == "fail" and item.item_id in ("duration", "explanation") and rng.random() < 0.3:
            outcome, comment = "pass", "generated review: said in other words the machine did not know"
        decisions[item.item_id] = (outcome, comment)
    return decisions


def coaching_sessions(options: HistoryOptions) -> list[dict]:
    """The coaching sessions of the stories: Sarah on duration at the start of week 5."""
    if options.weeks < 5 or not any(a.agent_id == "a103" for a in options.agents):
        return []
    return [{"agent_id": "a103", "session_date": options.start + timedelta(weeks=4), "items": ["duration"],
             "goals": "Say how long each next step takes, on every call (target 80 %).",
             "notes": "generated: listened to two calls together", "coached_by": LEAD}]


def roster_rows(agents: Iterable[Agent]) -> list[dict]:
    return [{"agent_id": a.agent_id, "agent_name": a.name, "team": a.team, "department": a.department,
             "source": GENERATED} for a in agents]


@dataclass(frozen=True)
class Generated:
    calls: int
    reviewed_calls: int
    sessions: int
    first_day: date
    last_day: date


class AlreadyGenerated(ValueError):
    """The database already holds a history of this seed (its reviews and sessions would double)."""


def write_history(store, options: HistoryOptions, scorecard) -> Generated:
    """Generate the history and save it: calls through the scoring write path, then the roster,
    reviews of a share of flagged calls, and the coaching sessions of the stories."""
    from pipeline.store import reads, writes

    if reads.generated_call_count(store, options.seed):
        raise AlreadyGenerated(f"{store.path} already holds the generated history of seed {options.seed}: "
                               "use another --seed or a new --db")
    calls = generate_calls(options, scorecard)
    writes.save_calls(store, [result for result, _ in calls], run_id=f"generate-seed-{options.seed}")
    writes.save_roster(store, roster_rows(options.agents))
    rng = random.Random(f"{options.seed}-reviews")
    to_review = [(r, meta) for r, meta in calls if r.score.flagged and rng.random() < options.review_share]
    with store.transaction() as con:
        for result, meta in to_review:
            writes.save_item_reviews(store, result.meta.call_id, result.score.scorecard_id, result.score.scorecard_version,
                                     review_decisions(rng, result, meta["intended"]), REVIEWER, "reviewer", con=con)
    sessions = coaching_sessions(options)
    for session in sessions:
        writes.add_coaching_session(store, **session)
    days = [r.meta.started_at.date() for r, _ in calls]
    return Generated(len(calls), len(to_review), len(sessions), min(days), max(days))
