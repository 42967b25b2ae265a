"""Sources: the communities users track, one module per use case.

- ``access``: who may read and act on which sources and subscriptions;
- ``resolve``: asking the platform about pasted links (no database session held);
- ``subscribe``: subscribing to resolved communities and unsubscribing (audited);
- ``listing``: one source, the plain list, and the list page's cards (numbers, search,
  filters, sort, own/team groups);
- ``tags``: a user's tags on their subscriptions (audited);
- ``first_collection``: collecting newly added sources right away (a background task);
- ``refresh``: the bookkeeping of «Обновить сейчас» runs.

Every call takes the acting user and checks authorization; results are dataclasses.
``first_collection`` and ``refresh`` depend on the collection package (which depends on
``access``), so they are imported from their modules, not from here.
"""

from socstat.services.sources.access import (
    check_can_subscribe,
    manageable_source_ids,
    own_source_ids,
    visible_source_ids,
)
from socstat.services.sources.listing import SourceRow, get_source, list_sources
from socstat.services.sources.resolve import ResolvedLink, resolve_links
from socstat.services.sources.subscribe import (
    AddOutcome,
    AddResult,
    apply_info,
    remove_subscription,
    subscribe,
)

__all__ = [
    "AddOutcome",
    "AddResult",
    "ResolvedLink",
    "SourceRow",
    "apply_info",
    "check_can_subscribe",
    "get_source",
    "list_sources",
    "manageable_source_ids",
    "own_source_ids",
    "remove_subscription",
    "resolve_links",
    "subscribe",
    "visible_source_ids",
]
