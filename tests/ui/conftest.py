"""UI-test fixtures: the VK sandbox and the real VK collector of tests/services/conftest.py."""

from __future__ import annotations

from tests.services.conftest import (  # noqa: F401 - fixtures, shared
    shared_vk_sandbox,
    vk_collector,
    vk_sandbox,
)
