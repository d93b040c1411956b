"""Load on a running tg-edge server: the same translation requests sent one at a time, then by many clients.

Used by ``benchmarks/serve_load.py`` and the server's load tests. Requests go over loopback HTTP with
one keep-alive connection per client; every request and the whole run are bounded in time. ``api``
picks the route: LibreTranslate's ``/translate`` or DeepL's ``/v2/translate``.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

SENTENCES = (
    "Where is the train station?",
    "The weather is nice today.",
    "I would like a cup of coffee.",
    "My sister lives in a small village.",
    "The museum opens at nine o'clock.",
    "We are going to the beach tomorrow.",
    "How much does this book cost?",
    "The children are playing in the garden.",
    "Please close the window.",
    "He works at the hospital.",
    "The shop is closed on Sundays.",
    "I have two brothers and a sister.",
    "The soup is too hot.",
    "Can you help me, please?",
    "The bus is late again.",
    "She likes to read in the evening.",
    "Our house has a red door.",
    "The dog sleeps under the table.",
    "I need a new pair of shoes.",
    "The meeting starts in ten minutes.",
    "They bought fresh bread at the market.",
    "The river is very long.",
    "My phone is on the desk.",
    "We eat dinner at seven.",
    "The teacher writes on the board.",
)


APIS = {"libretranslate": ("/translate", "translatedText"), "deepl": ("/v2/translate", "translations")}
"""Each API's translation path and the key a successful answer carries."""


def make_requests(
    count: int, *, source: str = "en", target: str = "de", api: str = "libretranslate"
) -> list[dict[str, Any]]:
    """``count`` single-sentence translation requests for ``api``, cycling through :data:`SENTENCES`."""
    sentences = [SENTENCES[i % len(SENTENCES)] for i in range(count)]
    if api == "deepl":
        return [
            {"text": [s], "source_lang": source.upper(), "target_lang": target.upper()} for s in sentences
        ]
    return [{"q": s, "source": source, "target": target} for s in sentences]


@dataclass
class LoadResult:
    """What one phase of the load did."""

    clients: int
    sent: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unsent: int = 0

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        """Successful requests per second over the phase's wall time."""
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def as_json(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "sent": self.sent,
            "ok": self.ok,
            "errors": len(self.errors),
            "unsent": self.unsent,
            "seconds": round(self.seconds, 3),
            "requests_per_s": round(self.throughput, 3),
            "latency_p50_s": round(self.percentile(0.5), 3),
            "latency_p95_s": round(self.percentile(0.95), 3),
            "latency_mean_s": round(statistics.fmean(self.latencies), 3) if self.latencies else None,
        }


def run_load(
    url: str,
    requests: list[dict[str, Any]],
    *,
    clients: int,
    request_timeout: float = 120.0,
    deadline_s: float = 600.0,
    api: str = "libretranslate",
) -> LoadResult:
    """Send ``requests`` to ``api``'s path on ``url`` from ``clients`` threads (request i goes to client i % clients).

    A client stops taking new requests once ``deadline_s`` has passed; those count as unsent.
    """
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        raise ValueError(f"{url!r} names no host")
    path, answer_key = APIS[api]
    result = LoadResult(clients=clients, sent=0, seconds=0.0)
    lock = threading.Lock()
    started = time.perf_counter()

    def client(mine: list[dict[str, Any]]) -> None:
        connection = http.client.HTTPConnection(host, parts.port, timeout=request_timeout)
        try:
            for index, payload in enumerate(mine):
                if time.perf_counter() - started > deadline_s:
                    with lock:
                        result.unsent += len(mine) - index
                    return
                body = json.dumps(payload).encode()
                sent_at = time.perf_counter()
                try:
                    connection.request("POST", path, body, {"Content-Type": "application/json"})
                    response = connection.getresponse()
                    data = response.read()
                    error = (
                        None
                        if response.status == 200 and answer_key in json.loads(data)
                        else f"HTTP {response.status}: {data[:200]!r}"
                    )
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    connection.close()
                    connection = http.client.HTTPConnection(host, parts.port, timeout=request_timeout)
                with lock:
                    result.sent += 1
                    if error is None:
                        result.latencies.append(time.perf_counter() - sent_at)
                    else:
                        result.errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(requests[i::clients],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - started
    return result


def compare(
    url: str,
    requests: list[dict[str, Any]],
    *,
    clients: int,
    request_timeout: float = 120.0,
    deadline_s: float = 600.0,
    api: str = "libretranslate",
) -> tuple[LoadResult, LoadResult]:
    """The same requests one at a time and from ``clients`` concurrent clients.

    A warm-up round (``clients`` requests at once, not counted) brings the model's pages into memory.
    Then the two phases alternate in rounds of ``clients`` requests, each round in the opposite order
    to the one before, so a machine whose load drifts during the run slows both alike.
    """
    run_load(url, requests[:clients], clients=clients, request_timeout=request_timeout, api=api)
    sequential = LoadResult(clients=1, sent=0, seconds=0.0)
    concurrent = LoadResult(clients=clients, sent=0, seconds=0.0)
    started = time.perf_counter()
    for round_index, first in enumerate(range(0, len(requests), clients)):
        batch = requests[first : first + clients]
        phases = [(sequential, 1), (concurrent, clients)]
        for total, n_clients in phases if round_index % 2 == 0 else phases[::-1]:
            left = max(0.0, deadline_s - (time.perf_counter() - started))
            phase = run_load(
                url, batch, clients=n_clients, request_timeout=request_timeout, deadline_s=left, api=api
            )
            total.sent += phase.sent
            total.seconds += phase.seconds
            total.latencies += phase.latencies
            total.errors += phase.errors
            total.unsent += phase.unsent
    return sequential, concurrent
