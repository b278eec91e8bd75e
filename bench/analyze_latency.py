"""Latency of POST /webhooks/hotline/analyze against a running assistant (loopback only).

    .venv/bin/python bench/analyze_latency.py --url http://127.0.0.1:5005 --token $HOTLINE_TOKEN

Sends a bounded number of requests built from the held-out evaluation texts, with
1 and then N concurrent clients, and prints p50/p95/p99 and requests per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import List

import requests

from scripts.evaluate_nlu import load_examples


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run(url: str, token: str, texts: List[str], clients: int) -> dict:
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}

    def one(text: str) -> float:
        started = time.perf_counter()
        response = session.post(f"{url}/webhooks/hotline/analyze", json={"text": text}, headers=headers, timeout=30)
        response.raise_for_status()
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(one, texts))
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "mean_ms": round(statistics.mean(latencies), 1),
        "requests_per_s": round(len(latencies) / elapsed, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--token", required=True)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise SystemExit("This benchmark only targets a server on this machine's loopback.")
    texts = [t for t, _ in load_examples(Path("tests/nlu_eval"))]
    texts = (texts * (args.requests // len(texts) + 1))[: args.requests]
    run(args.url, args.token, texts[:20], 1)  # warm-up
    results = [run(args.url, args.token, texts, c) for c in args.clients]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
