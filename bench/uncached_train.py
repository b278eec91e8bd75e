"""`rasa train` with Rasa's training cache off, and without the fingerprints only that cache reads.

    RASA_MAX_CACHE_SIZE=0 python -m bench.uncached_train --config config.yml --out models ...

We train with the cache off (`bench.train`: a reported training time is a whole training). Rasa still
fingerprints every node's output for the cache: after each featurizer it hashes every message again,
its tokens and all its features, the sparse ones printed to text first. On 17,000 examples that took
about 2 minutes per node, over half of a 24-minute training (py-spy, 3 December; docs/measurements.md).
With the cache off nothing reads those fingerprints, so this skips them; the model is the same.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Dict

from rasa.engine.training.hooks import TrainingHook


def no_fingerprint_key(hook: TrainingHook, *args: Any, **kwargs: Any) -> Dict[str, Any]:
    return {}


def nothing_to_cache(hook: TrainingHook, *args: Any, **kwargs: Any) -> None:
    return None


def main() -> None:
    if os.environ.get("RASA_MAX_CACHE_SIZE") != "0":
        sys.exit("bench.uncached_train runs only with Rasa's training cache off: set RASA_MAX_CACHE_SIZE=0.")
    TrainingHook.on_before_node = no_fingerprint_key
    TrainingHook.on_after_node = nothing_to_cache
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", "train", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
