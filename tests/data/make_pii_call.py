#!/usr/bin/env python
"""Make tests/data/pii_call.flac: a short synthetic card payment call for tests/test_redact.py.

Run from the repository root (needs espeak-ng and sox on PATH, plus numpy and pydub):

    .venv/bin/python tests/data/make_pii_call.py

The customer reads a test card number (4532 0151 1283 0366, Luhn-valid, not a real card) as
words, digit by digit, and then a security code (737). Stereo, 16 kHz, 16-bit FLAC: agent
left, customer right, assembled the way data/make_samples.py assembles the sample calls (each
turn rendered with espeak-ng, resampled with sox, trimmed, placed on a sample-exact timeline,
low background noise, about -70 dBFS). The script and start times go to pii_call.json.
"""
from __future__ import annotations

import json
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from pydub import AudioSegment

HERE = Path(__file__).resolve().parent
SR = 16_000
AGENT = ("en-us+Annie", 150, 50)
CUSTOMER = ("en-gb+m3", 140, 40)
CARD = "4532015112830366"
CVV = "737"
EVENTS = [
    ("agent", "Thank you for calling Northwind Energy, my name is Sarah. How can I help?"),
    ("customer", "Hi Sarah, I would like to pay my bill by card, please."),
    ("agent", "Of course. Can I take the long card number, please?"),
    ("customer", "Yes. It's four five three two, zero one five one, one two eight three, "
                 "zero three six six."),
    ("agent", "Thank you. And the three digit security code on the back of the card?"),
    ("customer", "It's seven three seven."),
    ("agent", "Thank you, the payment has gone through. Is there anything else?"),
    ("customer", "No, that's all, thanks. Bye."),
]


def tts(text: str, voice: tuple[str, int, int], tmp: Path) -> np.ndarray:
    name, speed, pitch = voice
    raw, res = tmp / "raw.wav", tmp / "res.wav"
    subprocess.run(["espeak-ng", "-v", name, "-s", str(speed), "-p", str(pitch), "-w", str(raw), text],
                   check=True)
    subprocess.run(["sox", "-q", "-G", str(raw), "-r", str(SR), "-b", "16", "-c", "1", str(res)], check=True)
    with wave.open(str(res), "rb") as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    env = np.convolve(np.abs(x), np.ones(160) / 160, mode="same")
    idx = np.nonzero(env > 0.01 * env.max())[0]
    x = x[max(idx[0] - 320, 0): idx[-1] + 480]
    x = x / (np.abs(x).max() + 1e-9)
    fade = int(0.005 * SR)
    x[:fade] *= np.linspace(0, 1, fade)
    x[-fade:] *= np.linspace(1, 0, fade)
    return x


def main() -> None:
    rng = np.random.default_rng(737)
    placed, script = [], []
    cursor = int(1.5 * SR)
    with tempfile.TemporaryDirectory() as tmp:
        for speaker, text in EVENTS:
            voice, peak = (AGENT, 10 ** (-4 / 20)) if speaker == "agent" else (CUSTOMER, 10 ** (-5 / 20))
            x = tts(text, voice, Path(tmp)) * peak
            start = cursor + int(rng.uniform(0.5, 1.0) * SR)
            placed.append((speaker, start, x))
            script.append({"speaker": speaker, "text": text, "start_s": round(start / SR, 3)})
            cursor = start + len(x)
    total = cursor + SR
    tracks = {k: rng.normal(0, 10 ** (-70 / 20), total).astype(np.float32) for k in ("agent", "customer")}
    for speaker, start, x in placed:
        tracks[speaker][start:start + len(x)] += x
    data = np.stack([tracks["agent"], tracks["customer"]], axis=1)
    pcm = np.clip(np.round(data * 32767), -32768, 32767).astype("<i2")
    seg = AudioSegment(data=pcm.tobytes(), sample_width=2, frame_rate=SR, channels=2)
    seg.export(str(HERE / "pii_call.flac"), format="flac")
    (HERE / "pii_call.json").write_text(json.dumps(
        {"layout": "agent_left", "card": CARD, "cvv": CVV, "duration_s": round(total / SR, 3),
         "script": script}, indent=2) + "\n")
    print(f"wrote {HERE / 'pii_call.flac'} ({total / SR:.1f} s)")


if __name__ == "__main__":
    main()
