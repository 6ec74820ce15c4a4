"""Check digits and shapes of the numbers that must never be stored: pure functions on strings.

Each takes the digits (or characters) as said, without spaces or separators, and says whether
they have the shape and pass the check of that kind of number. A check that passes makes a
number that is already redacted (as a phone number, say) keep the right kind; the checks never
decide alone that ordinary talk is personal data, except where they are strong (Luhn over 13+
digits, IBAN mod 97, Norwegian and Latvian check digits with a date, Finnish mod 31).
"""
from __future__ import annotations

import re
from datetime import date

# --------------------------------------------------------------------------------------------
# Cards
# --------------------------------------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (only 0-9, at least 2 of them) passes the Luhn (mod 10) check."""
    if len(digits) < 2 or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_prefix_plausible(digits: str) -> bool:
    """True when ``digits`` start as a payment card issued by a card network does: Visa 4,
    Mastercard 51-55 and 2221-2720, Amex 34/37, Diners 30/36/38/39, JCB 35, Discover and
    UnionPay 6, Maestro 50/56-69. ("2023 and 2024 and ..." does not.)"""
    if len(digits) < 4 or not digits[:4].isdigit():
        return False
    first, two, four = digits[0], int(digits[:2]), int(digits[:4])
    return (first in "46" or 50 <= two <= 59 or two in (30, 34, 35, 36, 37, 38, 39)
            or 2221 <= four <= 2720)


# --------------------------------------------------------------------------------------------
# National identity numbers
# --------------------------------------------------------------------------------------------


def _ascii_digits(s: str, n: int) -> bool:
    return len(s) == n and s.isascii() and s.isdigit()


def _valid_day(day: int, month: int, year: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def fodselsnummer_valid(digits: str) -> bool:
    """Norwegian national identity number: 11 digits, DDMMYY (D- and H-numbers too), two
    mod-11 check digits."""
    if not _ascii_digits(digits, 11):
        return False
    d = [int(c) for c in digits]
    day, month = d[0] * 10 + d[1], d[2] * 10 + d[3]
    day -= 40 if day > 40 else 0          # D-number
    month -= 40 if month > 40 else 0      # H-number
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return False
    w1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
    w2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    k1 = 11 - sum(a * b for a, b in zip(d, w1)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(a * b for a, b in zip(d, w2)) % 11
    k2 = 0 if k2 == 11 else k2
    return k1 == d[9] and k2 == d[10] and k1 != 10 and k2 != 10


def bsn_valid(digits: str) -> bool:
    """Dutch burgerservicenummer: 9 digits (8 with a leading zero dropped) passing the
    11-test (weights 9..2 and -1)."""
    if _ascii_digits(digits, 8):
        digits = "0" + digits
    if not _ascii_digits(digits, 9) or digits == "000000000":
        return False
    total = sum(int(c) * w for c, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1)))
    return total % 11 == 0


_HETU_RE = re.compile(r"(\d{2})(\d{2})(\d{2})([-+A-FU-Y]?)(\d{3})([0-9A-Y])")
_HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
_HETU_CENTURY = {"+": 1800, "-": 1900, "U": 1900, "V": 1900, "W": 1900, "X": 1900, "Y": 1900,
                 "A": 2000, "B": 2000, "C": 2000, "D": 2000, "E": 2000, "F": 2000, "": 1900}


def hetu_valid(code: str) -> bool:
    """Finnish henkilötunnus DDMMYYCZZZQ ("131052-308T"): a real date, the century sign
    (-, +, A, or the 2023 signs; also accepted missing, as speech loses it), and the mod-31
    check character. Letters in either case."""
    m = _HETU_RE.fullmatch(code.upper())
    if not m:
        return False
    dd, mm, yy, sign, nnn, check = m.groups()
    if not _valid_day(int(dd), int(mm), _HETU_CENTURY[sign] + int(yy)):
        return False
    return _HETU_CHECK[int(dd + mm + yy + nnn) % 31] == check


# Place-of-birth codes (the 7th-8th digits) not in use, from the National Registration Department.
_MYKAD_UNUSED_PB = {0, 17, 18, 19, 20, 69, 70, 73, 80, 81, 94, 95, 96, 97}


def mykad_valid(digits: str) -> bool:
    """Malaysian MyKad / NRIC number YYMMDD-PB-###G: 12 digits, a real birth date and a
    place-of-birth code in use. (There is no check digit.)"""
    if not _ascii_digits(digits, 12):
        return False
    yy, mm, dd, pb = int(digits[:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6:8])
    if pb in _MYKAD_UNUSED_PB:
        return False
    return _valid_day(dd, mm, 2000 + yy) or _valid_day(dd, mm, 1900 + yy)


def personas_kods_valid(digits: str) -> bool:
    """Latvian personas kods DDMMYY-CNNNX (issued before 2017): 11 digits, a real birth date,
    the century digit C (0, 1, 2) and the check digit. Codes from 2017 start with 32 and carry
    no date: those are only recognised after a context word."""
    if not _ascii_digits(digits, 11):
        return False
    century = {"0": 1800, "1": 1900, "2": 2000}.get(digits[6])
    if century is None or not _valid_day(int(digits[:2]), int(digits[2:4]), century + int(digits[4:6])):
        return False
    total = sum(int(c) * w for c, w in zip(digits, (1, 6, 3, 7, 9, 10, 5, 8, 4, 2)))
    return (1101 - total) % 11 == int(digits[10])


def ssn_shape(lengths: list[int]) -> bool:
    """US social security number said in its groups: 3, 2 and 4 digits."""
    return lengths == [3, 2, 4]


# --------------------------------------------------------------------------------------------
# Bank accounts
# --------------------------------------------------------------------------------------------


def kontonummer_valid(digits: str) -> bool:
    """Norwegian bank account number: 11 digits with a mod-11 check digit."""
    if not _ascii_digits(digits, 11):
        return False
    total = sum(int(c) * w for c, w in zip(digits, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)))
    k = 11 - total % 11
    k = 0 if k == 11 else k
    return k != 10 and k == int(digits[10])


# Length of the IBAN of each country (ISO 13616 registry).
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28,
    "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}


def iban_valid(code: str) -> bool:
    """International bank account number ("GB29NWBK60161331926819"): the country's length,
    two check digits, and the mod-97 check. Letters in either case, no spaces."""
    code = code.upper()
    if len(code) < 5 or not code.isascii() or not code.isalnum():
        return False
    if IBAN_LENGTHS.get(code[:2]) != len(code) or not code[2:4].isdigit():
        return False
    moved = code[4:] + code[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def sort_code_shape(token: str) -> bool:
    """A UK sort code as written: 20-00-00, 20 00 00 is three tokens, 200000 is digits."""
    return re.fullmatch(r"\d{2}[-.]\d{2}[-.]\d{2}", token) is not None


__all__ = ["luhn_valid", "card_prefix_plausible", "fodselsnummer_valid", "bsn_valid", "hetu_valid", "mykad_valid",
           "personas_kods_valid", "ssn_shape", "kontonummer_valid", "IBAN_LENGTHS", "iban_valid",
           "sort_code_shape"]
