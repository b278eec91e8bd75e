"""Train a Rasa model and record how long it took, beside the model.

    python -m bench.train --config config.yml --out models --name assistant

writes models/assistant.tar.gz and models/assistant.train.json (seconds, date,
machine, and a fingerprint of the training inputs), so the benchmark can report
training time measured on this machine and tell when a model is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent
TRAINING_INPUTS = ("domain.yml", "data", "bot/nlu", "bot/resources")


def fingerprint(config: Path) -> str:
    """Hash of the config and every training input, to tell when a model is stale."""
    digest = hashlib.sha256(config.read_bytes())
    for name in TRAINING_INPUTS:
        path = ROOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix != ".pyc") if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def machine() -> Dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def record_path(model: Path) -> Path:
    return model.with_name(model.name.replace(".tar.gz", ".train.json"))


def read_record(model: Path) -> Optional[Dict[str, Any]]:
    path = record_path(model)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def is_fresh(model: Path, config: Path) -> bool:
    record = read_record(model)
    return model.exists() and record is not None and record.get("fingerprint") == fingerprint(config)


def train(config: Path, out: Path, name: str, extra_args: Optional[List[str]] = None) -> Dict[str, Any]:
    """Run `rasa train` and write the record; raises when training fails."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # Rasa's training cache would reuse unchanged components and shorten the time we report; with it off,
    # bench.uncached_train also skips the fingerprints only the cache reads (most of the time otherwise).
    subprocess.run(
        [sys.executable, "-m", "bench.uncached_train", "--config", str(config), "--out", str(out),
         "--fixed-model-name", name, *(extra_args or [])],
        check=True, cwd=ROOT, env={**os.environ, "RASA_MAX_CACHE_SIZE": "0"},
    )
    record = {
        "config": str(config),
        "seconds": round(time.perf_counter() - started, 1),
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        # Other jobs on the machine lengthen training: the 1/5/15-minute load averages at the end say how much.
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "fingerprint": fingerprint(config),
        "machine": machine(),
    }
    record_path(out / f"{name}.tar.gz").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=Path("config.yml"))
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument("--name", default="assistant")
    args = parser.parse_args()
    record = train(args.config, args.out, args.name)
    print(f"trained {args.out / args.name}.tar.gz in {record['seconds']:.0f} s")


if __name__ == "__main__":
    main()
