"""Choose the verdict's calibration and operating points on the outside dev sample.

    python -m scripts.operating_points [--predictions results/external/predictions.jsonl] [--data PATH]

Reads the `scam_probability` that `make eval-external` wrote for each item, undoes
the calibration currently in config.yml to get the detector's raw probability,
fits Platt scaling (a logistic regression on the raw log-odds) against the gold
labels, and picks two operating points on the calibrated probability:
- `unsure_from`: the lowest threshold at which at most MAX_FALSE_ALARMS of the
  everyday texts of each language get an alarm (scam or unsure);
- `scam_from`: the highest threshold above it that leaves at most
  UNSURE_TARGET of all items unsure.
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

from bot.nlu.verdict import calibrated
from scripts.eval_external import DEFAULT_DATA, ROOT, load_items

MAX_FALSE_ALARMS = 0.025
# The issue allows 10% of items unsure; the band is chosen a little narrower, as dev flatters.
UNSURE_TARGET = 0.08


def verdict_config(config_path: Path) -> Dict[str, Any]:
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if component["name"].endswith("ScamVerdictClassifier"):
            return {"calibration_slope": 1.0, "calibration_intercept": 0.0, **component}
    raise SystemExit(f"No ScamVerdictClassifier in {config_path}")


def raw_log_odds(probability: float, slope: float, intercept: float) -> float:
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return (math.log(p / (1 - p)) - intercept) / slope


def lowest_threshold(candidates: Sequence[float], ok: Callable[[float], bool]) -> float:
    return next((t for t in sorted(candidates) if ok(t)), 1.0)


def choose(rows: Sequence[Mapping[str, Any]], slope: float, intercept: float) -> Dict[str, float]:
    log_odds = np.array([[raw_log_odds(r["scam_probability"], slope, intercept)] for r in rows])
    is_scam = np.array([r["gold"] != "none" for r in rows]).astype(int)
    platt = LogisticRegression(C=1e6).fit(log_odds, is_scam)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    probabilities = [calibrated(1 / (1 + math.exp(-x)), a, b) for x in log_odds[:, 0]]
    langs = sorted({r["lang"] for r in rows})

    def false_alarms_ok(threshold: float) -> bool:
        for lang in langs:
            benign = [p for p, r in zip(probabilities, rows) if r["lang"] == lang and r["gold"] == "none"]
            if benign and sum(p >= threshold for p in benign) / len(benign) > MAX_FALSE_ALARMS:
                return False
        return True

    candidates = sorted(set(round(p, 4) for p in probabilities)) + [1.0]
    unsure_from = lowest_threshold(candidates, false_alarms_ok)

    def unsure_share(threshold: float) -> float:
        return sum(unsure_from <= p < threshold for p in probabilities) / len(rows)

    # The widest unsure band the target allows: a middling probability asks rather than warns.
    scam_from = max(c for c in candidates if c >= unsure_from and unsure_share(c) <= UNSURE_TARGET)
    return {
        "calibration_slope": round(a, 4),
        "calibration_intercept": round(b, 4),
        "unsure_from": unsure_from,
        "scam_from": scam_from,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--predictions", type=Path, default=ROOT / "results" / "external" / "predictions.jsonl")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
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
    chosen = choose(rows, current["calibration_slope"], current["calibration_intercept"])
    print(yaml.safe_dump(chosen, sort_keys=False).strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
