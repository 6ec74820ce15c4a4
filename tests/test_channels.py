"""Channels that lie: one mix on both channels, two audio streams, swapped channels, and a mono
split that flips speakers every second.

Test audio is made here from the real samples (data/samples: the real role-played call and the
synthetic calls) with numpy and ffmpeg. The detectors are tested exactly on arrays and on text;
the end-to-end checks through `process_call` (Whisper tiny.en) assert only what holds on any CPU:
the layout, the flags that rest on the audio, both parties present, no doubled transcript, and a
swap flag whose verdict agrees with the layout used.
"""
from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from conftest import channels_of
from pipeline.audio import activity
from pipeline.audio.channels import SameMix, audio_streams, combine, same_mix, stream_layout, swap_check, swap_speakers
from pipeline.audio.decode import AudioError, load_call
from pipeline.audio.diarize import Turns, split_speakers, turn_taking
from pipeline.records import CallMeta, Span, Utterance

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"
REAL_CALL = SAMPLES / "real_auto_repairs_40.flac"  # real role-played call: agent left, caller right, 8 kHz
MODEL_CALL = SAMPLES / "c01_model_call.ogg"       # synthetic: agent left, customer right, 16 kHz
RATE = 16_000

pytestmark = pytest.mark.skipif(not shutil.which("ffmpeg") or not shutil.which("ffprobe"), reason="needs ffmpeg")


# --- making test audio ------------------------------------------------------------------------

def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def write(path: Path, *chans: np.ndarray, rate: int = RATE) -> Path:
    """WAV of the given channels; any other suffix is encoded from it by ffmpeg."""
    wav = path if path.suffix == ".wav" else path.with_suffix(".src.wav")
    data = np.stack(chans, axis=1)
    with wave.open(str(wav), "wb") as out:
        out.setnchannels(len(chans))
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(data, -1, 1) * 32767).astype("<i2").tobytes())
    if wav != path:
        ffmpeg("-i", str(wav), str(path))
        wav.unlink()
    return path


def delayed(x: np.ndarray, samples: int) -> np.ndarray:
    """x later by `samples` (earlier when negative), zero-filled."""
    out = np.zeros_like(x)
    if samples > 0:
        out[samples:] = x[:-samples]
    elif samples < 0:
        out[:samples] = x[-samples:]
    else:
        out[:] = x
    return out


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


@pytest.fixture(scope="module")
def real():
    """The real call, 90 s: (agent, caller) and their mono mix."""
    agent, caller = channels_of(REAL_CALL, 90)
    return agent, caller, (agent + caller) / 2


@pytest.fixture(scope="module")
def model_call():
    agent, customer = channels_of(MODEL_CALL, 60)
    return agent, customer, (agent + customer) / 2


# --- one mix on both channels: the detector on arrays ------------------------------------------

@pytest.mark.parametrize("gain,lag", [(-0.5, 0), (-1.0, 0), (0.3, 3), (-0.5, -5), (2.0, 40), (1.0, 0)])
def test_one_mix_at_any_gain_polarity_or_small_delay_is_found(real, gain, lag):
    mix = real[2]
    found = same_mix(mix, gain * delayed(mix, lag))
    assert found is not None
    assert found.gain == pytest.approx(gain, rel=0.02) and found.lag == lag
    assert found.correlation > 0.99
    assert found.identical == (gain == 1.0 and lag == 0)


@pytest.mark.parametrize("which", ["real", "model_call"])
def test_two_parties_on_two_channels_are_not_one_mix(request, which):
    left, right, _ = request.getfixturevalue(which)
    assert same_mix(left, right) is None
    assert same_mix(right, left) is None


@pytest.mark.parametrize("leak", [0.2, 0.5])
def test_crosstalk_is_not_one_mix(real, leak):
    """Each channel hears the other party faintly (echo, a hybrid): the channels correlate, but the
    level between them swings with every turn, so they still carry two parties."""
    agent, caller, _ = real
    left, right = agent + leak * delayed(caller, 12), caller + leak * delayed(agent, 12)
    assert same_mix(left, right) is None


def test_the_verdict_does_not_depend_on_where_the_mismatching_windows_are(real):
    """`same_mix` stops at the first batch that makes the share of matching windows too low to
    reach MIN_MATCHING: mismatches anywhere (first seconds or last) give the same verdict as the
    whole call would, and a few mismatches at the start, within the share allowed, still match."""
    mix = real[2]
    size, other = RATE, np.roll(real[2], 7 * RATE)  # one-second windows; another stretch of the call
    for where in (slice(0, 30 * size), slice(60 * size, None)):  # a third of the call differs
        right = mix.copy()
        right[where] = other[where]
        assert same_mix(mix, right) is None
    right = mix.copy()
    right[: 5 * size] = other[: 5 * size]  # 5 of 90 windows differ, at the very start
    found = same_mix(mix, right)
    assert found is not None and (found.gain, found.lag) == (1.0, 0)


def test_silence_and_noise_are_not_one_mix():
    rng = np.random.default_rng(7)
    assert same_mix(np.zeros(RATE * 30, np.float32), np.zeros(RATE * 30, np.float32)) is None
    assert same_mix(rng.normal(0, 0.01, RATE * 30), rng.normal(0, 0.01, RATE * 30)) is None
    assert same_mix(np.zeros(RATE * 3, np.float32), np.zeros(RATE * 3, np.float32)) is None  # too short


def test_combining_one_mix_never_cancels_an_inverted_copy(real):
    mix = real[2]
    for gain, lag in [(-1.0, 0), (-0.5, 3), (0.25, -7)]:
        right = gain * delayed(mix, lag)
        found = same_mix(mix, right)
        combined = combine(mix, right, found)
        assert rms(combined) == pytest.approx(rms(mix), rel=0.05)
        assert np.corrcoef(combined[1000:-1000], mix[1000:-1000])[0, 1] > 0.99
    assert rms((mix - mix) / 2) == 0  # what averaging did to right = -left


def test_describe_says_gain_polarity_and_delay():
    text = SameMix(-0.5, 3, 0.991, 60).describe(16_000)
    assert text == "right = -0.50 x left, 3 samples (0.2 ms) later, correlation 0.99 over 60 windows"
    assert "later" not in SameMix(0.3, 0, 0.99, 60).describe()
    assert "earlier" in SameMix(0.3, -4, 0.99, 60).describe()


# --- one mix on both channels: decoding files ----------------------------------------------------

@pytest.mark.parametrize("suffix", [".wav", ".mp3", ".m4a", ".ogg", ".flac"])
def test_a_file_with_one_mix_at_half_gain_inverted_is_mono_and_flagged(tmp_path, real, suffix):
    mix = real[2]
    path = write(tmp_path / f"same{suffix}", mix, -0.5 * delayed(mix, 2))
    audio = load_call(path, "agent_left")
    assert audio.layout == "mono" and audio.agent is None
    assert len(audio.flags) == 1 and "carry one mix" in audio.flags[0] and "right = -0.50 x left" in audio.flags[0]
    assert "scored as mono" in audio.flags[0]
    assert rms(audio.mixed) == pytest.approx(rms(mix), rel=0.15)  # not cancelled, not halved


def test_inverted_copy_is_mono_with_sound(tmp_path, model_call):
    mix = model_call[2]
    audio = load_call(write(tmp_path / "inv.wav", mix, -mix))
    assert audio.layout == "mono" and "right = -1.00 x left" in audio.flags[0]
    assert rms(audio.mixed) == pytest.approx(rms(mix), rel=0.05)


def test_identical_channels_stay_mono_without_a_flag(tmp_path, model_call):
    mix = model_call[2]
    audio = load_call(write(tmp_path / "same.wav", mix, mix))
    assert audio.layout == "mono" and audio.flags == ()


@pytest.mark.parametrize("sample,layout", [("c01_model_call.ogg", "agent_left"), ("c09_agent_right.m4a", "agent_right"),
                                           ("real_auto_repairs_40.flac", "agent_left")])
def test_real_stereo_calls_keep_their_layout_and_no_flag(sample, layout):
    audio = load_call(SAMPLES / sample, layout)
    assert audio.layout == layout and audio.flags == () and audio.source_streams == 1


# --- two audio streams ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_streams(tmp_path_factory):
    """The real call as an m4a with agent and caller as two mono streams (ffmpeg -map); the caller's
    stream 5 s longer than the agent's. Returns (folder, agent, caller) with the sources at 16 kHz."""
    folder = tmp_path_factory.mktemp("streams")
    agent, caller = channels_of(REAL_CALL, 60)
    agent = agent[: 55 * RATE]
    write(folder / "agent.wav", agent)
    write(folder / "caller.wav", caller)
    src = ["-i", str(folder / "agent.wav"), "-i", str(folder / "caller.wav"), "-map", "0:a", "-map", "1:a", "-c:a", "aac", "-b:a", "48k"]
    ffmpeg(*src, str(folder / "two.m4a"))
    ffmpeg(*src, "-metadata:s:a:0", "handler_name=Customer", "-metadata:s:a:1", "handler_name=Agent", str(folder / "titled.m4a"))
    ffmpeg(*src[:4], "-i", str(folder / "agent.wav"), *src[4:], "-map", "2:a", "-c:a", "aac", str(folder / "three.m4a"))
    ffmpeg(*src[:8], "-c:a", "flac", "-f", "matroska", str(folder / "two.mka"))
    return folder, agent, caller


def _similar(a: np.ndarray, b: np.ndarray) -> float:
    n = min(a.size, b.size)
    return float(np.corrcoef(a[:n], b[:n])[0, 1])


def test_the_probe_lists_both_streams(two_streams):
    folder = two_streams[0]
    streams = audio_streams(folder / "two.m4a")
    assert [(s.position, s.channels, s.sample_rate) for s in streams] == [(0, 1, RATE), (1, 1, RATE)]
    assert streams[0].duration_s == pytest.approx(55, abs=0.1) and streams[1].duration_s == pytest.approx(60, abs=0.1)
    assert [s.role for s in streams] == [None, None] and stream_layout(streams) is None
    titled = audio_streams(folder / "titled.m4a")
    assert [s.role for s in titled] == ["customer", "agent"] and stream_layout(titled) == "agent_right"
    assert len(audio_streams(SAMPLES / "c04_short_hold_thanks.m4a")) == 1
    assert audio_streams(folder / "agent.wav") == []  # WAV: one stream, read without ffmpeg


def test_two_streams_are_merged_into_a_stereo_call_stream_0_agent(two_streams):
    folder, agent, caller = two_streams
    audio = load_call(folder / "two.m4a")
    assert audio.layout == "agent_left" and audio.source_streams == 2 and audio.flags == ()
    assert audio.duration_s == pytest.approx(60, abs=0.1)  # the longer stream; the shorter padded
    assert _similar(audio.agent, agent) > 0.95 and _similar(audio.customer, caller) > 0.95
    assert rms(audio.agent[56 * RATE:]) < 1e-4  # the padding is silence
    right = load_call(folder / "two.m4a", "agent_right")
    assert _similar(right.agent, caller) > 0.95 and _similar(right.customer, agent) > 0.95
    mono = load_call(folder / "two.m4a", "mono")
    assert mono.layout == "mono" and rms(mono.mixed) > 0.5 * rms(caller)


def test_stream_titles_set_the_layout_and_disagreeing_metadata_is_flagged(two_streams):
    folder, agent, caller = two_streams
    titled = load_call(folder / "titled.m4a")
    assert titled.layout == "agent_right" and titled.flags == ()
    assert _similar(titled.agent, caller) > 0.95  # stream 1, titled 'Agent'
    declared = load_call(folder / "titled.m4a", "agent_left")
    assert declared.layout == "agent_left" and _similar(declared.agent, agent) > 0.95
    assert declared.flags == ("channel layout: the stream titles say the agent is audio stream 1 ('Agent'), "
                              "the metadata says agent_left: scored as agent_left",)


def test_two_streams_in_another_container_and_odd_names(two_streams, tmp_path):
    folder, agent, caller = two_streams
    odd = tmp_path / "-x:call 1.m4a"  # a leading dash and a colon: still a file name to ffmpeg
    shutil.copy(folder / "two.m4a", odd)
    assert load_call(odd).source_streams == 2
    mka = folder / "two.mka"
    renamed = tmp_path / "two_streams.flac"  # Matroska with two FLAC streams, named .flac
    shutil.copy(mka, renamed)
    audio = load_call(renamed)
    assert audio.source_streams == 2 and _similar(audio.customer, caller) > 0.99


def test_three_streams_fail_clearly(two_streams):
    with pytest.raises(AudioError, match="3 audio streams: expected one, or two") as info:
        load_call(two_streams[0] / "three.m4a")
    assert info.value.permanent


def test_two_streams_of_one_mix_are_mono(tmp_path, real):
    mix = real[2]
    write(tmp_path / "a.wav", mix)
    write(tmp_path / "b.wav", -0.5 * mix)
    ffmpeg("-i", str(tmp_path / "a.wav"), "-i", str(tmp_path / "b.wav"), "-map", "0:a", "-map", "1:a", "-c:a", "aac", str(tmp_path / "ab.m4a"))
    audio = load_call(tmp_path / "ab.m4a")
    assert audio.layout == "mono" and "stereo audio streams carry one mix" in audio.flags[0]


# --- swapped channels, on text --------------------------------------------------------------------

def U(speaker: str, start: float, text: str) -> Utterance:
    return Utterance(speaker, start, start + 3.0, text)


SWAPPED = [
    U("customer", 2.0, "Good morning, thank you for calling Northwind Energy, my name is Sarah. How can I help you today?"),
    U("agent", 9.0, "Hi Sarah, I'm calling about my bill, it looks far too high."),
    U("customer", 15.0, "I'm sorry to hear that, let me look into it."),
]


def test_strong_evidence_swaps():
    check = swap_check(SWAPPED)
    assert check is not None and check.swap
    assert check.flag() == (
        "channels swapped (scored with agent and customer exchanged): in the first 45 s the customer side says the "
        "agent's 'thank you for calling', 'how can I help', the agent side none; the customer side speaks first; "
        "the agent side says the caller's 'I'm calling about', 'my account, my bill, ...'"
    )
    assert check.flag("voices").startswith("voices swapped")
    swapped = swap_speakers(SWAPPED)
    assert [u.speaker for u in swapped] == ["agent", "customer", "agent"] and swapped[0].text == SWAPPED[0].text
    assert swap_check(swapped) is None


def test_one_opening_and_two_caller_cues_are_strong_too():
    """A real role-play opening (Harper Valley, tests' eval corpus) with the sides exchanged."""
    said = [U("customer", 2.4, "hello this is harper valley national bank my name is jennifer how can i help you today"),
            U("agent", 10.7, "hi my name is robert johnson i would like to transfer money between my accounts")]
    check = swap_check(said)
    assert check.swap and check.evidence.endswith("the agent side says the caller's 'I'd like to ...', 'my account, my bill, ...'")
    said[1] = U("agent", 10.7, "hi my name is elizabeth david i need to check my account balance")
    assert not swap_check(said).swap  # two cues: flagged only


@pytest.mark.parametrize("case,utterances", [
    ("no caller cue", SWAPPED[:1] + [U("agent", 9.0, "Hi Sarah, my name is Tom Baker, my last bill is far too high.")]),
    ("one agent cue, one caller cue", [U("customer", 2.0, "Hello, thank you for calling Northwind Energy."),
                                       U("agent", 9.0, "Hi, I'm calling about the letter you sent.")]),
    ("agent side speaks first", [U("agent", 1.0, "Hello?")] + SWAPPED),
    ("the customer side explains too", SWAPPED + [U("customer", 20.0, "I have a question about my bill as well.")]),
])
def test_weaker_evidence_only_flags(case, utterances):
    check = swap_check(utterances)
    assert check is not None and not check.swap, case
    assert check.flag().startswith("channels look swapped (scored as recorded): in the first 45 s the customer side says")


@pytest.mark.parametrize("case,utterances", [
    ("a normal call", swap_speakers(SWAPPED)),
    ("both sides open", SWAPPED + [U("agent", 12.0, "Welcome to Northwind, how may I assist?")]),
    ("the customer thanks for a call back", [U("agent", 2.0, "Hello, Northwind Energy."),
                                              U("customer", 6.0, "Oh hi, thank you for calling me back.")]),
    ("the customer gives a name", [U("agent", 2.0, "Northwind Energy, Priya speaking."),
                                   U("customer", 6.0, "Hello there, my name is Rebecca Stone.")]),
    ("the cue after the opening", [U("agent", 2.0, "Hello."), U("customer", 60.0, "Thank you for calling, how can I help?")]),
    ("nothing said", []),
])
def test_no_evidence_no_flag(case, utterances):
    assert swap_check(utterances) is None, case


def test_swap_cues_read_curly_apostrophes_punctuation_and_case():
    said = [U("customer", 1.0, "THANKS for calling! You\u2019re through to Contoso\u2026"), U("agent", 5.0, "I\u2019d like to cancel my card.")]
    check = swap_check(said)
    assert check.swap and "'you're through to'" in check.evidence and "'I'd like to ...'" in check.evidence


# --- a mono split that flips speakers ---------------------------------------------------------------

def _alternating(turn_s: float, total_s: float, gap_s: float = 0.0) -> tuple[list[Span], list[Span]]:
    agent, customer, t, who = [], [], 0.0, 0
    while t + turn_s <= total_s:
        (agent if who == 0 else customer).append(Span(t, t + turn_s))
        t, who = t + turn_s + gap_s, 1 - who
    return agent, customer


def test_turn_taking_counts_changes_without_a_pause():
    flicker = turn_taking(*_alternating(0.8, 60.0), speech_s=60.0)
    assert flicker == Turns(quick_changes=74, per_minute=74.0, typical_s=0.8) and flicker.flicker
    calm = turn_taking(*_alternating(6.0, 60.0), speech_s=60.0)
    assert calm == Turns(quick_changes=9, per_minute=9.0, typical_s=6.0) and not calm.flicker
    paused = turn_taking(*_alternating(0.8, 60.0, gap_s=0.5), speech_s=60.0)
    assert paused.quick_changes == 0 and not paused.flicker  # real turns with pauses between them
    assert turn_taking(*_alternating(0.8, 15.0), speech_s=15.0) is None  # too little speech to judge
    # 16 a minute is flicker only when the stretches are short too.
    assert Turns(16, 16.0, 1.5).flicker and not Turns(16, 16.0, 2.5).flicker and Turns(24, 24.0, 3.0).flicker


def _mono_parts(agent: np.ndarray, other: np.ndarray):
    mix = agent[: other.size] + other[: agent.size]
    return split_speakers(mix, activity.speech_spans(mix))


@pytest.fixture(scope="module")
def raised_caller(tmp_path_factory):
    """The real call's caller, pitch raised to the agent's voice (same tempo): two similar voices."""
    folder = tmp_path_factory.mktemp("pitch")
    ffmpeg("-t", "120", "-i", str(REAL_CALL), "-af", "pan=mono|c0=c1,asetrate=8000*1.5,aresample=8000,atempo=1/1.5",
           str(folder / "caller_up.wav"))
    agent, _ = channels_of(REAL_CALL, 120)
    raised, _ = channels_of(folder / "caller_up.wav")
    return agent, raised


def test_two_voices_of_similar_pitch_on_mono_are_told_apart_by_their_spectrum(raised_caller):
    """Pitch alone flickered between these two; the voice features (MFCC) keep the turns
    (the share of speech given to the right voice is measured in tests/test_mono.py)."""
    parties = _mono_parts(*raised_caller)
    assert parties.separable and not parties.turns.flicker


def test_two_real_voices_and_the_mono_sample_stay_separable():
    parties = _mono_parts(*channels_of(REAL_CALL))  # the whole real call, mixed to mono
    assert parties.separable and parties.reason == "" and not parties.turns.flicker
    mono = load_call(SAMPLES / "c08_mono.wav")
    c08 = split_speakers(mono.mixed, activity.speech_spans(mono.mixed))
    assert c08.separable and c08.turns.per_minute < 10


def test_one_voice_alone_is_not_two():
    agent = channels_of(REAL_CALL)[0]
    parties = split_speakers(agent, activity.speech_spans(agent))
    assert not parties.separable and parties.reason


# --- end to end through process_call (Whisper tiny.en, one thread) ----------------------------------

@pytest.fixture(scope="module")
def tiny():
    from pipeline.audio.models import load_model

    return load_model("tiny.en", cpu_threads=1)


def _score(path: Path, model, scorecard, layout: str | None = "agent_left", call_type: str = ""):
    from pipeline.process import PipelineOptions, process_call

    meta = CallMeta(call_id=path.stem, path=str(path), channel_layout=layout, call_type=call_type)
    result = process_call(meta, model, scorecard, PipelineOptions(model="tiny.en"))
    assert result.error is None, result.error
    return result


def _overlapping_across_speakers(utterances) -> float:
    agent = [u for u in utterances if u.speaker == "agent"]
    customer = [u for u in utterances if u.speaker == "customer"]
    return sum(max(0.0, min(a.end, c.end) - max(a.start, c.start)) for a in agent for c in customer)


def test_end_to_end_one_mix_and_two_streams(tmp_path, tiny, scorecard):
    """A stereo m4a whose right channel is the left at -0.5, 2 samples late: mono, flagged, each
    word once. The same call as two mono streams: both parties heard, as stereo."""
    agent, customer = channels_of(MODEL_CALL, 45)
    mix = (agent + customer) / 2
    same = _score(write(tmp_path / "one_mix.m4a", mix, -0.5 * delayed(mix, 2)), tiny, scorecard)
    assert same.channel_layout == "mono" and same.score.flagged
    assert any("carry one mix" in f for f in same.score.flag_reasons)
    assert {u.speaker for u in same.utterances} == {"agent", "customer"}
    assert _overlapping_across_speakers(same.utterances) < 1.0  # the old split doubled every word

    write(tmp_path / "agent.wav", agent)
    write(tmp_path / "customer.wav", customer)
    ffmpeg("-i", str(tmp_path / "agent.wav"), "-i", str(tmp_path / "customer.wav"), "-map", "0:a", "-map", "1:a",
           "-c:a", "aac", str(tmp_path / "two_streams.m4a"))
    two = _score(tmp_path / "two_streams.m4a", tiny, scorecard, layout=None)
    assert two.channel_layout == "agent_left"
    assert {u.speaker for u in two.utterances} == {"agent", "customer"}
    assert two.metrics.customer_talk_s > 5  # the second stream was heard (before: 0)
    assert not any("one mix" in f or "swapped" in f for f in two.score.flag_reasons)


def test_end_to_end_swapped_channels_are_flagged(tmp_path, tiny, scorecard):
    """The real call's first 50 s with agent and caller exchanged, declared agent_left. Whether the
    evidence is strong enough to swap rests on Whisper's words; the flag and a layout that agrees
    with its verdict do not."""
    path = tmp_path / "swapped.flac"
    ffmpeg("-t", "50", "-i", str(REAL_CALL), "-af", "pan=stereo|c0=c1|c1=c0", str(path))
    result = _score(path, tiny, scorecard)
    swaps = [f for f in result.score.flag_reasons if "swapped" in f]
    assert result.score.flagged and len(swaps) == 1
    assert "the customer side speaks first" in swaps[0]
    if swaps[0].startswith("channels swapped"):
        assert result.channel_layout == "agent_right" and result.utterances[0].speaker == "agent"
    else:
        assert swaps[0].startswith("channels look swapped") and result.channel_layout == "agent_left"
    outbound = _score(path, tiny, scorecard, call_type="Outbound sales")
    assert not any("swapped" in f for f in outbound.score.flag_reasons)  # the customer answers an outbound call
