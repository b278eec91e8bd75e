"""What bot/server.py adds to Rasa's serve_application (the API switches are tested live in test_access.py)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any, Dict

import pytest
import rasa.core.run

from bot.server import freeze_what_start_up_loaded, serve_with_api_from_environment


def test_the_server_freezes_what_start_up_loaded_once_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    received: Dict[str, Any] = {}
    monkeypatch.setattr(rasa.core.run, "serve_application", lambda *args, **kwargs: received.update(kwargs))
    serve_with_api_from_environment(None)
    rasa.core.run.serve_application(model_path="models/x.tar.gz")
    assert received["server_listeners"] == [(freeze_what_start_up_loaded, "after_server_start")]
    assert received["enable_api"] is False and received["auth_token"] is None


def test_freezing_moves_the_loaded_objects_out_of_the_collector() -> None:
    loaded = [{"weight": i} for i in range(10_000)]  # stands for the model's objects
    gc.unfreeze()
    try:
        asyncio.run(freeze_what_start_up_loaded(None, None))
        assert gc.get_freeze_count() >= len(loaded)
    finally:
        gc.unfreeze()
