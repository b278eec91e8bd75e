"""Load on the REST webhook: one replica, then two behind a client-side round robin (loopback only).

    .venv/bin/python bench/load.py --seconds 60 --users 16      (or: make load)

Starts everything itself on endpoints.production.yml (PostgreSQL, Redis, one action server,
Rasa replicas: bot/local_servers.py), then for each setting lets `--users` simulated people hold
multi-turn conversations (a scam story, then the triage answers, then a new conversation) for
`--seconds`. Reports requests/s, p50/p95/p99 latency, errors and each process's peak resident
memory, the CPU time each process used per answered turn (a figure other jobs on the machine
do not inflate) and the load average, and writes results/load/load.json and results/load/load.md.
Not a test: no thresholds.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from itertools import cycle
from pathlib import Path
from typing import Any, Dict, List

import requests

from bench.speed import percentile
from bench.train import machine
from bot.local_servers import ROOT, Deployment, Server, production_deployment

STORIES = [
    "网上认识的男朋友让我在他说的平台投资，已经充了三次钱，现在提现要交保证金",
    "自称公安局的民警打电话说我的身份证涉嫌洗钱，要我把存款转到安全账户配合调查",
    "Someone I met on a dating app wants me to put money into a crypto trading platform he uses",
    "淘宝客服打电话说我买的衣服有质量问题要给我退款，让我下载一个会议软件共享屏幕",
]
ANSWERS = ["/affirm", "半小时前", "两万块", '/inform{"payment_channel": "alipay"}', "/deny"]


def drive(replicas: List[Server], users: int, seconds: float) -> Dict[str, Any]:
    """`users` threads, each in its own conversations, turns spread over the replicas in turn."""
    latencies: List[float] = []
    errors: Dict[str, int] = {}
    lock = threading.Lock()
    targets = cycle(replicas)
    deadline = time.monotonic() + seconds

    def user(number: int) -> None:
        session = requests.Session()
        while time.monotonic() < deadline:
            sender = uuid.uuid4().hex
            for text in [STORIES[number % len(STORIES)], *ANSWERS]:
                if time.monotonic() >= deadline:
                    return
                with lock:
                    server = next(targets)
                started = time.perf_counter()
                try:
                    response = session.post(f"{server.url}/webhooks/rest/webhook",
                                            json={"sender": sender, "message": text}, timeout=60)
                    answered = response.status_code == 200 and response.json()
                    failure = None if answered else f"HTTP {response.status_code}"
                except requests.RequestException as error:
                    failure = type(error).__name__
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    if failure:
                        errors[failure] = errors.get(failure, 0) + 1
                    else:
                        latencies.append(elapsed)

    started = time.monotonic()
    with ThreadPoolExecutor(users) as pool:
        list(pool.map(user, range(users)))
    elapsed = time.monotonic() - started
    return {
        "requests": len(latencies) + sum(errors.values()),
        "ok": len(latencies),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }


def measure(replicas: int, users: int, seconds: float, workdir: Path) -> Dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    with production_deployment(replicas, workdir) as deployment:
        drive(deployment.replicas, users, min(10.0, seconds))  # warm-up: first parses are slow
        cpu_before = {server.name: server.cpu_seconds() for server in deployment.processes()}
        client_before = client_cpu_seconds()
        result = drive(deployment.replicas, users, seconds)
        used = {server.name: server.cpu_seconds() - cpu_before[server.name] for server in deployment.processes()}
        used["client"] = client_cpu_seconds() - client_before
        result["cpu_ms_per_turn"] = {name: round(s * 1000 / max(1, result["ok"]), 1) for name, s in used.items()}
        result["load_average_after"] = os.getloadavg()
        result["peak_rss_mib"] = peak_rss(deployment)
    return {"replicas": replicas, "users": users, "seconds": seconds, **result}


def client_cpu_seconds() -> float:
    """This process's CPU time: the simulated users' HTTP work shares the same 2 cores."""
    times = os.times()
    return times.user + times.system


def peak_rss(deployment: Deployment) -> Dict[str, float]:
    return {server.name: server.peak_rss_mib() for server in deployment.processes()}


def markdown(report: Dict[str, Any]) -> str:
    lines = [
        f"Machine: {report['machine']['cores']} cores ({report['machine']['cpu']}), "
        f"{report['machine']['memory_gb']} GB, Python {report['machine']['python']}, "
        f"load average before {tuple(round(x, 2) for x in report['load_average_before'])}.",
        "",
        "| replicas | users | s | requests/s | p50 ms | p95 ms | p99 ms | errors | peak RSS MiB "
        "| CPU ms per turn | load average after |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["results"]:
        rss = ", ".join(f"{name} {mib:.0f}" for name, mib in row["peak_rss_mib"].items())
        cpu = ", ".join(f"{name} {ms}" for name, ms in row["cpu_ms_per_turn"].items())
        load = " / ".join(f"{x:.2f}" for x in row["load_average_after"])
        lines.append(
            f"| {row['replicas']} | {row['users']} | {row['seconds']:.0f} | {row['requests_per_s']} | {row['p50_ms']} "
            f"| {row['p95_ms']} | {row['p99_ms']} | {row['errors']} | {rss} | {cpu} | {load} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "load")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    report: Dict[str, Any] = {"machine": machine(), "load_average_before": os.getloadavg(), "results": []}
    for replicas in args.replicas:
        report["results"].append(measure(replicas, args.users, args.seconds, args.out / f"run-{replicas}"))
        print(json.dumps(report["results"][-1], indent=2))
    (args.out / "load.json").write_text(json.dumps(report, indent=2))
    (args.out / "load.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
