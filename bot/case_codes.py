"""Case codes a person can read out on the phone: eight characters without 0/O, 1/I/L, shown as "K7QM-3XPA".

Each half has a digit and a letter, so that no English word, number, date or "send 6888" in a message
reads as one (`codes_in`).
"""

from __future__ import annotations

import re
import secrets
from typing import List

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8
_CHAR = f"[{ALPHABET}{ALPHABET.lower()}]"
# Four and four, with a dash, a space or nothing between; not inside a longer run of letters or digits.
_CODE = re.compile(rf"(?<![A-Za-z0-9])({_CHAR}{{4}})[-\s－—]?({_CHAR}{{4}})(?![A-Za-z0-9])")


def _mixed(part: str) -> bool:
    return any(c.isdigit() for c in part) and any(c.isalpha() for c in part)


def _well_formed(code: str) -> bool:
    return len(code) == LENGTH and _mixed(code[:4]) and _mixed(code[4:])


def new_code() -> str:
    """A random code (about 38 bits), stored without the dash."""
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


def without_case_codes(text: str) -> str:
    """`text` with every case code left out."""
    return _CODE.sub(lambda match: "" if _well_formed((match.group(1) + match.group(2)).upper()) else match.group(0),
                     text or "")
