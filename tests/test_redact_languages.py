"""Personal data leaves no trace in Norwegian, Dutch, Finnish, Latvian and Malay calls, on text.

Per language: a card number read digit by digit, in pairs (tens and teens: "førtifem
trettito", "vijfenveertig", "neljäkymmentäviisi", "četrdesmit pieci", "empat puluh lima"), with
"double" where the language says it, and without any question before it; the security code
after the agent's question; the national ID with its own checksum (fødselsnummer, BSN,
henkilötunnus, personas kods, MyKad); an IBAN spelled out; a phone number; an e-mail address
said with the language's words for "at" and "dot". What must stay (a duration, a price) stays.
Every redacted text then passes the database check: no Luhn-valid run of 13-19 digits or number
words of the call's language.
"""
from __future__ import annotations

import pytest

from pipeline.privacy.numbers import token_digits
from pipeline.privacy.redact import Redactor, digit_sequences, has_card_number
from pipeline.records import Utterance

CARD = "4532015112830366"   # Luhn-valid test number

# language -> kind -> [(the agent's question, what the customer says)]
SAID = {
    "nb": {
        "card": [("Kan jeg få kortnummeret ditt?", "fire fem tre to, null en fem en, en to åtte tre, null tre seks seks"),
                 ("Kan jeg få kortnummeret ditt?", "førtifem trettito, null femtien, tolv åttitre, null tre sekstiseks"),
                 ("Kan jeg få kortnummeret ditt?", "fire fem tre to null en fem en en to åtte tre null tre dobbel seks"),
                 ("Og så?", "det er fire fem tre to null en fem en en to åtte tre null tre seks seks")],
        "cvv": [("Og sikkerhetskoden på baksiden?", "sju tre sju")],
        "id": [("Hva er fødselsnummeret ditt?", "en fem null sju åtte fem en null en fem null"),
               ("Hva er fødselsnummeret ditt?", "femten null sju åttifem, en null en femti")],
        "account": [("Kontonummeret?", "N O nittitre åtte seks null en en en en nitten fire sju")],
        "phone": [("Hva er telefonnummeret ditt?", "nittiåtte sekstifem førtitre tjueen")],
        "email": [("E-postadressen din?", "ola punktum nordmann krøllalfa gmail punktum com")],
    },
    "nl": {
        "card": [("Mag ik uw kaartnummer?", "vier vijf drie twee, nul een vijf een, een twee acht drie, nul drie zes zes"),
                 ("Mag ik uw kaartnummer?", "vijfenveertig tweeëndertig, nul eenenvijftig, twaalf drieëntachtig, nul drie zesenzestig"),
                 ("Mag ik uw kaartnummer?", "vier vijf drie twee nul een vijf een een twee acht drie nul drie dubbel zes"),
                 ("En dan?", "het is vier vijf drie twee nul een vijf een een twee acht drie nul drie zes zes")],
        "cvv": [("En de beveiligingscode op de achterkant?", "zeven drie zeven")],
        "id": [("Wat is uw burgerservicenummer?", "een twee drie vier vijf zes zeven acht twee")],
        "account": [("Wat is uw IBAN?", "N L eenennegentig A B N A nul vier een zeven een zes vier drie nul nul")],
        "phone": [("Wat is uw telefoonnummer?", "nul zes, twaalf vierendertig, zesenvijftig achtenzeventig")],
        "email": [("Wat is uw e-mailadres?", "jan punt jansen apenstaartje ziggo punt nl")],
    },
    "fi": {
        "card": [("Saisinko kortin numeron?", "neljä viisi kolme kaksi, nolla yksi viisi yksi, yksi kaksi kahdeksan kolme, nolla kolme kuusi kuusi"),
                 ("Saisinko kortin numeron?", "neljäkymmentäviisi kolmekymmentäkaksi, nolla viisikymmentäyksi, kaksitoista kahdeksankymmentäkolme, nolla kolme kuusikymmentäkuusi"),
                 ("Saisinko kortin numeron?", "neljä viis kolme kaks nolla yks viis yks yks kaks kaheksan kolme nolla kolme kuus kuus"),
                 ("Entä sitten?", "se on neljä viisi kolme kaksi nolla yksi viisi yksi yksi kaksi kahdeksan kolme nolla kolme kuusi kuusi")],
        "cvv": [("Mikä on kortin turvakoodi?", "seitsemän kolme seitsemän")],
        "id": [("Mikä on henkilötunnuksenne?", "yksi kolme yksi nolla viisi kaksi viiva kolme nolla kahdeksan T"),
               ("Mikä on henkilötunnuksenne?", "kolmetoista kymmenen viisikymmentäkaksi viiva kolme nolla kahdeksan T")],
        "account": [("Tilinumeronne?", "F I kaksikymmentäyksi yksi kaksi kolme neljä viisi kuusi nolla nolla nolla nolla seitsemän kahdeksan viisi")],
        "phone": [("Mikä on puhelinnumeronne?", "nolla neljä nolla, yksi kaksi kolme, neljä viisi kuusi seitsemän"),
                  ("Mikä on puhelinnumeronne?", "plus kolmesataaviisikymmentäkahdeksan neljäkymmentä yksi kaksi kolme neljä viisi kuusi seitsemän")],
        "email": [("Sähköpostiosoitteenne?", "matti piste virtanen ät gmail piste com")],
    },
    "lv": {
        "card": [("Lūdzu, kartes numuru?", "četri pieci trīs divi, nulle viens pieci viens, viens divi astoņi trīs, nulle trīs seši seši"),
                 ("Lūdzu, kartes numuru?", "četrdesmit pieci trīsdesmit divi, nulle piecdesmit viens, divpadsmit astoņdesmit trīs, nulle trīs sešdesmit seši"),
                 ("Un tālāk?", "tas ir četri pieci trīs divi nulle viens pieci viens viens divi astoņi trīs nulle trīs seši seši")],
        "cvv": [("Kāds ir drošības kods kartes aizmugurē?", "septiņi trīs septiņi")],
        "id": [("Jūsu personas kods?", "viens trīs nulle pieci astoņi pieci, viens divi trīs četri četri")],
        "account": [("Jūsu IBAN?", "L V astoņdesmit B A N K nulle nulle nulle nulle četri trīs pieci viens deviņi pieci nulle nulle viens")],
        "phone": [("Jūsu tālruņa numurs?", "divdesmit seši, viens divi, trīsdesmit četri, pieci seši")],
        "email": [("Jūsu e-pasts?", "janis punkts berzins et inbox punkts lv")],
    },
    "ms": {
        "card": [("Boleh saya dapatkan nombor kad anda?", "empat lima tiga dua, kosong satu lima satu, satu dua lapan tiga, kosong tiga enam enam"),
                 ("Boleh saya dapatkan nombor kad anda?", "empat puluh lima tiga puluh dua, kosong satu lima puluh satu, dua belas lapan puluh tiga, kosong tiga enam puluh enam"),
                 ("Lepas tu?", "ia empat lima tiga dua kosong satu lima satu satu dua lapan tiga sifar tiga enam enam")],
        "cvv": [("Apakah kod keselamatan di belakang kad?", "tujuh tiga tujuh")],
        "id": [("Boleh saya dapatkan nombor kad pengenalan anda?", "lapan lapan kosong satu kosong satu, satu empat, lima enam tujuh lapan")],
        "phone": [("Nombor telefon anda?", "kosong satu dua, tiga empat lima, enam tujuh lapan sembilan"),
                  ("Nombor telefon anda?", "sifar satu tujuh, dua puluh tiga, empat puluh lima, enam puluh tujuh")],
        "email": [("Alamat e-mel anda?", "ahmad titik ali at gmail titik com")],
    },
}
PLACEHOLDER = {"card": "[CARD]", "cvv": "[CVV]", "id": "[ID]", "account": "[ACCOUNT]", "phone": "[PHONE]", "email": "[EMAIL]"}

# (language, what the agent says): nothing here is personal data
KEPT = [
    ("nb", "Det tar fem virkedager, og det koster tre hundre kroner."),
    ("nl", "Dat duurt vijf werkdagen en kost twintig euro."),
    ("fi", "Se kestää viisi arkipäivää ja maksaa kaksikymmentä euroa."),
    ("lv", "Tas aizņems piecas darba dienas un maksās divdesmit eiro."),
    ("ms", "Ia mengambil masa lima hari bekerja dan kosnya dua puluh ringgit."),
]


@pytest.fixture(scope="module")
def redactor():
    return Redactor()


def redacted(redactor, language: str, question: str, answer: str) -> tuple[str, ...]:
    call = [Utterance("agent", 1.0, 4.0, question), Utterance("customer", 5.0, 14.0, answer),
            Utterance("agent", 15.0, 17.0, {"nb": "Takk.", "nl": "Dank u.", "fi": "Kiitos.", "lv": "Paldies.", "ms": "Terima kasih."}[language])]
    out, _ = redactor.redact(call, language)
    return tuple(u.text for u in out) + tuple(" ".join(w.text for w in u.words) for u in out if u.words)


CASES = [(lang, kind, q, a) for lang, kinds in SAID.items() for kind, pairs in kinds.items() for q, a in pairs]


@pytest.mark.parametrize(("language", "kind", "question", "answer"), CASES,
                         ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_removed(redactor, language, kind, question, answer):
    texts = redacted(redactor, language, question, answer)
    customer = texts[1]
    assert PLACEHOLDER[kind] in customer, customer
    # nothing of the number is left: no run of three or more digits or number words
    assert not [d for d in digit_sequences(customer, language) if len(d) >= 3], customer
    for text in texts:
        assert not has_card_number(text, language) and CARD not in text.replace(" ", "")


@pytest.mark.parametrize("language", sorted(SAID))
def test_every_kind_in_every_language(language):
    kinds = set(SAID[language])
    expected = {"card", "cvv", "id", "phone", "email"} | ({"account"} if language != "ms" else set())
    assert expected <= kinds


@pytest.mark.parametrize(("language", "said"), KEPT)
def test_durations_and_prices_stay(redactor, language, said):
    out, redactions = redactor.redact([Utterance("agent", 1.0, 6.0, said)], language)
    assert out[0].text == said and not redactions


@pytest.mark.parametrize(("language", "word", "digits"), [
    ("fi", "kolmesataaviisikymmentäkahdeksan", "358"),       # three hundred fifty eight
    ("nl", "tweehonderdvijftig", "250"),
    ("nb", "tohundreogfemti", "250"),
    ("nb", "enten", None),                                     # "either": no number hides in it
    ("fi", "sataa", None),                                     # "it rains", or a hundred with nothing before it
])
def test_numbers_written_together_with_a_hundred(language, word, digits):
    assert token_digits([word], language) == [digits]
