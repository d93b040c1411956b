"""Large keyless bodies against a server that needs keys (issue 31, item 1): how long ``GET /health`` from
another client waits while four such bodies arrive at once. No model is loaded: every request is refused.

    python benchmarks/big_bodies.py      # from the repository root
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request

SERVER = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, ".")
    from tests.servers import running_server
    from tests.test_server_fast import Unreachable
    from tg_edge.server import ServerSettings
    from tg_edge.server.settings import key_digest
    settings = ServerSettings(api_key_digests=frozenset({key_digest("k")}))
    with running_server(Unreachable(), settings) as (url, _):
        print(url, flush=True)
        time.sleep(600)
    """
)


def post(url: str, body: bytes, content_type: str) -> None:
    request = urllib.request.Request(f"{url}/translate", data=body, headers={"Content-Type": content_type})
    with contextlib.suppress(OSError):  # the refusal is an HTTP error
        urllib.request.urlopen(request, timeout=120).read()


def main() -> None:
    proc = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, cwd=os.getcwd())
    url = proc.stdout.readline().decode().strip()  # type: ignore[union-attr]
    bodies = {
        "form, 2.2 M fields": (b"&".join([b"a=1"] * 2_200_000), "application/x-www-form-urlencoded"),
        "JSON, 900 k strings": (
            json.dumps({"q": ["x" * 10] * 900_000, "source": "en", "target": "de"}).encode(),
            "application/json",
        ),
    }
    try:
        for name, (body, content_type) in bodies.items():
            senders = [threading.Thread(target=post, args=(url, body, content_type)) for _ in range(4)]
            for sender in senders:
                sender.start()
            worst = 0.0
            while any(sender.is_alive() for sender in senders):
                started = time.monotonic()
                urllib.request.urlopen(f"{url}/health", timeout=120).read()
                worst = max(worst, time.monotonic() - started)
                time.sleep(0.01)
            print(f"{name} ({len(body) / 1e6:.1f} MB) x4, no key: slowest /health {worst:.3f} s")
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
