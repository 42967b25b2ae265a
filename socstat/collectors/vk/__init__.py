"""VKontakte collector: link parsing, the batching API client and the Collector itself."""

from socstat.collectors.vk.client import NoTokenError, VKApiError, VKClient
from socstat.collectors.vk.collector import VKCollector
from socstat.collectors.vk.limits import QuotaLedger, RateLimiter, TokenSpec, parse_tokens
from socstat.collectors.vk.links import ParsedLink, parse_link

__all__ = [
    "NoTokenError",
    "ParsedLink",
    "QuotaLedger",
    "RateLimiter",
    "TokenSpec",
    "VKApiError",
    "VKClient",
    "VKCollector",
    "parse_link",
    "parse_tokens",
]
