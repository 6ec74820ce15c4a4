"""Personal data in file names: a caller's phone number must not become a call id.

Recorders often name files after the caller (`20261123_+4791234567_in.wav`). The call id derived
from such a name is shown in logs, Prefect task names, artifacts and every page, so long digit
runs in it are replaced by a stable pseudonym (`n` + 10 hex digits of a hash): the same file
gives the same id every night, and nobody reads the number off it. Dates and times in the name
(`20261123`, `20261123T101500`, `20261123101500`) are kept: they are not personal.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime

# A run of at least 7 digits, optionally with a leading + and single spaces, dots or dashes
# between digit groups ("+47 912 34 567", "0044-20-7946-0018").
_DIGIT_RUN = re.compile(r"\+?\d(?:[ .-]?\d){6,}")
_STAMP_FORMATS = ("%Y%m%d", "%Y%m%d%H%M%S", "%Y%m%d%H%M")


def _is_timestamp(digits: str) -> bool:
    for fmt in _STAMP_FORMATS:
        try:
            stamp = datetime.strptime(digits, fmt)
        except ValueError:
            continue
        if 1990 <= stamp.year <= 2100:
            return True
    return False


def _pseudonym(match: re.Match) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if not text.startswith("+") and _is_timestamp(digits):
        return text
    return "n" + hashlib.sha256(digits.encode()).hexdigest()[:10]


def pseudonymize_numbers(name: str) -> str:
    """`name` with every long digit run that is not a date or time replaced by a stable pseudonym."""
    return _DIGIT_RUN.sub(_pseudonym, name)
