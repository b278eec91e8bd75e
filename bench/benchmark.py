"""Benchmark: our pipeline against stock Rasa and a TF-IDF baseline, same data, same machine, same run.

    make bench                       # full run: report in docs/benchmark/
    make bench-smoke                 # tiny sizes, one training epoch: proves the benchmark still runs

1. Recognition on the held-out split per language, for all three systems.
2. Speed and cost of our model and the stock model, each served as `make run` serves it.
3. docs/benchmark/report.md with tables, ratios, targets met or missed, and PNG charts.

Models are trained only when missing or stale (bench/train.py records training time and a
fingerprint of the inputs beside each model), so a repeated run takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import yaml

from bench import quality, report, speed
from bench.train import is_fresh, machine, read_record, train
from bot.evaluation.nlu import load_examples, scam_label

ROOT = Path(__file__).resolve().parent.parent
OURS_CONFIG = ROOT / "config.yml"
STOCK_CONFIG = ROOT / "bench" / "configs" / "stock.yml"
# Rasa's 100 epochs of its transformer DIET take about 60-110 s each on 2 cores with our 4,400
# examples (3 hours or more); the benchmark trains fewer and says so in the report.
STOCK_NLU_EPOCHS = 15


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def with_epochs(config: Path, out: Path, epochs: int, sections: Sequence[str] = ("pipeline", "policies")) -> Path:
    """The same configuration with the trained components of `sections` cut to `epochs`."""
    document = yaml.safe_load(config.read_text(encoding="utf-8"))
    for section in sections:
        for component in document.get(section) or []:
            if "epochs" in component:
                component["epochs"] = min(epochs, component["epochs"])
    out.mkdir(parents=True, exist_ok=True)
    path = out / config.name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def ensure_model(name: str, config: Path, model: Path, retrain: bool) -> Optional[float]:
    """Trains when missing or stale; returns the recorded training seconds, if any."""
    if retrain or not is_fresh(model, config):
        log(f"training {name} from {config.relative_to(ROOT) if config.is_relative_to(ROOT) else config} "
            "(this takes minutes; progress below)")
        train(config, model.parent, model.name.replace(".tar.gz", ""))
    else:
        log(f"{name}: {model.relative_to(ROOT)} is up to date")
    return recorded_seconds(model)


def recorded_seconds(model: Path) -> Optional[float]:
    record = read_record(model)
    return float(record["seconds"]) if record else None


def smoke_training_data(out: Path, per_intent: int = 4) -> List[str]:
    """`rasa train --data` arguments for a tiny copy of the training data: a few examples per intent."""
    nlu: List[Dict[str, Any]] = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" in block:
                lines = [line for line in str(block["examples"]).splitlines() if line.strip().startswith("- ")]
                block = {**block, "examples": "\n".join(lines[:per_intent]) + "\n"}
            nlu.append(block)
    out.mkdir(parents=True, exist_ok=True)
    (out / "nlu.yml").write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True), encoding="utf-8")
    return ["--data", str(out / "nlu.yml"), str(ROOT / "data" / "stories"), str(ROOT / "data" / "rules"),
            "--augmentation", "0"]


def spread(examples: List[Any], count: int) -> List[Any]:
    """`count` examples spread evenly over the list (smoke runs), keeping every type represented."""
    step = max(1, len(examples) // count)
    return examples[::step][:count]


def measure_speed(name: str, model: Path, texts: List[str], args: argparse.Namespace, log_file: Path) -> Dict[str, Any]:
    log(f"{name}: starting the action server and rasa run")
    with speed.serve(model, log_file) as served:
        log(f"{name}: answering after {served.start_seconds} s")
        figures: Dict[str, Any] = {
            "start_seconds": served.start_seconds,
            "model_mb": round(model.stat().st_size / 2**20, 1),
            "analyze": [],
            "chat": [],
        }
        for clients in args.clients:
            log(f"{name}: {args.analyze_requests} analyze requests, {clients} client(s)")
            figures["analyze"].append(speed.analyze_load(served, texts, clients, args.analyze_requests))
        for clients in args.clients:
            log(f"{name}: {args.chat_turns} REST chat turns, {clients} client(s)")
            figures["chat"].append(speed.chat_load(served, texts, clients, args.chat_turns, f"{name}{clients}"))
        figures["peak_rss_mb"] = served.peak_rss_mb()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="default: docs/benchmark, or results/bench-smoke for --smoke")
    parser.add_argument("--analyze-requests", type=int, default=2000)
    parser.add_argument("--chat-turns", type=int, default=600)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--stock-epochs", type=int, default=STOCK_NLU_EPOCHS,
                        help="epochs of the stock DIET and ResponseSelector (Rasa's default is 100)")
    parser.add_argument("--retrain", action="store_true", help="train both models even when up to date")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes and one-epoch models in a temporary folder: checks the code, not the figures")
    args = parser.parse_args()
    if args.smoke:
        args.analyze_requests, args.chat_turns = min(args.analyze_requests, 40), min(args.chat_turns, 16)
    out = args.out or ROOT / ("results/bench-smoke" if args.smoke else "docs/benchmark")
    out.mkdir(parents=True, exist_ok=True)
    training = load_examples(ROOT / "data" / "nlu")
    examples = load_examples(ROOT / "tests" / "nlu_eval")
    ours_model = ROOT / "models" / "assistant.tar.gz"
    stock_model = ROOT / "models" / "bench" / "stock.tar.gz"
    started = time.perf_counter()
    if args.smoke:
        if not ours_model.exists():
            raise SystemExit(f"{ours_model} is missing: `make bench-smoke` trains it first")
        examples = spread(examples, 60)
        # The TF-IDF baseline on a tenth of the data: fitting it on all of it took minutes of a smoke run.
        training = spread(training, len(training) // 10)
        workdir = Path(tempfile.mkdtemp(prefix="antifraud-bench-smoke-"))
        stock_model = workdir / "stock.tar.gz"
        log("training a one-epoch stock model on a few examples per intent")
        train(with_epochs(STOCK_CONFIG, workdir, 1), workdir, "stock", smoke_training_data(workdir / "data"))
        training_seconds = {name: recorded_seconds(model) for name, model in (("ours", ours_model),
                                                                                ("stock", stock_model))}
    else:
        stock_config = with_epochs(STOCK_CONFIG, stock_model.parent, args.stock_epochs, sections=("pipeline",))
        training_seconds = {
            "ours": ensure_model("our pipeline", OURS_CONFIG, ours_model, args.retrain),
            "stock": ensure_model("stock Rasa", stock_config, stock_model, args.retrain),
        }
    labels = quality.labels_of(sorted({scam_label(intent) for _, intent in examples} - {"none"}))
    classifiers = {
        "ours": lambda: quality.rasa_classifier(str(ours_model), with_analysis=True),
        "stock": lambda: quality.rasa_classifier(str(stock_model), with_analysis=False),
        "tfidf": lambda: quality.tfidf_classifier(training),
    }
    measured_quality: Dict[str, Any] = {}
    for system, build in classifiers.items():
        log(f"recognition: {report.SYSTEMS[system]} on {len(examples)} held-out examples")
        measured_quality[system] = quality.measure(build(), examples, labels, progress=system)
        for lang, figures in measured_quality[system]["languages"].items():
            log(f"    {lang}: macro-F1 {figures['scam_macro_f1']:.3f}, detection recall "
                f"{figures['detection_recall']:.3f}, false alarms {figures['false_alarm_rate']:.3f}")

    texts = [text for text, _ in examples]
    log_file = ROOT / "results" / "bench-servers.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("", encoding="utf-8")
    measured_speed = {
        system: {"training_seconds": training_seconds[system], **measure_speed(system, model, texts, args, log_file)}
        for system, model in (("ours", ours_model), ("stock", stock_model))
    }
    results = {
        "run": {
            "command": " ".join(shlex.quote(part) for part in ["bench/benchmark.py", *sys.argv[1:]]),
            "smoke": args.smoke,
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
            "machine": machine(),
            "training_examples": len(training),
            "evaluation_examples": len(examples),
            "chat_turns_per_conversation": speed.TURNS_PER_CONVERSATION,
            "stock_nlu_epochs": 1 if args.smoke else args.stock_epochs,
            "training": {system: read_record(model) for system, model in (("ours", ours_model),
                                                                           ("stock", stock_model))},
        },
        "quality": measured_quality,
        "speed": measured_speed,
    }
    path = report.write(out, results, labels)
    if not args.smoke and args.out is None:
        report.update_readme(ROOT / "README.md", results)
    results["speed"] = report.strip_latencies(measured_speed)
    (out / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    log(f"report: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(path.read_text(encoding="utf-8").split("## Speed and cost")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
