"""Throughput of `tg-edge serve` under concurrent clients, next to the same requests sent one at a time.

    python benchmarks/serve_load.py                       # the demo model, 8 clients x 25 requests
    python benchmarks/serve_load.py --clients 8 --requests 4 --threads 2 --json serve-load.json
    python benchmarks/serve_load.py --url http://127.0.0.1:5000   # a server that is already running
    python benchmarks/serve_load.py --api deepl           # the same load through DeepL's /v2/translate

Starts `tg-edge serve` on a free loopback port (unless --url is given), sends a warm-up round, then
the same single-sentence /translate (--api deepl: /v2/translate) requests one at a time and from
--clients threads, alternating in rounds of --clients requests (so drifting machine load slows both
alike), and prints both side by side with the ratio of their throughputs. Needs the server extra.
"""

from __future__ import annotations

import json
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import click

from tg_edge.bench.serve_load import APIS, compare, make_requests


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("model", "-m", "--model", help="GGUF file or model name [default: the demo model].")
@click.option("--url", help="Load this running server instead of starting one.")
@click.option(
    "--clients", type=click.IntRange(min=1), default=8, show_default=True, help="Concurrent clients."
)
@click.option(
    "--requests",
    "per_client",
    type=click.IntRange(min=1),
    default=25,
    show_default=True,
    help="Requests per client (the sequential phase sends all of them one at a time).",
)
@click.option("--threads", type=click.IntRange(min=1), help="CPU threads of the server [default: all].")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="The server's --workers (requests handed to the model at once).",
)
@click.option("--target", default="de", show_default=True, help="Target language.")
@click.option(
    "--api",
    type=click.Choice(sorted(APIS)),
    default="libretranslate",
    show_default=True,
    help="The route the requests take: LibreTranslate's /translate or DeepL's /v2/translate.",
)
@click.option(
    "request_timeout",
    "--request-timeout",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds one request may take.",
)
@click.option(
    "deadline",
    "--deadline",
    type=float,
    default=900.0,
    show_default=True,
    help="Seconds each phase may run; requests not sent by then are counted as unsent.",
)
@click.option(
    "json_path", "--json", type=click.Path(dir_okay=False, path_type=Path), help="Also write JSON here."
)
def main(
    model: str | None,
    url: str | None,
    clients: int,
    per_client: int,
    threads: int | None,
    workers: int,
    target: str,
    api: str,
    request_timeout: float,
    deadline: float,
    json_path: Path | None,
) -> None:
    requests = make_requests(clients * per_client, target=target, api=api)
    server = None
    if url is None:
        server, url = _start_server(model, threads, workers)
    try:
        started = time.perf_counter()
        sequential, concurrent = compare(
            url, requests, clients=clients, request_timeout=request_timeout, deadline_s=deadline, api=api
        )
        total = time.perf_counter() - started
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=120)
    ratio = concurrent.throughput / sequential.throughput if sequential.throughput else float("nan")
    rows = [("", "one at a time", f"{clients} clients")]
    for label, key in (
        ("requests ok", "ok"),
        ("errors", "errors"),
        ("unsent", "unsent"),
        ("wall time s", "seconds"),
        ("requests/s", "requests_per_s"),
        ("latency p50 s", "latency_p50_s"),
        ("latency p95 s", "latency_p95_s"),
    ):
        rows.append((label, str(sequential.as_json()[key]), str(concurrent.as_json()[key])))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        click.echo(f"{row[0]:<{width[0]}}  {row[1]:>{width[1]}}  {row[2]:>{width[2]}}")
    click.echo(f"throughput ratio (concurrent / sequential, {api}): {ratio:.2f}x   (total {total:.0f} s)")
    for error in (sequential.errors + concurrent.errors)[:5]:
        click.echo(f"error: {error}", err=True)
    if json_path is not None:
        json_path.write_text(
            json.dumps(
                {
                    "sequential": sequential.as_json(),
                    "concurrent": concurrent.as_json(),
                    "ratio": round(ratio, 3),
                    "api": api,
                    "clients": clients,
                    "requests_per_client": per_client,
                    "workers": workers,
                    "threads": threads,
                    "model": model or "demo",
                    "machine": platform.platform(),
                    "processor": platform.processor(),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    if sequential.errors or concurrent.errors:
        sys.exit(1)


def _start_server(
    model: str | None, threads: int | None, workers: int
) -> tuple[subprocess.Popen[bytes], str]:
    command = [
        sys.executable,
        "-m",
        "tg_edge",
        "serve",
        "--port",
        "0",
        "--workers",
        str(workers),
        "--max-queue",
        str(max(64, workers * 8)),
    ]
    command += ["--model", model] if model else []
    command += ["--threads", str(threads)] if threads else []
    server = subprocess.Popen(command, stderr=subprocess.PIPE)
    line = server.stderr.readline().decode()  # type: ignore[union-attr]
    match = re.search(r" on (http://\S+) ", line)
    if not match:
        server.kill()
        raise click.ClickException(
            f"the server did not start: {line.strip() or server.stderr.read().decode()}"
        )  # type: ignore[union-attr]
    # keep reading the server's log so a full pipe never blocks it
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()  # type: ignore[union-attr]
    return server, match.group(1)


if __name__ == "__main__":
    main()
