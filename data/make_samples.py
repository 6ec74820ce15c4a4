#!/usr/bin/env python
"""Generate the bundled sample calls in data/samples/ with text-to-speech.

Run from the repository root:

    .venv/bin/python data/make_samples.py                 # every call, labels, manifest
    .venv/bin/python data/make_samples.py c03_no_duration # only the named calls (and their labels)

Needs espeak-ng, sox and ffmpeg on PATH, plus pydub and numpy.

Each synthetic call is a script of agent/customer turns, holds and pauses. Every turn is
rendered with espeak-ng (a different voice for agent and customer), resampled with sox to a
telephone rate (8 or 16 kHz), trimmed, and placed on a sample-exact timeline: agent on one
channel, customer on the other (or both mixed for the mono call). Holds are agent silence or a
synthetic sine-tone melody on the agent channel. Low-level noise (about -60 dBFS) is added so
no part of a call is digital silence. The ground truth (script with start times, holds placed,
expected scorecard items) goes to labels.json, the per-call metadata to manifest.csv.

It also joins the real role-played call from ../shared/realaudio (AWS Live Call Analytics
sample, Apache-2.0) into one stereo FLAC, agent left, caller right.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

import numpy as np
from pydub import AudioSegment

HERE = Path(__file__).resolve().parent            # data/
OUT = HERE / "samples"
REAL_DIR = Path(os.environ.get("CALLQA_REALAUDIO", HERE.parent.parent / "shared" / "realaudio"))

NOISE_DBFS = -60.0          # RMS of the background noise on every channel
AGENT_PEAK_DBFS = -4.0      # each agent turn is normalised to this peak
CUSTOMER_PEAK_DBFS = -5.0
MUSIC_PEAK_DBFS = -20.0     # hold music: low-moderate
MAX_CUSTOMER_TURN_S = 15.0
MAX_NON_HOLD_GAP_S = 20.0   # agent and customer both quiet: only a hold may be this long
# A hold is agent silence of at least 20 s (pipeline.audio.activity.ActivityOptions.min_hold_s);
# the scorecard's standard is at most 60 s. Every hold keeps HOLD_MARGIN_S away from both, so a
# few hundred milliseconds of difference in what the VAD hears on another CPU or after another
# encoder can never move a hold across a threshold (35-45 s within the standard, 75 s+ over it).
HOLD_THRESHOLDS_S = (20.0, 60.0)
HOLD_MARGIN_S = 15.0

ALL_PASS = {
    "greeting": "pass", "introduce_name": "pass", "introduce_company": "pass",
    "duration": "pass", "explanation": "pass", "thank_you": "pass",
}
NO_HOLD = {"hold_announced": "na", "hold_within_standard": "na", "hold_thanked": "na"}
GOOD_HOLD = {"hold_announced": "pass", "hold_within_standard": "pass", "hold_thanked": "pass"}


def items(**over):
    d = dict(ALL_PASS)
    d.update(over)
    return d


# --------------------------------------------------------------------------------------------
# The calls. Events: ("agent"|"customer", text[, gap_s]); ("hold", "music"|"silence", dur_s).
# gap_s is the time from the end of the previous speech to this turn (negative = overlap);
# left out it is drawn from 0.4-1.2 s. A hold starts when the agent's announcement (or last
# words) end and lasts until the agent speaks again; the customer is silent during it.
# --------------------------------------------------------------------------------------------
CALLS = [
    dict(
        call_id="c01_model_call", fmt="ogg", sr=16000, layout="agent_left", ring=3.2,
        agent=("en-us+Annie", 150, 50), customer=("en-gb+m3", 158, 40),
        manifest=dict(agent_id="a001", agent_name="Sarah", department="billing",
                      started_at="2025-03-10T09:12:41"),
        description="Model call: every scorecard element present; one announced 35 s hold with "
                    "music, thanked afterwards. Customer gives his own name and thanks the agent.",
        events=[
            ("agent", "Good morning, thank you for calling Northwind Energy, my name is Sarah. "
                      "How can I help you today?"),
            ("customer", "Hi Sarah. My name is Tom Baker, and I think my last electricity bill is "
                         "far too high."),
            ("agent", "I'm sorry to hear that, Tom, I can certainly look into it for you. "
                      "This will take about ten minutes, is that okay?"),
            ("customer", "Yes, that's fine, I have time.", -0.3),
            ("agent", "Could you give me your account number, please?"),
            ("customer", "It's four four seven, two nine one, eight."),
            ("agent", "Great. Let me put you on a brief hold while I check your meter readings."),
            ("hold", "music", 35.0),
            ("agent", "Thank you for holding, Tom. I've found the problem. The last reading was "
                      "estimated, not taken from your meter."),
            ("customer", "Ah, that would explain it. So what can be done?"),
            ("agent", "What will happen next is I will send you an email with a corrected bill, and "
                      "the overcharge will be credited to your account within seven business days."),
            ("customer", "That's great. Will I need to send in a reading myself?"),
            ("agent", "Yes, if you could submit a reading through the app this week, that would stop "
                      "it happening again."),
            ("customer", "Okay, I'll do that tonight. Thank you."),
            ("agent", "Is there anything else I can help you with today?"),
            ("customer", "No, that's everything."),
            ("agent", "Thank you for calling, have a great day."),
            ("customer", "You too, bye."),
        ],
        expected=items(**GOOD_HOLD),
    ),
    dict(
        call_id="c02_no_name", fmt="mp3", sr=16000, layout="agent_left", ring=4.6,
        agent=("en-gb-x-rp+f2", 155, 60), customer=("en-us+m5", 150, 45),
        manifest=dict(agent_id="a003", agent_name="Priya", department="support",
                      started_at="2025-03-10T10:03:17"),
        description="Agent greets and names the company but never says her own name; everything "
                    "else present; no hold. The customer says 'my name is Rebecca Stone' "
                    "(must not count for the agent) and thanks the agent.",
        events=[
            ("agent", "Hello, welcome to Northwind Energy customer support. How may I help?"),
            ("customer", "Hello there. My name is Rebecca Stone. I'm moving house next month and "
                         "need to move my energy supply."),
            ("agent", "Of course, I can arrange that for you. What is the address of the new "
                      "property?"),
            ("customer", "It's twelve Harbour Road, in Bristol."),
            ("agent", "Lovely, and what date are you moving in?"),
            ("customer", "On the fourteenth of next month."),
            ("agent", "Perfect. Setting up the new supply usually takes around ten working days, "
                      "so we have plenty of time."),
            ("customer", "Good. And what about my old address?", -0.35),
            ("agent", "Here is what happens now. You will receive a final bill for the old address "
                      "after your move date, and a welcome pack for the new home by post."),
            ("customer", "Do I need to take meter readings on the day?"),
            ("agent", "Yes please. Take a photo of both meters on moving day and upload them in your "
                      "online account. That way the final bill is accurate."),
            ("customer", "Makes sense. I'll remember to do that."),
            ("agent", "Is there anything else you need from us?"),
            ("customer", "No, I think that covers it. Thanks very much for your help."),
            ("agent", "Thanks so much for calling Northwind, and good luck with the move."),
            ("customer", "Cheers, goodbye."),
        ],
        expected=items(introduce_name="fail", **NO_HOLD),
    ),
    dict(
        call_id="c03_no_duration", fmt="ogg", sr=16000, layout="agent_left", ring=5.1,
        agent=("en-us+Annie", 152, 60), customer=("en-gb+m4", 150, 35),
        manifest=dict(agent_id="a003", agent_name="Priya", department="support",
                      started_at="2025-03-10T11:47:02"),
        description="Agent never says how long anything will take (no minutes, days or hours); "
                    "everything else present; announced 35 s silent hold, thanked afterwards.",
        events=[
            ("agent", "Good afternoon, Northwind Energy, you're speaking with Priya. What can I do "
                      "for you?"),
            ("customer", "Hi Priya, my boiler has stopped working and I'm on your home care plan."),
            ("agent", "Oh dear, I'm sorry about that. Let's get it sorted. Can I confirm your full "
                      "name and address?"),
            ("customer", "It's Alan Hughes, forty two Mill Lane, Leeds."),
            ("agent", "Thanks, Mister Hughes. Would you mind if I put you on hold while I look at "
                      "the engineer schedule?"),
            ("hold", "silence", 35.0),
            ("agent", "Thanks for your patience. I can see an engineer is available in your area."),
            ("customer", "Oh, brilliant. When would they come?"),
            ("agent", "The next step is that our scheduling team will text you to confirm a visit "
                      "slot, and the engineer will call you when they are on the way."),
            ("customer", "Okay. Is there anything I should do before then?"),
            ("agent", "Please switch the boiler off at the mains and keep the area around it clear, "
                      "so the engineer can get to it easily."),
            ("customer", "Will do. Thank you very much."),
            ("agent", "You're welcome. Is there anything more I can help with?"),
            ("customer", "No, that's all for now."),
            ("agent", "Thank you for being with Northwind Energy, and take care."),
            ("customer", "Bye now."),
        ],
        expected=items(duration="fail", **GOOD_HOLD),
    ),
    dict(
        call_id="c04_short_hold_thanks", fmt="m4a", sr=16000, layout="agent_left", ring=2.4,
        agent=("en-us+f5", 150, 50), customer=("en-gb-scotland+m2", 152, 40),
        manifest=dict(agent_id="a001", agent_name="Sarah", department="billing",
                      started_at="2025-03-10T14:25:50"),
        description="Announced hold of 40 s with music ('could you just bear with me for a moment'), "
                    "agent comes back with 'thanks for waiting'; all elements present.",
        events=[
            ("agent", "Hello and thank you for calling Northwind Energy. My name is Sarah, how can "
                      "I help?"),
            ("customer", "Hello, I'd like to set up a direct debit for my gas bill."),
            ("agent", "I'd be happy to help with that. It only takes about five minutes to set up "
                      "over the phone."),
            ("customer", "Great. I have my bank details ready.", -0.4),
            ("agent", "Wonderful. Before we start, could you just bear with me for a moment while I "
                      "open your account?"),
            ("hold", "music", 40.0),
            ("agent", "Thanks for waiting. Your account is open on my screen now."),
            ("customer", "Okay. The sort code is two zero, four five, one one, and the account "
                         "number ends in three eight."),
            ("agent", "Got it. Once this is saved, you'll receive a confirmation letter by post, and "
                      "the first payment will be taken on the first of next month."),
            ("customer", "And the amount stays the same every month?"),
            ("agent", "It will be reviewed every six months, and we will write to you before any "
                      "change."),
            ("customer", "That sounds fine. Thank you, Sarah."),
            ("agent", "Anything else I can do for you today?"),
            ("customer", "No, that's it."),
            ("agent", "Many thanks for calling, enjoy the rest of your day."),
            ("customer", "Bye."),
        ],
        expected=items(**GOOD_HOLD),
    ),
    dict(
        call_id="c05_long_hold", fmt="m4a", sr=16000, layout="agent_left", ring=3.0,
        agent=("en-us+m2", 150, 45), customer=("en-gb+f4", 155, 60),
        manifest=dict(agent_id="a002", agent_name="Daniel", department="support",
                      started_at="2025-03-10T15:58:09"),
        description="Announced hold over the standard: 80 s of silence; agent comes back with an "
                    "apology ('sorry to keep you waiting'); all other elements present.",
        events=[
            ("agent", "Good morning, you've reached Contoso Bank, my name is Daniel. What seems "
                      "to be the problem?"),
            ("customer", "Hi, my card was declined at a shop this morning and I don't know why."),
            ("agent", "I'm sorry about that, let me check what happened. Please hold the line while "
                      "I contact our card team."),
            ("hold", "silence", 80.0),
            ("agent", "Sorry to keep you waiting so long. The card was blocked by our fraud checks "
                      "after an unusual payment."),
            ("customer", "Oh, right. That was me buying a new laptop."),
            ("agent", "Thanks for confirming. I've removed the block, and you'll get a text message "
                      "in the next two minutes to say the card is active again."),
            ("customer", "Brilliant, thank you."),
            ("agent", "Is there anything else I can help with?"),
            ("customer", "No, that's all."),
            ("agent", "Thank you for banking with Contoso, goodbye."),
        ],
        expected=items(hold_announced="pass", hold_within_standard="fail", hold_thanked="pass"),
    ),
    dict(
        call_id="c06_hold_no_apology", fmt="mp3", sr=16000, layout="agent_left", ring=4.0,
        agent=("en-gb+f4", 148, 50), customer=("en-us+m3", 156, 40),
        manifest=dict(agent_id="a003", agent_name="Priya", department="support",
                      started_at="2025-03-10T16:40:33"),
        description="Hold of 42 s with music, announced as 'could you stay on the line for a little while'; agent comes back with no thanks or apology "
                    "('Okay, so I've found your account...'). Customer says 'my name is Greg "
                    "Walsh' and 'thanks'.",
        events=[
            ("agent", "Hi, thanks for calling Northwind Energy, Priya speaking. How can I help you?"),
            ("customer", "Hello. I submitted a meter reading last week, but my online account still "
                         "shows the old one."),
            ("agent", "Let me take a look at that. Could you stay on the line for a little while as "
                      "I pull up your readings?"),
            ("hold", "music", 42.0),
            ("agent", "Okay, so I've found your account, and the reading is there. It just hasn't "
                      "been processed yet."),
            ("customer", "Why is that?"),
            ("agent", "Readings submitted at the weekend go into a queue. It should update within "
                      "forty eight hours."),
            ("customer", "Right, so I don't need to send it again?"),
            ("agent", "No need. After it's processed, your next statement will be based on the "
                      "actual reading, and you'll get an email to let you know."),
            ("customer", "Perfect. My name is Greg Walsh, by the way, in case you need it for your "
                         "notes."),
            ("agent", "Noted, Greg. Anything else I can help you with?"),
            ("customer", "No, that's all, thanks."),
            ("agent", "Thank you for your call, and have a lovely evening."),
            ("customer", "Good night."),
        ],
        expected=items(hold_announced="pass", hold_within_standard="pass", hold_thanked="fail"),
    ),
    dict(
        call_id="c07_no_closing_thanks", fmt="flac", sr=8000, layout="agent_left", ring=2.7,
        agent=("en-us+f5", 145, 70), customer=("en-gb+m6", 152, 35),
        manifest=dict(agent_id="a003", agent_name="Priya", department="billing",
                      started_at="2025-03-11T09:05:12"),
        description="Agent ends without thanking ('Okay, that's all done. Goodbye now.'); the "
                    "customer says 'thank you so much' near the end (must not count for the agent); "
                    "no hold; everything else present.",
        events=[
            ("agent", "Good afternoon, thank you for calling Northwind Energy, you are speaking with "
                      "Priya. What can I help you with?"),
            ("customer", "Hi Priya. I've been charged a late payment fee, but I paid the bill on "
                         "time."),
            ("agent", "Sure, let me see. Which bill was that?"),
            ("customer", "The one from January. I paid it by bank transfer on the tenth."),
            ("agent", "I see the payment here. I'm raising a complaint for you now, and the review "
                      "normally takes up to two weeks."),
            ("customer", "Okay. Do I have to pay the fee in the meantime?", -0.35),
            ("agent", "No, the fee is frozen while we look into it. After that you will receive a "
                      "letter with the outcome."),
            ("customer", "And if you decide the fee was right?"),
            ("agent", "Then we'll ask you for your bank statement as proof, so please keep it safe."),
            ("customer", "I still have it. Great."),
            ("agent", "Is there anything else on the account?"),
            ("customer", "Nope, nothing else. Thank you so much for your help."),
            ("agent", "Okay, that's all done. Goodbye now."),
            ("customer", "Bye."),
        ],
        expected=items(thank_you="fail", **NO_HOLD),
    ),
    dict(
        call_id="c08_mono", fmt="wav", sr=16000, layout="mono", ring=3.5,
        agent=("en-us+f4", 154, 70), customer=("en-gb+m1", 150, 30),
        manifest=dict(agent_id="a003", agent_name="Priya", department="billing",
                      started_at="2025-03-11T10:31:44"),
        description="Mono recording, agent and customer mixed on one channel (high female agent, "
                    "low male customer); every element present; no hold. Customer says 'my name "
                    "is David Price'.",
        events=[
            ("agent", "Good morning and welcome to Northwind Energy. My name is Priya. How can I "
                      "help today?"),
            ("customer", "Morning. I'd like to switch to your green electricity tariff."),
            ("agent", "Great choice. The switch takes about ten working days to complete, and your "
                      "supply won't be interrupted."),
            ("customer", "Will my monthly payment change?"),
            ("agent", "It may change slightly. I'll email you a quote now, and once you accept it, "
                      "we will handle everything else for you."),
            ("customer", "Okay. My name is David Price, if you need it."),
            ("agent", "Thanks, David. I can see your account. The quote is on its way to the email "
                      "address we have on file."),
            ("customer", "Got it, it's just arrived."),
            ("agent", "Excellent. You'll also get a confirmation letter in the post when the switch "
                      "is complete."),
            ("customer", "Is there an exit fee if I change my mind?"),
            ("agent", "No, there is no exit fee on this tariff, so you can leave whenever you like."),
            ("customer", "Perfect, that's all I needed."),
            ("agent", "Thanks a lot for calling today, goodbye."),
            ("customer", "Bye bye."),
        ],
        expected=items(**NO_HOLD),
    ),
    dict(
        call_id="c09_agent_right", fmt="m4a", sr=16000, layout="agent_right", ring=5.6,
        agent=("en-us+m1", 150, 45), customer=("en-gb+f3", 156, 60),
        manifest=dict(agent_id="a002", agent_name="Daniel", department="support",
                      started_at="2025-03-11T13:14:27"),
        description="Stereo with the agent on the RIGHT channel and the customer on the left; a "
                    "normal good call with an announced 35 s music hold, thanked afterwards.",
        events=[
            ("agent", "Hi there, you've reached Contoso Bank, you're speaking with Daniel. What can I do for you today?"),
            ("customer", "Hi. I've forgotten the password for online banking, and now I'm locked "
                         "out."),
            ("agent", "No problem, I can help you get back in. Can you confirm your date of birth "
                      "for me?"),
            ("customer", "Yes, it's the third of May, nineteen eighty five."),
            ("agent", "Lovely. Please stay on the line while I verify a couple of details on your "
                      "profile."),
            ("hold", "music", 35.0),
            ("agent", "Thanks so much for holding. You're verified."),
            ("customer", "Oh good.", -0.3),
            ("agent", "So, I'm sending a reset link to your mobile, and it stays valid for thirty "
                      "minutes. When you open it, you'll be asked to choose a new password."),
            ("customer", "And then I can log in straight away?"),
            ("agent", "Yes, straight away. Your old password will stop working as soon as the new "
                      "one is set."),
            ("customer", "Great, thank you Daniel."),
            ("agent", "Happy to help. Thanks for calling Contoso Bank, and have a good day."),
            ("customer", "Same to you, bye bye."),
        ],
        expected=items(**GOOD_HOLD),
    ),
    dict(
        call_id="c10_unannounced_hold", fmt="mp3", sr=16000, layout="agent_left", ring=2.2,
        agent=("en-us+Annie", 150, 55), customer=("en-gb+m5", 152, 45),
        manifest=None,   # left out of manifest.csv on purpose: agent unknown to the pipeline
        description="Hold of 35 s (silence) with no announcement: the agent just goes quiet, then "
                    "thanks the customer for waiting. Not in manifest.csv on purpose (agent "
                    "unknown; layout is the default agent_left).",
        events=[
            ("agent", "Good evening, thank you for contacting Northwind Energy, my name is Sarah. "
                      "What can I do for you this evening?"),
            ("customer", "Hi Sarah, I got a letter saying my direct debit is going up, and I want "
                         "to know why."),
            ("agent", "Right. Okay."),
            ("hold", "silence", 35.0),
            ("agent", "Thank you for waiting. Your usage over the winter was higher than estimated, "
                      "so the account is in debit."),
            ("customer", "Hmm, I see. Can I spread the cost?"),
            ("agent", "Yes, I can set up a plan that spreads the balance across the year."),
            ("customer", "That would help a lot."),
            ("agent", "I'll set it up now. You will receive an email with the new payment schedule, "
                      "and the plan will be active within twenty four hours."),
            ("customer", "Thanks, that's much better."),
            ("agent", "Is there anything else today?"),
            ("customer", "No, that's it for today."),
            ("agent", "Thank you for calling, and have a nice evening."),
            ("customer", "Night."),
        ],
        expected=items(hold_announced="fail", hold_within_standard="pass", hold_thanked="pass"),
    ),
    dict(
        call_id="c11_two_holds", fmt="mp3", sr=16000, layout="agent_left", ring=3.4,
        agent=("en-us+robert", 152, 45), customer=("en-us+f5", 158, 60),
        manifest=dict(agent_id="a002", agent_name="Daniel", department="billing",
                      started_at="2025-03-11T15:36:58"),
        description="Two announced holds: 35 s with music (within standard), then 90 s of silence "
                    "(over the standard); both followed by thanks or an apology.",
        events=[
            ("agent", "Welcome to Contoso Bank, you're speaking with Daniel. How may I assist you?"),
            ("customer", "Hello, I'd like to increase my overdraft limit."),
            ("agent", "Certainly. Let me place you on a quick hold, so I can check your "
                      "eligibility."),
            ("hold", "music", 35.0),
            ("agent", "Thanks for bearing with me. You are eligible, but a manager needs to approve "
                      "it, so I'll place you on hold again while I ask."),
            ("hold", "silence", 90.0),
            ("agent", "Apologies for the long wait. The manager has approved a new limit of five "
                      "hundred pounds."),
            ("customer", "Fantastic."),
            ("agent", "You will receive a confirmation in your app, and the new limit becomes "
                      "active within one hour."),
            ("customer", "Thank you."),
            ("agent", "Thanks for calling Contoso Bank, bye for now."),
        ],
        expected=items(hold_announced="pass", hold_within_standard="fail", hold_thanked="pass"),
    ),
]

REAL_CALL = dict(
    call_id="real_auto_repairs_40", file="real_auto_repairs_40.flac", layout="agent_left",
    agent_file="lca_auto_repairs_40_agent.wav", caller_file="lca_auto_repairs_40_caller.wav",
    manifest=dict(agent_id="a004", agent_name="Michelle", department="support",
                  started_at="2025-03-11T16:20:05"),
    description="Real role-played contact-centre call about car repairs (AWS Live Call Analytics "
                "sample Auto_Repairs_40, Apache-2.0, Amazon): agent and caller recorded "
                "separately, joined here as stereo, agent LEFT, caller RIGHT, 8 kHz. Labelled by "
                "ear and from the transcript: the agent greets ('Thank you for calling Platinum "
                "Motors'), names herself ('I'm Michelle'), gives a time ('two days from now'), "
                "explains the options and the booking, and closes with thanks; she looks the "
                "customer up while the customer talks, so there is no hold.",
    expected={"greeting": "pass", "introduce_name": "pass", "introduce_company": "pass",
              "duration": "pass", "explanation": "pass", "thank_you": "pass",
              "hold_announced": "na", "hold_within_standard": "na", "hold_thanked": "na"},
)


# --------------------------------------------------------------------------------------------
def _seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        sr, ch, sw, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
        raw = w.readframes(n)
    assert sw == 2, f"{path}: expected 16-bit PCM"
    x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if ch > 1:
        x = x.reshape(-1, ch).mean(axis=1)
    return x, sr


_TTS_CACHE: dict[tuple, np.ndarray] = {}


def tts(text: str, voice: tuple[str, int, int], sr: int, tmp: Path) -> np.ndarray:
    """espeak-ng -> sox resample to sr -> trimmed float32 mono, peak 1.0."""
    key = (text, voice, sr)
    if key in _TTS_CACHE:
        return _TTS_CACHE[key]
    name, speed, pitch = voice
    raw, res = tmp / "tts_raw.wav", tmp / "tts_res.wav"
    subprocess.run(["espeak-ng", "-v", name, "-s", str(speed), "-p", str(pitch),
                    "-w", str(raw), text], check=True)
    # -D: no dither, so the same script renders the same samples every time (sox dithers by default)
    subprocess.run(["sox", "-q", "-G", "-D", str(raw), "-r", str(sr), "-b", "16", "-c", "1", str(res)],
                   check=True)
    x, got_sr = _read_wav(res)
    assert got_sr == sr
    # trim leading/trailing silence (espeak pads both ends)
    env = np.convolve(np.abs(x), np.ones(int(sr * 0.01)) / int(sr * 0.01), mode="same")
    idx = np.nonzero(env > 0.01 * env.max())[0]
    x = x[max(idx[0] - int(0.02 * sr), 0): idx[-1] + int(0.03 * sr)]
    x = x / (np.abs(x).max() + 1e-9)
    # 5 ms fades so the trimmed edges do not click
    f = int(0.005 * sr)
    x[:f] *= np.linspace(0, 1, f)
    x[-f:] *= np.linspace(1, 0, f)
    _TTS_CACHE[key] = x
    return x


def hold_music(n: int, sr: int, seed: int) -> np.ndarray:
    """A simple looping melody of sine tones (with a soft octave harmonic), peak 1.0."""
    rng = np.random.default_rng(seed)
    # C major-ish tune, note = (semitones from A4, beats)
    tunes = [
        [(-9, 1), (-5, 1), (-2, 1), (3, 2), (-2, 1), (-5, 1), (-9, 2),
         (-7, 1), (-4, 1), (0, 1), (3, 2), (0, 1), (-4, 1), (-7, 2)],
        [(3, 1), (1, 1), (-2, 1), (-5, 1), (-2, 2), (3, 2),
         (5, 1), (3, 1), (1, 1), (-2, 1), (1, 2), (-5, 2)],
    ]
    tune = tunes[int(rng.integers(len(tunes)))]
    beat = float(rng.uniform(0.28, 0.36))
    out = np.zeros(n, dtype=np.float32)
    pos = 0
    while pos < n:
        for semi, beats in tune:
            length = int(beats * beat * sr)
            if pos >= n:
                break
            t = np.arange(length) / sr
            f0 = 440.0 * 2 ** (semi / 12)
            tone = np.sin(2 * np.pi * f0 * t) + 0.3 * np.sin(2 * np.pi * 2 * f0 * t)
            env = np.minimum(1.0, t / 0.02) * np.exp(-t * 2.5)
            seg = (tone * env).astype(np.float32)
            m = min(length, n - pos)
            out[pos:pos + m] += seg[:m]
            pos += length
    out /= np.abs(out).max() + 1e-9
    return out


def db(x: float) -> float:
    return 10 ** (x / 20)


def build_call(spec: dict, tmp: Path):
    sr = spec["sr"]
    rng = np.random.default_rng(_seed(spec["call_id"]))
    placed = {"agent": [], "customer": []}   # (start_sample, array)
    music = []                               # (start_sample, array)
    script, holds = [], []
    cursor = int(spec["ring"] * sr)           # end of the latest speech so far
    first = True
    force_next_agent_at = None
    last_speaker = None
    for ev in spec["events"]:
        kind = ev[0]
        if kind in ("agent", "customer"):
            text = ev[1]
            voice = spec[kind]
            x = tts(text, voice, sr, tmp) * db(AGENT_PEAK_DBFS if kind == "agent"
                                               else CUSTOMER_PEAK_DBFS)
            if first:
                start = cursor
                first = False
            elif force_next_agent_at is not None:
                assert kind == "agent", "after a hold the agent must speak first"
                start = force_next_agent_at
                force_next_agent_at = None
            else:
                gap = ev[2] if len(ev) > 2 else float(rng.uniform(0.4, 1.2))
                if gap < 0:
                    assert spec["layout"] != "mono", "no overlaps in the mono call"
                start = max(cursor + int(gap * sr), 0)
            placed[kind].append((start, x))
            script.append([kind, text, round(start / sr, 3)])
            cursor = max(cursor, start + len(x))
            last_speaker = kind
        elif kind == "hold":
            style, dur = ev[1], float(ev[2])
            assert last_speaker == "agent", "a hold starts when the agent stops speaking"
            start = cursor
            n = int(round(dur * sr))
            if style == "music":
                m0, m1 = start + int(0.8 * sr), start + n - int(1.0 * sr)
                mus = hold_music(m1 - m0, sr, _seed(spec["call_id"] + "music"))
                fade = int(0.5 * sr)
                mus[:fade] *= np.linspace(0, 1, fade)
                mus[-fade:] *= np.linspace(1, 0, fade)
                music.append((m0, mus * db(MUSIC_PEAK_DBFS)))
            script.append(["hold", style, round(start / sr, 3), round(n / sr, 3)])
            holds.append({"start_s": round(start / sr, 3), "duration_s": round(n / sr, 3)})
            force_next_agent_at = start + n
            cursor = start + n
        else:
            raise ValueError(kind)
    total = cursor + int(float(rng.uniform(0.7, 1.1)) * sr)
    tracks = {k: np.zeros(total, dtype=np.float32) for k in ("agent", "customer")}
    for k, lst in placed.items():
        for s, x in lst:
            tracks[k][s:s + len(x)] += x
    for s, x in music:
        tracks["agent"][s:s + len(x)] += x
    return tracks, script, holds, total / sr


def check_call(spec: dict, script: list, holds: list, duration: float):
    cid = spec["call_id"]
    assert 60.0 <= duration <= 180.0, f"{cid}: duration {duration:.1f} s outside 60-180 s"
    for h in holds:
        near = min(abs(h["duration_s"] - t) for t in HOLD_THRESHOLDS_S)
        assert near >= HOLD_MARGIN_S, f"{cid}: a {h['duration_s']} s hold is within {HOLD_MARGIN_S} s of a threshold"
    sr = spec["sr"]
    # speech intervals from the placed turns
    spans = []
    for row in script:
        if row[0] in ("agent", "customer"):
            n = len(_TTS_CACHE[(row[1], spec[row[0]], sr)])
            spans.append((row[0], row[2], row[2] + n / sr))
            if row[0] == "customer":
                assert n / sr < MAX_CUSTOMER_TURN_S, f"{cid}: customer turn too long: {row[1]}"
    # quiet stretches (nobody speaking) that are not holds must stay under MAX_NON_HOLD_GAP_S
    spans.sort(key=lambda s: s[1])
    end = 0.0
    for _, s, e in spans:
        gap = s - end
        is_hold = any(abs(h["start_s"] - end) < 0.01 for h in holds)
        if gap >= MAX_NON_HOLD_GAP_S and not is_hold:
            raise AssertionError(f"{cid}: {gap:.1f} s of quiet at {end:.1f} s is not a hold")
        end = max(end, e)
    # closing thanks must be in the last 30 s when expected
    agent_rows = [r for r in script if r[0] == "agent"]
    last = agent_rows[-1]
    assert duration - last[2] < 30, f"{cid}: last agent turn too early"
    has_thanks = bool(re.search(r"\bthank|\bthanks", last[1], re.I))
    assert has_thanks == (spec["expected"]["thank_you"] == "pass"), f"{cid}: closing thanks"


def check_unique_sentences(calls):
    seen = {}
    for spec in calls:
        for ev in spec["events"]:
            if ev[0] not in ("agent", "customer"):
                continue
            for sent in re.split(r"(?<=[.?!])\s+", ev[1]):
                norm = re.sub(r"[^a-z ]", "", sent.lower()).strip()
                if len(norm.split()) < 3:
                    continue
                other = seen.setdefault(norm, spec["call_id"])
                if other != spec["call_id"]:
                    raise AssertionError(f"sentence reused in {other} and {spec['call_id']}: {sent}")


def to_segment(channels: list[np.ndarray], sr: int) -> AudioSegment:
    data = np.stack(channels, axis=1) if len(channels) > 1 else channels[0][:, None]
    pcm = np.clip(np.round(data * 32767), -32768, 32767).astype("<i2")
    return AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=sr,
                        channels=len(channels))


EXPORT = {
    "wav": dict(format="wav"),
    "flac": dict(format="flac"),
    "mp3": dict(format="mp3", bitrate="40k"),
    "ogg": dict(format="ogg", codec="libvorbis", parameters=["-q:a", "2"]),
    "m4a": dict(format="ipod", codec="aac", bitrate="48k"),
}


def export(seg: AudioSegment, path: Path, fmt: str):
    seg.export(str(path), **EXPORT[fmt])


def make_synthetic(spec: dict, tmp: Path):
    tracks, script, holds, duration = build_call(spec, tmp)
    check_call(spec, script, holds, duration)
    sr = spec["sr"]
    rng = np.random.default_rng(_seed(spec["call_id"] + "noise"))
    noise = lambda: rng.normal(0, db(NOISE_DBFS), len(tracks["agent"])).astype(np.float32)
    a, c = tracks["agent"], tracks["customer"]
    if spec["layout"] == "agent_left":
        chans = [a + noise(), c + noise()]
    elif spec["layout"] == "agent_right":
        chans = [c + noise(), a + noise()]
    elif spec["layout"] == "mono":
        chans = [a + c + noise()]
    else:
        raise ValueError(spec["layout"])
    fname = f"{spec['call_id']}.{spec['fmt']}"
    export(to_segment(chans, sr), OUT / fname, spec["fmt"])
    label = {
        "call_id": spec["call_id"], "file": fname, "channel_layout": spec["layout"],
        "description": spec["description"],
        "script": script,
        "expected_items": spec["expected"],
        "expected_holds": holds,
        "duration_s": round(duration, 3), "sample_rate": sr, "format": spec["fmt"],
        "voices": {"agent": " ".join(map(str, spec["agent"])),
                   "customer": " ".join(map(str, spec["customer"]))},
        "in_manifest": spec["manifest"] is not None,
    }
    return label


def make_real():
    a_path, c_path = REAL_DIR / REAL_CALL["agent_file"], REAL_DIR / REAL_CALL["caller_file"]
    out = OUT / REAL_CALL["file"]
    if not (a_path.exists() and c_path.exists()):
        print(f"warning: {REAL_DIR} lacks the real call; keeping {out.name} as it is",
              file=sys.stderr)
        if not out.exists():
            return None
        duration = len(AudioSegment.from_file(out)) / 1000
    else:
        a, sr_a = _read_wav(a_path)
        c, sr_c = _read_wav(c_path)
        assert sr_a == sr_c, "agent and caller sample rates differ"
        n = max(len(a), len(c))
        a = np.pad(a, (0, n - len(a)))
        c = np.pad(c, (0, n - len(c)))
        export(to_segment([a, c], sr_a), out, "flac")
        duration = n / sr_a
    return {
        "call_id": REAL_CALL["call_id"], "file": REAL_CALL["file"],
        "channel_layout": REAL_CALL["layout"], "description": REAL_CALL["description"],
        "script": None, "expected_items": REAL_CALL["expected"], "expected_holds": [],
        "duration_s": round(duration, 3), "sample_rate": 8000, "format": "flac",
        "source": "aws-samples/amazon-transcribe-live-call-analytics, "
                  "lca-chimevc-stack/asterisk-test-scripts/recordings/Auto_Repairs_40_UTC_"
                  "{agent,caller}.wav",
        "licence": "Apache-2.0 (Amazon); see LICENSE-realaudio.txt",
        "in_manifest": True,
    }


LICENSE_TEXT = """\
real_auto_repairs_40.flac
=========================

This file is NOT synthetic and was not written by the callqa project. It joins two recordings
(agent channel LEFT, caller channel RIGHT, unchanged 8 kHz samples) from:

  aws-samples/amazon-transcribe-live-call-analytics
  https://github.com/aws-samples/amazon-transcribe-live-call-analytics
  lca-chimevc-stack/asterisk-test-scripts/recordings/Auto_Repairs_40_UTC_agent.wav
  lca-chimevc-stack/asterisk-test-scripts/recordings/Auto_Repairs_40_UTC_caller.wav

a role-played contact-centre call about car repairs (the same call as the Post-Call Analytics
sample "Auto3").

Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved.
Licensed under the Apache License, Version 2.0 (the "License"); you may not use this file
except in compliance with the License. You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software distributed under the
License is distributed on an "AS IS" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND,
either express or implied. See the License for the specific language governing permissions
and limitations under the License.

Modification: the two mono recordings were combined into one two-channel FLAC file
(data/make_samples.py); the audio samples themselves are unchanged.
"""


def write_readme(labels: list[dict]):
    rows = []
    for lb in labels:
        rows.append(f"| `{lb['file']}` | {lb['duration_s']:.1f} | {lb['format']} "
                    f"{lb['sample_rate'] // 1000} kHz | {lb['channel_layout']} | "
                    f"{'yes' if lb['in_manifest'] else '**no**'} | {lb['description']} |")
    text = f"""\
# Sample calls

Generated by `data/make_samples.py` (run `.venv/bin/python data/make_samples.py` from the
repository root; needs espeak-ng, sox, ffmpeg). Do not edit these files by hand: change the
script and re-run it.

All `c*` calls are synthetic: espeak-ng text-to-speech, one voice for the agent and a clearly
different one for the customer, telephone sample rates (8 or 16 kHz), noise at about -60 dBFS.
Stereo calls carry the agent on one channel and the customer on the other (`channel_layout`);
holds are agent-channel silence or a sine-tone melody ("hold music") with the customer silent.
Company names, people and account details are invented. `real_auto_repairs_40.flac` is a real
role-played call (Apache-2.0, Amazon): see `LICENSE-realaudio.txt`.

| file | seconds | format | layout | in manifest | scenario |
|---|---|---|---|---|---|
{chr(10).join(rows)}

## manifest.csv

`file,call_id,agent_id,agent_name,department,started_at,channel_layout`: the metadata a call
centre would export with its recordings. `started_at` is ISO 8601 local time without an offset.
`c10_unannounced_hold` is deliberately missing: the pipeline must still score a call whose agent
it does not know (assume `agent_left`). The real call's agent (Michelle, "Platinum Motors") was named from its transcript.

## labels.json

Ground truth per call: `script` (each turn as `[speaker, text, start_s]`, holds as
`["hold", "music"|"silence", start_s, duration_s]`), `expected_holds` (start = when the agent's
speech stops, duration = until the agent speaks again; exact from the timeline, lossy formats may
shift them by a few tens of milliseconds) and `expected_items`, the human QA judgement of the
AGENT's speech:

- `greeting`: agent greets within the first 30 s;
- `introduce_name`: agent says their own name (a customer's "my name is" does not count);
- `introduce_company`: agent names the company;
- `duration`: agent gives a concrete time for something ("about ten minutes", "within 48 hours");
  hold phrases like "for a moment" are not durations;
- `explanation`: agent explains what happens next;
- `thank_you`: agent thanks the customer in the last ~30 s (a customer's thanks does not count);
- `hold_announced`, `hold_within_standard` (every hold at most 60 s), `hold_thanked` (thanks or
  apology within ~15 s of coming back): `na` when the call has no hold.

Outside holds, no call has 20 s or more with neither party speaking, and customer turns are
under 15 s. Every hold lasts 35-45 s or 75 s and more: at least 15 s away from the pipeline's 20 s
hold threshold and the 60 s standard, so a machine that measures a hold a second longer or
shorter still reaches the same outcome. The real call is labelled by ear and from its transcript (see its description).
"""
    (OUT / "README.md").write_text(text)


def main():
    for tool in ("espeak-ng", "sox", "ffmpeg"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found on PATH")
    check_unique_sentences(CALLS)
    OUT.mkdir(parents=True, exist_ok=True)
    only = set(sys.argv[1:])
    labels = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for spec in CALLS:
            lb = make_synthetic(spec, tmp) if (not only or spec["call_id"] in only) else None
            if lb is None:
                continue
            labels.append(lb)
            print(f"{lb['file']:32s} {lb['duration_s']:6.1f} s  {lb['format']:4s} "
                  f"{lb['sample_rate']:5d} Hz  {lb['channel_layout']:11s} holds={lb['expected_holds']}")
    if only:
        # Partial run: only the named calls are remade; their labels replace the old ones in
        # labels.json, every other file stays byte for byte as it is (a full run on another
        # machine's espeak-ng/sox/ffmpeg would change every file by a few samples).
        unknown = only - {spec["call_id"] for spec in CALLS}
        if unknown:
            sys.exit(f"unknown call id(s): {', '.join(sorted(unknown))}")
        path = OUT / "labels.json"
        if path.exists():
            fresh = {lb["call_id"]: lb for lb in labels}
            merged = [fresh.pop(lb["call_id"], lb) for lb in json.loads(path.read_text())]
            merged += list(fresh.values())
            path.write_text(json.dumps(merged, indent=1) + "\n")
            write_readme(merged)
        return
    real = make_real()
    if real:
        labels.append(real)
        print(f"{real['file']:32s} {real['duration_s']:6.1f} s  flac  8000 Hz  agent_left")
    (OUT / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    with open(OUT / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["file", "call_id", "agent_id", "agent_name", "department", "started_at",
                    "channel_layout"])
        for spec in CALLS:
            m = spec["manifest"]
            if m is None:
                continue
            w.writerow([f"{spec['call_id']}.{spec['fmt']}", spec["call_id"], m["agent_id"],
                        m["agent_name"], m["department"], m["started_at"], spec["layout"]])
        if real:
            m = REAL_CALL["manifest"]
            w.writerow([REAL_CALL["file"], REAL_CALL["call_id"], m["agent_id"], m["agent_name"],
                        m["department"], m["started_at"], REAL_CALL["layout"]])
    (OUT / "LICENSE-realaudio.txt").write_text(LICENSE_TEXT)
    write_readme(labels)
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"data/samples: {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
