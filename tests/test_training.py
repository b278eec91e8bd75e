"""Training entry point: the cache fingerprints are skipped only where Rasa's training cache is off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_uncached_training_refuses_to_run_with_the_cache_on() -> None:
    env = {key: value for key, value in os.environ.items() if key != "RASA_MAX_CACHE_SIZE"}
    done = subprocess.run([sys.executable, "-m", "bench.uncached_train", "--config", "config.yml"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "RASA_MAX_CACHE_SIZE=0" in done.stderr

