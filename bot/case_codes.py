"""Case codes a person can read out on the phone: eight characters without 0/O, 1/I/L, shown as "K7QM-3XPA".

A code has at least two digits and two letters, so that no English word, number or date in a message
reads as one (`codes_in`).
"""

from __future__ import annotations

import re
import secrets
from typing import List

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8
MIN_DIGITS = MIN_LETTERS = 2
_CHAR = f"[{ALPHABET}{ALPHABET.lower()}]"
# Four and four, with a dash, a space or nothing between; not inside a longer run of letters or digits.
_CODE = re.compile(rf"(?<![A-Za-z0-9])({_CHAR}{{4}})[-\s－—]?({_CHAR}{{4}})(?![A-Za-z0-9])")


def _well_formed(code: str) -> bool:
    digits = sum(c.isdigit() for c in code)
    return len(code) == LENGTH and digits >= MIN_DIGITS and LENGTH - digits >= MIN_LETTERS


def new_code() -> str:
    """A random code (about 39 bits), stored without the dash."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if _well_formed(code):
            return code


def shown(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def codes_in(text: str) -> List[str]:
    """The case codes written in `text`, in stored form, in order."""
    found = []
    for match in _CODE.finditer(text or ""):
        code = (match.group(1) + match.group(2)).upper()
        if _well_formed(code) and code not in found:
            found.append(code)
    return found
