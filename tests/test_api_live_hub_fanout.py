"""The live hub offers a message only to the subscribers indexed for it (grid workers by
grid and worker id, code-prefix viewers always) — and exactly those whose filter lets it
through get it, as if every subscriber had been asked; unsubscribed ones get nothing."""

from __future__ import annotations

import random

from api.grid_layer import GridLayerCache
from api.live import LiveFilter, LiveHub

GRIDS = ["150203001001001", "150203001001002", "150203001002001", "150203002001001"]
WORKERS = ["w1", "w2", "w3"]


def _filters(rng: random.Random) -> list[LiveFilter]:
    filters = [LiveFilter(everything=True), LiveFilter(), LiveFilter(code_prefix="150203001")]
    for worker in WORKERS:
        grids = frozenset(rng.sample(GRIDS, rng.randint(0, 2)))
        filters.append(LiveFilter(grid_codes=grids, worker_id=worker))
    return filters


def _messages(rng: random.Random) -> list[dict]:
    kinds = ["event", "task", "incident", "device", "grid"]
    messages = [{"kind": "resync"}]
    for n in range(200):
        message = {"kind": rng.choice(kinds), "id": n}
        if rng.random() < 0.9:
            message["grid_code"] = rng.choice(GRIDS)
        else:
            message["community_code"] = rng.choice(GRIDS)[:12]
        if rng.random() < 0.5:
            message["assignee_id"] = rng.choice([*WORKERS, None])
        messages.append(message)
    return messages


def test_hub_delivers_exactly_what_each_filter_allows() -> None:
    rng = random.Random(8)
    hub = LiveHub("postgresql://unused", GridLayerCache())
    filters = _filters(rng) * 2  # two phones of the same user: both get it
    subscriptions = [hub.subscribe(f) for f in filters]
    gone = hub.subscribe(LiveFilter(grid_codes=frozenset(GRIDS), worker_id="w1"))
    hub.unsubscribe(gone)
    messages = _messages(rng)
    for message in messages:
        hub.publish(message)
    for subscription in subscriptions:
        got = [subscription.queue.get_nowait() for _ in range(subscription.queue.qsize())]
        expected = [m for m in messages if subscription.filter.allows(m)]
        assert got == expected, subscription.filter
    assert gone.queue.empty()
    assert all(gone not in subscribers for subscribers in hub._by_grid.values())
