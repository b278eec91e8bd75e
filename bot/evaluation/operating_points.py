"""Choose the verdict's calibration and operating points on the outside dev sample.

    python -m bot.evaluation.operating_points [--predictions results/external/predictions.jsonl] [--data PATH]

Reads the `scam_probability` that `make eval-external` wrote for each item, undoes
the calibration in config.yml (run it before editing that: the one the model was
trained with) to get the detector's raw probability,
fits Platt scaling (a logistic regression on the raw log-odds) against the gold
labels, and picks two operating points on the calibrated probability:
- `unsure_from`: the lowest threshold at which at most MAX_FALSE_ALARMS of the
  everyday texts of each language get an alarm (scam or unsure);
- `scam_from`: the lowest threshold at which at most SCAM_FALSE_ALARMS of
  them get a scam verdict, lowered if need be so that at most MAX_UNSURE of
  all items are unsure.
It prints the values for ScamVerdictClassifier in config.yml; they are chosen on
the dev set, so the dev figures flatter them a little: the sealed set tells.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Sequence

import numpy as np
import yaml
from sklearn.linear_model import LogisticRegression

from bot.evaluation.external import DEFAULT_DATA, ROOT, load_items
from bot.language import detect_language
from bot.nlu.verdict import ScamVerdictClassifier, calibrated

MAX_FALSE_ALARMS = 0.025
# A "scam" verdict keeps to at most this share of everyday texts; between the two points is unsure.
SCAM_FALSE_ALARMS = 0.01
# The issue allows 10% of items unsure; the cap is a little lower, as dev flatters.
MAX_UNSURE = 0.08


def verdict_config(config_path: Path) -> Dict[str, Any]:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"].endswith("ScamVerdictClassifier"):
            return {**ScamVerdictClassifier.get_default_config(), **component}
    raise SystemExit(f"No ScamVerdictClassifier in {config_path}")


def raw_log_odds(probability: float, slope: float, intercept: float) -> float:
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return (math.log(p / (1 - p)) - intercept) / slope


def lowest_threshold(candidates: Sequence[float], ok: Callable[[float], bool]) -> float:
    return next((t for t in sorted(candidates) if ok(t)), 1.0)


def blended(row: Mapping[str, Any], blend_max_chars: Mapping[str, int]) -> bool:
    """Whether the verdict joined this text's probability with the intent classifier's (a short text)."""
    text = row["text"]
    return len(text.strip()) < blend_max_chars.get(detect_language(text) or "", 0)


def choose(
    rows: Sequence[Mapping[str, Any]], slope: float, intercept: float, blend_max_chars: Mapping[str, int],
) -> Dict[str, float]:
    """Platt scaling is fitted on the detector's own probabilities (short texts, whose probability is
    joined with the intent classifier's, are left out of the fit); the operating points on every item,
    short ones at the probability the model gave."""
    short = [blended(r, blend_max_chars) for r in rows]
    log_odds = np.array([[raw_log_odds(r["scam_probability"], slope, intercept)] for r in rows])
    is_scam = np.array([r["gold"] != "none" for r in rows]).astype(int)
    fitted = [i for i, s in enumerate(short) if not s]
    platt = LogisticRegression(C=1e6).fit(log_odds[fitted], is_scam[fitted])
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    probabilities = [
        float(r["scam_probability"]) if s else calibrated(1 / (1 + math.exp(-x)), a, b)
        for r, s, x in zip(rows, short, log_odds[:, 0])
    ]
    langs = sorted({r["lang"] for r in rows})

    def at_most(share: float) -> Callable[[float], bool]:
        def ok(threshold: float) -> bool:
            for lang in langs:
                benign = [p for p, r in zip(probabilities, rows) if r["lang"] == lang and r["gold"] == "none"]
                if benign and sum(p >= threshold for p in benign) / len(benign) > share:
                    return False
            return True
        return ok

    def unsure_share(threshold: float) -> float:
        return sum(unsure_from <= p < threshold for p in probabilities) / len(rows)

    candidates = sorted(set(round(p, 4) for p in probabilities)) + [1.0]
    unsure_from = lowest_threshold(candidates, at_most(MAX_FALSE_ALARMS))

    # "scam" itself keeps to a stricter point; the zone between the two is unsure, within its cap.
    strict = lowest_threshold([c for c in candidates if c >= unsure_from], at_most(SCAM_FALSE_ALARMS))
    within_cap = [c for c in candidates if unsure_from <= c <= strict and unsure_share(c) <= MAX_UNSURE]
    return {
        "calibration_slope": round(a, 4),
        "calibration_intercept": round(b, 4),
        "unsure_from": unsure_from,
        "scam_from": max(within_cap),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", type=Path, default=ROOT / "results" / "external" / "predictions.jsonl")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml",
                        help="the configuration the model that made the predictions was trained with")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"No outside evaluation set at {args.data} (../shared/eval/dev.jsonl beside the project).")
        return 2
    gold = {item["id"]: item for item in load_items(args.data)}
    rows: List[Dict[str, Any]] = []
    for line in args.predictions.read_text(encoding="utf-8").splitlines():
        prediction = json.loads(line)
        rows.append({**gold[prediction["id"]], **prediction})
    current = verdict_config(args.config)
    chosen = choose(
        rows, current["calibration_slope"], current["calibration_intercept"], current["intent_blend_max_chars"],
    )
    print(yaml.safe_dump(chosen, sort_keys=False).strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
