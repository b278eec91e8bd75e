"""Speed and cost of one trained model served the way `make run` serves it.

Starts the action server and `rasa run` on free ports of 127.0.0.1 with a
throwaway SQLite tracker store and case database, then measures start time,
latency of the hotline analyze endpoint and of REST chat turns at several
client counts, CPU time per message and peak resident memory (VmHWM) of each
process.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence

import requests

from bot.local_servers import (
    START_TIMEOUT_S,
    Server,
    base_environment,
    free_port,
    new_tokens,
    sqlite_url,
    start_action_server,
    start_rasa,
    wait_until_ready,
)
from bot.storage.migrate import upgrade

TURNS_PER_CONVERSATION = 4


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


@dataclass
class Served:
    url: str
    hotline_token: str
    rasa: Server
    actions: Server
    start_seconds: float

    def peak_rss_mb(self) -> Dict[str, float]:
        return {"rasa_server": self.rasa.peak_rss_mib(), "action_server": self.actions.peak_rss_mib()}


def _analyze(session: requests.Session, served: Served, text: str) -> requests.Response:
    return session.post(
        f"{served.url}/webhooks/hotline/analyze", json={"text": text},
        headers={"Authorization": f"Bearer {served.hotline_token}"}, timeout=60,
    )


@contextmanager
def serve(model: Path, log: Path) -> Iterator[Served]:
    """The model behind the action server and `rasa run` as `make run` starts them, stopped on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="antifraud-bench-"))
    tokens = new_tokens()
    case_url = sqlite_url(workdir / "cases.db")
    upgrade(case_url)
    action_port = free_port()
    env = {
        **base_environment(action_port, case_url, tokens),
        "TRACKER_DB_DIALECT": "sqlite",
        "TRACKER_DB_HOST": "",
        "TRACKER_DB": str(workdir / "tracker.db"),
    }
    with log.open("ab") as out:
        actions = start_action_server(env, out, action_port)
        wait_until_ready([actions], tokens["api"], log)
        started = time.perf_counter()
        rasa = start_rasa(env, out, "endpoints.yml", tokens["api"], model=model)
        served = Served(rasa.url, tokens["hotline"], rasa, actions, 0.0)
        try:
            session = requests.Session()
            while True:
                if not rasa.alive():
                    raise RuntimeError(f"rasa run exited while starting; see {log}")
                if time.perf_counter() - started > START_TIMEOUT_S:
                    raise RuntimeError(f"{model} did not answer within {START_TIMEOUT_S} s; see {log}")
                try:
                    if _analyze(session, served, "ping").status_code == 200:
                        break
                except requests.RequestException:
                    pass
                time.sleep(0.2)
            served.start_seconds = round(time.perf_counter() - started, 1)
            yield served
        finally:
            rasa.stop()
            actions.stop()
            shutil.rmtree(workdir, ignore_errors=True)


def _load(served: Served, clients: int, calls: List[Any], send: Any) -> Dict[str, Any]:
    """Runs the calls on `clients` threads; latency in ms, CPU ms per request of each process."""
    local = threading.local()
    errors = 0
    lock = threading.Lock()

    def one(call: Any) -> float:
        nonlocal errors
        if not hasattr(local, "session"):
            local.session = requests.Session()
        began = time.perf_counter()
        try:
            ok = send(local.session, call).status_code == 200
        except requests.RequestException:
            ok = False
        if not ok:
            with lock:
                errors += 1
        return (time.perf_counter() - began) * 1000

    cpu_before = served.rasa.cpu_seconds(), served.actions.cpu_seconds()
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(one, calls))
    elapsed = time.perf_counter() - began
    cpu_after = served.rasa.cpu_seconds(), served.actions.cpu_seconds()
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p95_ms": round(percentile(latencies, 0.95), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "rasa_cpu_ms_per_request": round((cpu_after[0] - cpu_before[0]) * 1000 / len(latencies), 1),
        "actions_cpu_ms_per_request": round((cpu_after[1] - cpu_before[1]) * 1000 / len(latencies), 1),
        "latencies_ms": [round(value, 2) for value in latencies],
    }


def analyze_load(served: Served, texts: Sequence[str], clients: int, requests_total: int) -> Dict[str, Any]:
    calls = [texts[i % len(texts)] for i in range(requests_total)]
    return _load(served, clients, calls, lambda session, text: _analyze(session, served, text))


def chat_load(served: Served, texts: Sequence[str], clients: int, requests_total: int, run_id: str) -> Dict[str, Any]:
    """REST chat turns; every few turns start a new conversation, so warnings, forms and actions all run.

    One client sends each conversation's turns in order: turns of one conversation must not race.
    """
    conversations = [
        [(f"bench-{run_id}-{c}", texts[(c * TURNS_PER_CONVERSATION + t) % len(texts)])
         for t in range(TURNS_PER_CONVERSATION)]
        for c in range(max(1, requests_total // TURNS_PER_CONVERSATION))
    ]
    latencies_by_turn: List[float] = []

    def send(session: requests.Session, conversation: List[Any]) -> requests.Response:
        response = None
        for sender, text in conversation:
            began = time.perf_counter()
            response = session.post(
                f"{served.url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=60
            )
            latencies_by_turn.append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                break  # counted once as an error by _load; the rest of this conversation is skipped
        assert response is not None
        return response

    result = _load(served, clients, conversations, send)
    turns = len(latencies_by_turn)
    # Per turn, not per conversation: latency, rate and CPU of one chat message.
    scale = result["requests"] / turns
    result.update(
        requests=turns,
        p50_ms=round(percentile(latencies_by_turn, 0.50), 1),
        p95_ms=round(percentile(latencies_by_turn, 0.95), 1),
        p99_ms=round(percentile(latencies_by_turn, 0.99), 1),
        requests_per_s=round(result["requests_per_s"] / scale, 1),
        rasa_cpu_ms_per_request=round(result["rasa_cpu_ms_per_request"] * scale, 1),
        actions_cpu_ms_per_request=round(result["actions_cpu_ms_per_request"] * scale, 1),
        latencies_ms=[round(value, 2) for value in latencies_by_turn],
    )
    return result
