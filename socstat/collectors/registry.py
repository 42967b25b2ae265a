"""Collectors by platform: services ask for "vk" and never import a platform package.

A platform registers a factory (usually its collector class); the built-in ones are named
by import path, so the registry does not import them until a collector is wanted. A factory
with daily call limits describes them with `daily_quotas` ({method: calls per token and
day}) and `quota_day(now=None)` (the day they count in), as VKCollector does.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import date
from typing import Any

from socstat.collectors.base import Collector
from socstat.settings import Settings

CollectorFactory = Callable[..., Collector]

_BUILT_IN: dict[str, str] = {"vk": "socstat.collectors.vk.collector:VKCollector"}
_registered: dict[str, CollectorFactory] = {}


def register_collector(platform: str, factory: CollectorFactory) -> None:
    """Register `factory(settings=..., tokens=[...], **options)` for `platform`."""
    _registered[platform] = factory


def platforms() -> list[str]:
    return sorted({*_BUILT_IN, *_registered})


def collector_factory(platform: str) -> CollectorFactory:
    if platform in _registered:
        return _registered[platform]
    path = _BUILT_IN.get(platform)
    if path is None:
        raise LookupError(f"нет сборщика для платформы «{platform}»")
    module, _, name = path.partition(":")
    factory: CollectorFactory = getattr(importlib.import_module(module), name)
    return factory


def create_collector(
    platform: str, *, settings: Settings, tokens: list[str], **options: Any
) -> Collector:
    """A collector of `platform` using `tokens` ("kind:token" items)."""
    return collector_factory(platform)(settings=settings, tokens=tokens, **options)


def daily_quotas(platform: str) -> tuple[date | None, dict[str, int]]:
    """The platform's current quota day and its daily limits per method (none: None, {})."""
    factory = collector_factory(platform)
    quota_day = getattr(factory, "quota_day", None)
    if quota_day is None:
        return None, {}
    return quota_day(), dict(getattr(factory, "daily_quotas", {}))
