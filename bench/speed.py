"""Speed and cost of one trained model served the way `make run` serves it.

Starts the action server and `rasa run` on free ports of 127.0.0.1 with a
throwaway SQLite tracker store and case database, then measures start time,
latency of the hotline analyze endpoint and of REST chat turns at several
client counts, CPU time per message and peak resident memory (VmHWM) of each
process.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Sequence

import requests

from bot.storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 300
TURNS_PER_CONVERSATION = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _proc_status(pid: int, field: str) -> int:
    """A kB field of /proc/<pid>/status, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime and stime are fields 14 and 15 of stat; the split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Served:
    url: str
    hotline_token: str
    rasa_pid: int
    actions_pid: int
    start_seconds: float

    def peak_rss_mb(self) -> Dict[str, float]:
        return {
            "rasa_server": round(_proc_status(self.rasa_pid, "VmHWM") / 2**20, 1),
            "action_server": round(_proc_status(self.actions_pid, "VmHWM") / 2**20, 1),
        }


def _analyze(session: requests.Session, served: Served, text: str) -> requests.Response:
    return session.post(
        f"{served.url}/webhooks/hotline/analyze", json={"text": text},
        headers={"Authorization": f"Bearer {served.hotline_token}"}, timeout=60,
    )


@contextmanager
def serve(model: Path, log: Path) -> Iterator[Served]:
    """The model behind the action server and `rasa run`, both stopped on exit."""
    workdir = Path(tempfile.mkdtemp(prefix="antifraud-bench-"))
    rasa_port, action_port = free_port(), free_port()
    hotline_token = secrets.token_urlsafe(16)
    case_url = f"sqlite:///{workdir / 'cases.db'}"
    upgrade(case_url)
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONPATH": str(ROOT),
        "ANTIFRAUD_ENV": "test",
        "HOTLINE_TOKEN": hotline_token,
        "INTEGRATION_TOKEN": secrets.token_urlsafe(16),
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
        "TRACKER_DB_DIALECT": "sqlite",
        "TRACKER_DB_HOST": "",
        "TRACKER_DB": str(workdir / "tracker.db"),
        "CASE_DB_URL": case_url,
    }
    with log.open("ab") as out:
        actions = subprocess.Popen(
            [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(action_port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        started = time.perf_counter()
        server = subprocess.Popen(
            [str(BIN / "rasa"), "run", "--model", str(model), "--interface", "127.0.0.1", "--port", str(rasa_port),
             "--credentials", "credentials.yml", "--endpoints", "endpoints.yml"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            served = Served(f"http://127.0.0.1:{rasa_port}", hotline_token, server.pid, actions.pid, 0.0)
            session = requests.Session()
            while True:
                if server.poll() is not None or actions.poll() is not None:
                    raise RuntimeError(f"a server exited while starting; see {log}")
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
            for process in (server, actions):
                process.terminate()
            for process in (server, actions):
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
            subprocess.run(["rm", "-rf", str(workdir)], check=False)


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

    cpu_before = cpu_seconds(served.rasa_pid), cpu_seconds(served.actions_pid)
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(one, calls))
    elapsed = time.perf_counter() - began
    cpu_after = cpu_seconds(served.rasa_pid), cpu_seconds(served.actions_pid)
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
