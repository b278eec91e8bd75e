"""Hotline analyze latency of our model alone, served as `make run` serves it (a measurement, not a test).

    python -m bench.latency [--model models/assistant.tar.gz] [--requests 2000] [--clients 1]

The same servers and load loop as `make bench` (bench/speed.py) on the held-out
texts, without training or serving the stock Rasa model: a quick check that a
change to the pipeline did not make analyze slower. Prints p50 / p95 / p99.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import speed
from bot.evaluation.nlu import load_examples
from bot.local_servers import ROOT


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=1)
    args = parser.parse_args()
    texts = [text for text, _ in load_examples(ROOT / "tests" / "nlu_eval")]
    log = ROOT / "results" / "bench-latency-servers.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with speed.serve(args.model, log) as served:
        figures = speed.analyze_load(served, texts, args.clients, args.requests)
        figures["peak_rss_mb"] = served.peak_rss_mb()
    figures.pop("latencies_ms", None)
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
