#!/usr/bin/env python
"""Generate one synthetic stereo call per supported language in data/samples_multilingual/.

Run from the repository root (needs espeak-ng, sox and ffmpeg, like data/make_samples.py):

    .venv/bin/python data/make_multilingual.py          # every language
    .venv/bin/python data/make_multilingual.py fi lv    # only these

Each call is a card payment in Norwegian (bokmål), Dutch, Finnish, Latvian or Malay, voiced by
espeak-ng's voice for the language (agent and customer with different variants): the agent
greets, names herself and the company, says how long the payment takes, asks for the card
number, which the customer reads digit by digit in number words, announces a 35 s hold with
music, thanks the customer for holding, says what happens next, offers more help and thanks
the customer at the close. Every AIDET and hold item is labelled `pass`; the card number
(4532 0151 1283 0366, Luhn-valid) must be gone from the database.

The calls are placed and mixed with data/make_samples.py's helpers (agent left, customer
right, noise at -60 dBFS) and written as 16 kHz MP3 at 32 kbit/s (a language's own `bitrate`
where given) to keep the folder small.
manifest.csv carries each call's language, since detection on espeak's voices is poor
(../shared/STACK.md); labels.json the script and the expected items.
"""
from __future__ import annotations

import csv
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_samples import GOOD_HOLD, NOISE_DBFS, _seed, build_call, db, items, to_segment  # noqa: E402

OUT = Path(__file__).resolve().parent / "samples_multilingual"
CARD = "4532015112830366"
HOLD_S = 35.0     # 15 s from both the 20 s hold threshold and the 60 s standard
# the manifest names the language as the packs do ("nb"); the pipeline asks Whisper for its own
# code ("no", pipeline.audio.language.whisper_code)

# language -> (espeak voice base, the script: (speaker, text) turns, "hold" where it goes)
SCRIPTS: dict[str, dict] = {
    "nb": dict(agent_name="Ingrid", turns=[
        ("agent", "God morgen, velkommen til Nordlys Energi. Du snakker med Ingrid. Hva kan jeg hjelpe deg med?"),
        ("customer", "Hei, jeg vil betale regningen min med kort."),
        ("agent", "Det går fint. Betalingen tar bare et par minutter. Kan jeg få kortnummeret ditt?"),
        ("customer", "fire fem tre to, null en fem en, en to åtte tre, null tre seks seks."),
        ("agent", "Takk. Et øyeblikk, jeg skal sjekke betalingen."),
        "hold",
        ("agent", "Takk for at du ventet. Betalingen er godkjent, og jeg skal sende deg en kvittering på e-post."),
        ("customer", "Flott, tusen takk."),
        ("agent", "Er det noe mer jeg kan hjelpe deg med?"),
        ("customer", "Nei, det var alt."),
        ("agent", "Takk for at du ringte, ha en fin dag."),
    ]),
    "nl": dict(agent_name="Sanne", turns=[
        ("agent", "Goedemorgen, welkom bij Polderstroom. U spreekt met Sanne. Waarmee kan ik u helpen?"),
        ("customer", "Hallo, ik wil mijn rekening met mijn creditcard betalen."),
        ("agent", "Dat kan. De betaling duurt maar een paar minuten. Mag ik uw kaartnummer?"),
        ("customer", "vier vijf drie twee, nul een vijf een, een twee acht drie, nul drie zes zes."),
        ("agent", "Dank u. Een ogenblik, ik ga even kijken."),
        "hold",
        ("agent", "Bedankt voor het wachten. De betaling is verwerkt en ik ga u een bevestiging sturen."),
        ("customer", "Fijn, dank u wel."),
        ("agent", "Kan ik u verder nog ergens mee helpen?"),
        ("customer", "Nee, dat was alles."),
        ("agent", "Bedankt voor het bellen en een fijne dag verder."),
    ]),
    # espeak's Finnish voice blurs v, d, g and l (Whisper base hears "Symmää suomentaa" for
    # "Hyvää huomenta", "moin" for "voin", "ottamisesta" for "odottamisesta"): the agent says
    # what agents also say and the voice renders clearly ("Revontuli Energia. Nimeni on Aino",
    # "maksu meni läpi"; the thanks for holding a turn of its own), in the deeper m7 variant at
    # 135 words a minute and pitch 40, which Whisper base hears best of espeak's variants, at
    # 48 kbit/s (about 520 kB; at 32k it heard "remontulien epiää" for the company)
    "fi": dict(agent_name="Aino", agent_voice=("fi+m7", 135, 40), bitrate="48k", turns=[
        ("agent", "Hei, Revontuli Energia. Nimeni on Aino, miten voin auttaa?"),
        ("customer", "Hei, haluaisin maksaa laskuni kortilla."),
        ("agent", "Onnistuu. Se kestää noin pari minuuttia. Saisinko kortin numeron?"),
        ("customer", "neljä viisi kolme kaksi, nolla yksi viisi yksi, yksi kaksi kahdeksan kolme, nolla kolme kuusi kuusi."),
        ("agent", "Kiitos. Hetki, tarkistan maksun."),
        "hold",
        ("agent", "Kiitos paljon, kun olitte linjalla."),
        ("customer", "Ei se mitään."),
        ("agent", "Maksu meni läpi. Laitan teille kuitin sähköpostiin."),
        ("customer", "Hienoa, kiitos paljon."),
        ("agent", "Voinko auttaa vielä jossain muussa?"),
        ("customer", "Ei, se oli siinä."),
        ("agent", "Kiitos soitosta ja hyvää päivänjatkoa."),
    ]),
    "lv": dict(agent_name="Līga", turns=[
        ("agent", "Labdien, laipni lūdzam Daugavas Enerģijā. Mani sauc Līga. Kā varu palīdzēt?"),
        ("customer", "Labdien, es vēlos samaksāt rēķinu ar karti."),
        ("agent", "Protams. Maksājums aizņems tikai pāris minūtes. Lūdzu, kartes numuru?"),
        ("customer", "četri pieci trīs divi, nulle viens pieci viens, viens divi astoņi trīs, nulle trīs seši seši."),
        ("agent", "Paldies. Mirkli, es pārbaudīšu maksājumu."),
        "hold",
        ("agent", "Paldies par gaidīšanu. Maksājums ir apstiprināts, un es nosūtīšu jums kvīti e-pastā."),
        ("customer", "Lieliski, liels paldies."),
        ("agent", "Vai varu vēl kā palīdzēt?"),
        ("customer", "Nē, tas ir viss."),
        ("agent", "Paldies, ka zvanījāt, jauku dienu!"),
    ]),
    "ms": dict(agent_name="Aisyah", turns=[
        ("agent", "Selamat pagi, selamat datang ke Tenaga Nusantara. Nama saya Aisyah. Apa yang boleh saya bantu?"),
        ("customer", "Selamat pagi, saya mahu bayar bil dengan kad kredit."),
        ("agent", "Boleh. Pembayaran mengambil masa kira-kira dua minit sahaja. Boleh saya dapatkan nombor kad anda?"),
        ("customer", "empat lima tiga dua, kosong satu lima satu, satu dua lapan tiga, kosong tiga enam enam."),
        ("agent", "Terima kasih. Sila tunggu sebentar, saya akan semak pembayaran."),
        "hold",
        ("agent", "Terima kasih kerana menunggu. Pembayaran telah diproses, dan saya akan hantar resit melalui e-mel."),
        ("customer", "Bagus, terima kasih banyak."),
        ("agent", "Ada apa-apa lagi yang boleh saya bantu?"),
        ("customer", "Tidak, itu sahaja."),
        ("agent", "Terima kasih kerana menghubungi kami, selamat hari."),
    ]),
}
EXPECTED = items(**GOOD_HOLD)


def spec(language: str) -> dict:
    """The call as data/make_samples.py's build_call takes it."""
    script = SCRIPTS[language]
    events = [("hold", "music", HOLD_S) if turn == "hold" else turn for turn in script["turns"]]
    return dict(call_id=f"m_{language}_card_payment", sr=16000, layout="agent_left", ring=2.0,
                agent=script.get("agent_voice", (f"{language}+f2", 150, 55)), customer=(f"{language}+m3", 150, 40), events=events)


def make(language: str, tmp: Path) -> dict:
    """Write the call's MP3 and return its label."""
    call = spec(language)
    tracks, script, holds, duration = build_call(call, tmp)
    rng = np.random.default_rng(_seed(call["call_id"] + "noise"))
    noisy = [tracks[side] + rng.normal(0, db(NOISE_DBFS), len(tracks[side])).astype(np.float32)
             for side in ("agent", "customer")]
    path = OUT / f"{call['call_id']}.mp3"
    to_segment(noisy, call["sr"]).export(str(path), format="mp3", bitrate=SCRIPTS[language].get("bitrate", "32k"))
    return {"call_id": call["call_id"], "file": path.name, "language": language,
            "agent_name": SCRIPTS[language]["agent_name"], "card": CARD, "script": script,
            "expected_items": EXPECTED, "expected_holds": holds, "duration_s": round(duration, 3),
            "voices": {"agent": call["agent"][0], "customer": call["customer"][0]}}


def main(languages: list[str]) -> None:
    OUT.mkdir(exist_ok=True)
    labels_path = OUT / "labels.json"
    labels = {l["language"]: l for l in json.loads(labels_path.read_text())} if labels_path.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for language in languages:
            labels[language] = make(language, Path(tmp))
            print(f"{labels[language]['file']}: {labels[language]['duration_s']:.1f} s")
    ordered = [labels[lang] for lang in SCRIPTS if lang in labels]
    labels_path.write_text(json.dumps(ordered, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    with open(OUT / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "call_id", "agent_id", "agent_name", "department", "started_at",
                         "channel_layout", "language"])
        for i, label in enumerate(ordered):
            writer.writerow([label["file"], label["call_id"], f"m{i + 1:03d}", label["agent_name"],
                             "payments", f"2025-03-1{i}T10:00:00", "agent_left",
                             label["language"]])


if __name__ == "__main__":
    main(sys.argv[1:] or list(SCRIPTS))
