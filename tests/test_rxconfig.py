"""Where Reflex keeps the tabs' states: in the process's memory without Redis (not the
disk manager's pickles in .states/), in Redis when REFLEX_REDIS_URL is set."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from socstat.settings import PROJECT_ROOT

PROBE = (
    "from reflex.istate.manager import StateManager; print(type(StateManager.create()).__name__)"
)


@pytest.mark.parametrize(
    ("redis_url", "manager"),
    [("", "StateManagerMemory"), ("redis://127.0.0.1:6379", "StateManagerRedis")],
)
def test_state_manager_follows_the_redis_setting(redis_url: str, manager: str) -> None:
    env = {key: value for key, value in os.environ.items() if key != "REFLEX_REDIS_URL"}
    if redis_url:
        env["REFLEX_REDIS_URL"] = redis_url
    found = subprocess.run(  # a fresh process: Reflex reads rxconfig.py once
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert found.stdout.strip().splitlines()[-1] == manager
