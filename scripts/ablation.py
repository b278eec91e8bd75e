"""Train NLU-only variants of config.yml and measure each on the held-out split.

Each variant drops (or changes) one component; the table of scam macro-F1 per
language and parse latency goes to results/ablation/table.md (figures kept in
docs/measurements.md). Takes a few minutes
per variant on 2 cores: run with `make ablation`.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import yaml

from bot.evaluation.nlu import evaluate, load_examples

Pipeline = List[Dict[str, Any]]


def without(name: str, **match: Any) -> Callable[[Pipeline], Pipeline]:
    def edit(pipeline: Pipeline) -> Pipeline:
        return [c for c in pipeline if not (c["name"] == name and all(c.get(k) == v for k, v in match.items()))]
    return edit


def diet_in_place_of_linear(pipeline: Pipeline) -> Pipeline:
    diet = {"name": "DIETClassifier", "number_of_transformer_layers": 0, "epochs": 40, "entity_recognition": False,
            "constrain_similarities": True, "ranking_length": 0, "random_seed": 2026}
    return [diet if c["name"] == "bot.nlu.linear_intent.LinearIntentClassifier" else c for c in pipeline]


def without_regex_features(pipeline: Pipeline) -> Pipeline:
    """No regex featurizer, and no component asking for its features by alias."""
    kept = without("bot.nlu.regex_featurizer.LinearRegexFeaturizer")(pipeline)
    return [
        {**c, "featurizers": [f for f in c["featurizers"] if f != "regex"]} if "featurizers" in c else c
        for c in kept
    ]


VARIANTS: Dict[str, Callable[[Pipeline], Pipeline]] = {
    "without USE sentence encoder": without("bot.nlu.sentence_encoder.SentenceEncoderFeaturizer"),
    "without char n-gram counts": without("bot.nlu.sentence_counts.SentenceCountsFeaturizer", analyzer="char_wb"),
    "without word counts": lambda p: [
        c for c in p if not (c["name"] == "bot.nlu.sentence_counts.SentenceCountsFeaturizer" and "analyzer" not in c)
    ],
    "without regex features": without_regex_features,
    "DIET (no transformer layers) in place of the linear model": diet_in_place_of_linear,
}
HEADER = (
    "| variant | scam macro-F1 zh | scam macro-F1 en | intent macro-F1 | parse+analyze p50 ms | p95 ms "
    "| NLU training s |\n|---|---|---|---|---|---|---|"
)


def train(config: Dict[str, Any], out: Path) -> float:
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "config.yml"
    config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "train", "nlu", "-c", str(config_path), "--out", str(out),
         "--fixed-model-name", "nlu"],
        check=True, stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def row(name: str, results: Dict[str, Any], seconds: Any) -> str:
    zh, en = results["languages"]["zh"], results["languages"]["en"]
    latency = results["parse_and_analyze_ms"]
    return (f"| {name} | {zh['scam_macro_f1']:.3f} | {en['scam_macro_f1']:.3f} | {results['intent_macro_f1']:.3f} | "
            f"{latency['p50']:.1f} | {latency['p95']:.1f} | {seconds} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="models/assistant.tar.gz", help="the trained full pipeline")
    parser.add_argument("--out", default="results/ablation")
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    args = parser.parse_args()
    base = yaml.safe_load(Path("config.yml").read_text(encoding="utf-8"))
    examples = load_examples(Path("tests/nlu_eval"))
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [row("full pipeline (config.yml)", asyncio.run(evaluate(args.model, examples)), "see README")]
    for index, name in enumerate(args.variants):
        config = copy.deepcopy(base)
        config["pipeline"] = VARIANTS[name](config["pipeline"])
        out = out_dir / f"variant-{index}"
        print(f"[{index + 1}/{len(args.variants)}] training: {name}", flush=True)
        seconds = train(config, out)
        rows.append(row(name, asyncio.run(evaluate(str(out / "nlu.tar.gz"), examples)), f"{seconds:.0f}"))
        print(rows[-1], flush=True)
        # Written after every variant, so an interrupted run keeps what it measured.
        (out_dir / "table.md").write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    print(HEADER + "\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
