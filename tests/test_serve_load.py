"""Load on the server: 8 concurrent clients against the same requests sent one at a time (bounded, loopback),
through LibreTranslate's /translate and DeepL's /v2/translate.

The test checks behaviour: every request answered, and concurrent requests decoded together as
parallel sequences. The throughput ratio (a timing, noisy on shared machines) is measured side by side
by ``benchmarks/serve_load.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tg_edge.bench.serve_load import LoadResult, compare, make_requests
from tg_edge.server import ServerSettings

from .servers import running_server

pytestmark = pytest.mark.integration

CLIENTS = 8
PER_CLIENT = 1


@pytest.fixture(scope="module", params=["libretranslate", "deepl"])
def load(translator: object, request: pytest.FixtureRequest) -> Iterator[tuple[LoadResult, LoadResult, int]]:
    api = request.param
    scheduler = translator._scheduler
    with running_server(translator, ServerSettings(workers=CLIENTS, max_queue=4 * CLIENTS)) as (url, _):
        scheduler.peak_active = 0
        sequential, concurrent = compare(
            url,
            make_requests(CLIENTS * PER_CLIENT, api=api),
            clients=CLIENTS,
            request_timeout=180,
            deadline_s=240,
            api=api,
        )
        yield sequential, concurrent, scheduler.peak_active


def test_concurrent_clients_all_get_answers(load: tuple[LoadResult, LoadResult, int]) -> None:
    sequential, concurrent, _ = load
    for phase in (sequential, concurrent):
        assert phase.errors == [] and phase.unsent == 0 and phase.ok == CLIENTS * PER_CLIENT


def test_concurrent_requests_are_decoded_together(load: tuple[LoadResult, LoadResult, int]) -> None:
    """Not one request at a time behind a lock: the clients' sentences shared decode steps."""
    _, _, peak_active = load
    assert peak_active >= CLIENTS // 2
