"""Evaluate the trained model on the held-out split in tests/nlu_eval/.

Prints per-intent precision/recall/F1 and, through the same analysis the
hotline uses, the scam-type metrics per language: macro-F1 over the eleven
types plus "none", detection recall and false-alarm rate. Exits 1 when a
language's scam macro-F1 is below its floor.

Beside it, for reading the floor, the same macro-F1 from the intent
classifier's own top intent (how the assistant typed a text before the
verdict), and both on the scam and everyday examples only: follow-ups about a
scam ("I already paid him") are "none" by their label, while the verdict reads
their words as a scam.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

import yaml

from bot.analysis import NO_SCAM, analyze, scam_type_of_intent

CJK = re.compile(r"[\u4e00-\u9fff]")
# Floors set from measurement (2026-12-02 evening: zh 0.852, en 0.836; 2026-12-04 evening 0.832 / 0.821; that night,
# short texts joined with the intent classifier, 0.860 / 0.862; before the verdict 0.902 / 0.909:
# docs/external-evaluation.md, "Twelfth round").
MACRO_F1_FLOOR = {"zh": 0.84, "en": 0.84}


def load_examples(folder: Path) -> List[Tuple[str, str]]:
    pairs = []
    for path in sorted(folder.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" not in block:
                continue  # regexes, lookups and synonyms are not examples
            for line in str(block.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    pairs.append((line.strip()[2:].strip(), block["intent"]))
    return pairs


def per_class(gold: Sequence[str], predicted: Sequence[str]) -> Dict[str, Dict[str, float]]:
    labels = sorted(set(gold) | set(predicted))
    report = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted) if g == p == label)
        fp = sum(1 for g, p in zip(gold, predicted) if p == label and g != label)
        fn = sum(1 for g, p in zip(gold, predicted) if g == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        report[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    return report


def macro_f1(report: Mapping[str, Mapping[str, float]]) -> float:
    supported = [r["f1"] for r in report.values() if r["support"] > 0]
    return statistics.mean(supported) if supported else 0.0


def predicted_intent(parse: Mapping[str, Any]) -> str:
    intent = (parse.get("intent") or {}).get("name") or "nlu_fallback"
    if intent == "faq":
        key = ((parse.get("response_selector") or {}).get("faq") or {}).get("response", {}).get(
            "intent_response_key"
        )
        return key or intent
    return intent


def scam_label(intent: str) -> str:
    return scam_type_of_intent(intent) or NO_SCAM


def classifier_intent(parse: Mapping[str, Any]) -> str:
    """The intent classifier's top intent, before the verdict routes the message."""
    ranking = parse.get("intent_ranking") or []
    return str(ranking[0].get("name")) if ranking else predicted_intent(parse)


def print_table(title: str, report: Mapping[str, Mapping[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'label':34} {'prec':>6} {'rec':>6} {'f1':>6} {'n':>5}")
    for label, r in report.items():
        print(f"{label:34} {r['precision']:6.3f} {r['recall']:6.3f} {r['f1']:6.3f} {int(r['support']):5d}")


def detection(gold: Iterable[str], predicted: Iterable[str]) -> Dict[str, float]:
    pairs = list(zip(gold, predicted))
    scams = [p for g, p in pairs if g != NO_SCAM]
    benign = [p for g, p in pairs if g == NO_SCAM]
    return {
        "detection_recall": sum(p != NO_SCAM for p in scams) / len(scams) if scams else 0.0,
        "false_alarm_rate": sum(p != NO_SCAM for p in benign) / len(benign) if benign else 0.0,
    }


def scam_and_everyday_only(rows: Sequence[Tuple[str, ...]]) -> Dict[str, float]:
    """Scam macro-F1 of the verdict and of the intent route over the examples whose label is a scam
    type or an everyday intent (the verdict's own two sides), follow-ups about a scam left out."""
    from bot.nlu.verdict import ScamVerdictClassifier  # imports Rasa: only when evaluating, as evaluate() does

    everyday = set(ScamVerdictClassifier.get_default_config()["none_intents"])
    kept = [r for r in rows if r[3] != NO_SCAM or r[1] in everyday]
    gold = [r[3] for r in kept]
    return {
        "scam_and_everyday_examples": len(kept),
        "scam_and_everyday_macro_f1": macro_f1(per_class(gold, [r[4] for r in kept])),
        "scam_and_everyday_intent_route_macro_f1": macro_f1(per_class(gold, [r[5] for r in kept])),
    }


async def evaluate(model: str, examples: List[Tuple[str, str]]) -> Dict[str, Any]:
    import structlog
    from rasa.core.agent import Agent

    # Rasa logs every parse at debug level; a thousand of them would bury the report.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))

    agent = Agent.load(model)
    rows = []
    latencies = []
    for text, gold in examples:
        lang = "zh" if CJK.search(text) else "en"
        started = time.perf_counter()
        parse = await agent.parse_message(text)
        analysis = analyze(parse, text, lang)
        latencies.append((time.perf_counter() - started) * 1000)
        rows.append((
            lang, gold, predicted_intent(parse), scam_label(gold), analysis.scam_type,
            scam_label(classifier_intent(parse)),
        ))
    results: Dict[str, Any] = {"examples": len(rows)}
    intent_report = per_class([r[1] for r in rows], [r[2] for r in rows])
    print_table("Intents (all languages)", intent_report)
    results["intent_macro_f1"] = macro_f1(intent_report)
    results["languages"] = {}
    for lang in ("zh", "en"):
        subset = [r for r in rows if r[0] == lang]
        gold_types = [r[3] for r in subset]
        predicted_types = [r[4] for r in subset]
        report = per_class(gold_types, predicted_types)
        print_table(f"Scam types, {lang} ({len(subset)} examples)", report)
        results["languages"][lang] = {
            "examples": len(subset),
            "scam_macro_f1": macro_f1(report),
            "accuracy": sum(g == p for g, p in zip(gold_types, predicted_types)) / len(subset),
            **detection(gold_types, predicted_types),
            "intent_route_macro_f1": macro_f1(per_class(gold_types, [r[5] for r in subset])),
            **scam_and_everyday_only(subset),
            "per_type": report,
            "confusions": Counter(
                f"{g} -> {p}" for g, p in zip(gold_types, predicted_types) if g != p
            ).most_common(15),
        }
    latencies.sort()
    results["parse_and_analyze_ms"] = {
        "p50": latencies[len(latencies) // 2],
        "p95": latencies[int(len(latencies) * 0.95)],
    }
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="models/assistant.tar.gz")
    parser.add_argument("--data", default="tests/nlu_eval")
    parser.add_argument("--out", default="results/nlu")
    args = parser.parse_args()
    examples = load_examples(Path(args.data))
    results = asyncio.run(evaluate(args.model, examples))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    failed = False
    print()
    for lang, floor in MACRO_F1_FLOOR.items():
        r = results["languages"][lang]
        print(
            f"{lang}: scam macro-F1 {r['scam_macro_f1']:.3f} (floor {floor}), accuracy {r['accuracy']:.3f}, "
            f"detection recall {r['detection_recall']:.3f}, false alarms {r['false_alarm_rate']:.3f}"
        )
        print(
            f"    intent route (the classifier's top intent) {r['intent_route_macro_f1']:.3f}; scam and everyday "
            f"examples only ({r['scam_and_everyday_examples']}): verdict {r['scam_and_everyday_macro_f1']:.3f}, "
            f"intent route {r['scam_and_everyday_intent_route_macro_f1']:.3f}"
        )
        for confusion, count in r["confusions"][:8]:
            print(f"    {count:3d}  {confusion}")
        failed |= r["scam_macro_f1"] < floor
    print(f"intent macro-F1 {results['intent_macro_f1']:.3f}; parse+analyze p50 "
          f"{results['parse_and_analyze_ms']['p50']:.1f} ms, p95 {results['parse_and_analyze_ms']['p95']:.1f} ms")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
