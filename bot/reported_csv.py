"""Reported identifiers in and out as CSV: a list handed over in clear, or another store's export of hashes.

In: a header row, then one identifier per row, either
  kind,value[,reported_on][,reference]   (a police station's list; kinds as ids or their zh/en names)
  kind,key_hash,reports,first_reported_on,last_reported_on   (our own export, under the same key)
UTF-8 (with or without BOM) or GB18030, as spreadsheets in China save it. Every row is checked first:
one bad row rejects the file with each error's line, so a corrected file can be sent again. A row
already imported (same kind, value, day and reference) is not counted twice.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Dict, List, Optional, Sequence, Tuple

from bot.identifiers import identifier_knowledge
from bot.reported import KINDS, InvalidIdentifier, fingerprint, is_official, keyed_hash, normalize
from bot.storage.models import utc_now
from bot.storage.reports import IMPORT, NewReport

MAX_ROWS = 5000
MAX_ERRORS = 50
MAX_REPORTS_PER_ROW = 10000
MAX_REPORTS = 20000  # one import's report rows, whatever the counts in it say
EXPORT_HEADER = ["kind", "key_hash", "reports", "first_reported_on", "last_reported_on"]
_HASH = re.compile(r"[0-9a-f]{64}")


class ImportRejected(ValueError):
    def __init__(self, errors: Sequence[Tuple[int, str]]) -> None:
        super().__init__(f"{len(errors)} rows are wrong")
        self.errors = list(errors)


@dataclass(frozen=True)
class ImportPlan:
    reports: List[NewReport]
    rows: int


def decode(body: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise ImportRejected([(0, "the file is not text (UTF-8 or GB18030 CSV)")])


def kind_names() -> Dict[str, str]:
    """What a kind may be called in a header-led list: its id, and its names in knowledge/identifiers.yml."""
    names = {kind: kind for kind in KINDS}
    for kind, localized_names in identifier_knowledge().reported["kinds"].items():
        for name in localized_names.values():
            names[str(name).strip().lower()] = kind
    return names


def _day(value: str, line: int, errors: List[Tuple[int, str]]) -> Optional[datetime]:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        errors.append((line, f"'{value}' is not a date as YYYY-MM-DD"))
        return None
    if not date(2000, 1, 1) <= day <= utc_now().date():
        errors.append((line, f"'{value}' is before 2000 or in the future"))
        return None
    return datetime.combine(day, time(12))


def plan_import(body: bytes) -> ImportPlan:
    """The reports a CSV body asks for, or ImportRejected with every wrong row (up to MAX_ERRORS)."""
    rows = list(csv.reader(io.StringIO(decode(body))))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ImportRejected([(0, "the file is empty")])
    header = [cell.strip().lower() for cell in rows[0]]
    if len(rows) - 1 > MAX_ROWS:
        raise ImportRejected([(0, f"more than {MAX_ROWS} rows; split the file")])
    if header[:2] == ["kind", "value"]:
        return _plan_values(rows[1:], header)
    if header == EXPORT_HEADER:
        return _plan_hashes(rows[1:])
    raise ImportRejected([(1, "the header must be 'kind,value[,reported_on][,reference]' or "
                              f"'{','.join(EXPORT_HEADER)}'")])


def _plan_values(rows: Sequence[List[str]], header: List[str]) -> ImportPlan:
    names, kb = kind_names(), identifier_knowledge()
    errors: List[Tuple[int, str]] = []
    reports: List[NewReport] = []
    column = {name: header.index(name) for name in ("reported_on", "reference") if name in header}
    for line, row in enumerate(rows, start=2):
        cells = [c.strip() for c in row] + [""] * len(header)
        kind = names.get(cells[0].lower())
        if kind is None:
            errors.append((line, f"unknown kind '{cells[0][:40]}'"))
            continue
        try:
            kind, normalized = normalize(kind, cells[1])
        except InvalidIdentifier as invalid:
            errors.append((line, str(invalid)))
            continue
        if is_official(kind, normalized, kb):
            errors.append((line, "an official number or site; it cannot be reported"))
            continue
        day = _day(cells[column["reported_on"]], line, errors) if "reported_on" in column else None
        source_reference = cells[column["reference"]] if "reference" in column else ""
        reference = keyed_hash(IMPORT, kind, normalized, day.date().isoformat() if day else "", source_reference)
        reports.append(NewReport(kind, fingerprint(kind, normalized), IMPORT, reference, day))
    if errors:
        raise ImportRejected(errors[:MAX_ERRORS])
    return ImportPlan(reports, len(rows))


def _plan_hashes(rows: Sequence[List[str]]) -> ImportPlan:
    errors: List[Tuple[int, str]] = []
    reports: List[NewReport] = []
    for line, row in enumerate(rows, start=2):
        cells = [c.strip() for c in row] + [""] * 5
        kind, key_hash, count = cells[0].lower(), cells[1].lower(), cells[2]
        if kind not in KINDS or not _HASH.fullmatch(key_hash):
            errors.append((line, "a kind and a 64-character hex key_hash are needed"))
            continue
        if not count.isdigit() or not 1 <= int(count) <= MAX_REPORTS_PER_ROW:
            errors.append((line, f"reports must be a whole number from 1 to {MAX_REPORTS_PER_ROW}"))
            continue
        if len(reports) + int(count) > MAX_REPORTS:
            raise ImportRejected([(line, f"more than {MAX_REPORTS} reports in one file; split it")])
        first, last = _day(cells[3], line, errors), _day(cells[4], line, errors)
        for index in range(int(count)):
            # The first report on the first day, the others on the last: the count and both days survive.
            reports.append(NewReport(kind, key_hash, IMPORT, keyed_hash("copy", kind, key_hash, str(index)),
                                     first if index == 0 else last))
    if errors:
        raise ImportRejected(errors[:MAX_ERRORS])
    return ImportPlan(reports, len(rows))


def export_csv(rows: Sequence[Tuple[str, str, int, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    writer.writerows(rows)
    return out.getvalue()
