"""Holds, dead air and metrics from speech spans (plain arithmetic, no audio)."""
from __future__ import annotations

import pytest

from pipeline.audio.activity import ActivityOptions, find_holds, measure
from pipeline.records import Span


def spans(*pairs):
    return [Span(a, b) for a, b in pairs]


def test_gap_in_agent_speech_with_quiet_customer_is_a_hold():
    holds = find_holds(spans((3, 10), (12, 20), (65, 80)), spans((10, 12), (80, 85)))
    assert [(h.start, h.end) for h in holds] == [(20, 65)]
    assert holds[0].duration == 45


def test_customer_talking_through_the_gap_is_not_a_hold():
    assert find_holds(spans((3, 10), (40, 50)), spans((10, 38))) == []


def test_ring_before_answer_and_silence_after_the_end_are_not_holds():
    assert find_holds(spans((30, 40)), spans((41, 45))) == []
    assert find_holds(spans((3, 10), (12, 14)), spans()) == []


def test_short_pauses_are_not_holds_and_threshold_is_configurable():
    agent = spans((0, 5), (15, 20))
    assert find_holds(agent, []) == []
    assert len(find_holds(agent, [], ActivityOptions(min_hold_s=8))) == 1


def test_metrics():
    agent = spans((2, 10), (50, 60))
    customer = spans((9, 20), (61, 64))
    holds = find_holds(agent, customer, ActivityOptions(min_hold_s=20))
    m = measure(70, agent, customer, holds)
    assert m.time_to_answer_s == 2
    assert m.handle_time_s == 68
    assert m.agent_talk_s == 18 and m.customer_talk_s == 14
    assert m.overtalk_s == 1
    assert m.hold_count == 1 and m.longest_hold_s == 40
    assert m.silence_s == pytest.approx(30 + 1 + 6)  # 20-50, 60-61, 64-70
    assert m.dead_air_count == 0  # the long silence is the hold
    assert m.talk_listen_ratio == pytest.approx(18 / 14, abs=0.01)


def test_dead_air_is_long_silence_outside_holds():
    m = measure(40, spans((0, 10), (22, 30)), spans((30, 35)), [])
    assert m.dead_air_count == 1 and m.longest_dead_air_s == 12
