"""Screenshots read end to end (a measurement, not a test):

    python -m bench.ocr [--model models/assistant.tar.gz] [--out results/ocr] [--samples N]

Every screenshot of bench/screenshots.py (the team's own texts, drawn as WeChat chats, SMS screens,
long chats, small noisy captures and notices) is read in this process (bot/ocr.py) for the character
error rate, then posted as an image to the hotline's analyze, served as `make run` serves it, for the
type recognised and the time per image. Writes report.json and prints a table.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np
import requests

from bench import speed
from bench.screenshots import SAMPLES, ScreenshotSample, render_with_text
from bot.local_servers import ROOT
from bot.ocr import read_array


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def error_rate(read: str, truth: str) -> float:
    """Character error rate, whitespace left out (OCR spaces in Chinese are not errors)."""
    strip = re.compile(r"\s+")
    reference = strip.sub("", truth)
    return edit_distance(strip.sub("", read), reference) / max(1, len(reference))


def png(image: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def measure_reading(samples: Sequence[ScreenshotSample]) -> List[Dict[str, Any]]:
    rows = []
    for sample in samples:
        image, drawn = render_with_text(sample)
        read = read_array(np.asarray(image))
        rows.append({
            "name": sample.name, "style": sample.style, "lang": sample.lang, "scam_type": sample.scam_type,
            "cer_drawn": error_rate(read.text, drawn), "seconds_in_process": read.seconds, "png": png(image),
        })
    return rows


def measure_analysis(rows: List[Dict[str, Any]], served: speed.Served) -> None:
    session = requests.Session()
    for row in rows:
        answer = session.post(served.url + "/webhooks/hotline/analyze", data=row.pop("png"), timeout=120,
                              headers={"Authorization": f"Bearer {served.hotline_token}", "Content-Type": "image/png"})
        answer.raise_for_status()
        result = answer.json()
        row.update(verdict=result["verdict"], predicted=result["scam_type"],
                   seconds_server=answer.elapsed.total_seconds(), ocr_seconds=result["ocr"]["seconds"])


def right(row: Dict[str, Any]) -> bool:
    """A scam typed right, or an everyday message not taken for a scam."""
    if row["scam_type"] == "none":
        return row["verdict"] != "scam"
    return row["verdict"] != "none" and row["predicted"] == row["scam_type"]


def summary(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    groups: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups["all"].append(row)
        groups[row["lang"]].append(row)
        groups[f"{row['style']}/{row['lang']}"].append(row)
    table = {}
    for name, members in sorted(groups.items()):
        seconds = sorted(r["ocr_seconds"] for r in members)
        table[name] = {
            "images": len(members),
            "cer_drawn": round(statistics.mean(r["cer_drawn"] for r in members), 4),
            "right": sum(right(r) for r in members),
            "ocr_seconds_mean": round(statistics.mean(seconds), 3),
            "ocr_seconds_p95": round(seconds[min(len(seconds) - 1, int(0.95 * len(seconds)))], 3),
            "round_trip_mean": round(statistics.mean(r["seconds_server"] for r in members), 3),
        }
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "ocr")
    parser.add_argument("--samples", type=int, default=len(SAMPLES), help="the first N samples (a quick check)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = measure_reading(SAMPLES[: args.samples])
    with speed.serve(args.model, args.out / "servers.log") as served:
        measure_analysis(rows, served)
    table = summary(rows)
    (args.out / "report.json").write_text(json.dumps({"summary": table, "images": rows}, ensure_ascii=False,
                                                     indent=2), encoding="utf-8")
    print(f"{'group':22} {'n':>3} {'CER':>7} {'right':>6} {'ocr s':>6} {'p95 s':>6} {'trip s':>6}")
    for name, figures in table.items():
        print(f"{name:22} {figures['images']:>3} {figures['cer_drawn']:>7.4f} {figures['right']:>6} "
              f"{figures['ocr_seconds_mean']:>6.2f} {figures['ocr_seconds_p95']:>6.2f} "
              f"{figures['round_trip_mean']:>6.2f}")
    for row in rows:
        if not right(row):
            print(f"wrong: {row['name']}: {row['verdict']} {row['predicted']} (truth {row['scam_type']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
