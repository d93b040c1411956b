"""``tg-edge serve``: the translator page and the LibreTranslate- and DeepL-compatible HTTP APIs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..cli_params import load_options, verbose_option
from ..errors import TgEdgeError

if TYPE_CHECKING:
    from ..load_options import LoadOptions


@click.command()
@verbose_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback by default; 0.0.0.0 exposes the service to the network).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="Port to listen on (0: any free port, printed at start).",
)
@click.option(
    "api_keys",
    "--api-keys",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Require one of the API keys in this file (one a line) on every translation request.",
)
@click.option(
    "char_limit",
    "--char-limit",
    type=click.IntRange(min=-1),
    default=10_000,
    show_default=True,
    help="Most characters one request may translate (-1: no limit).",
)
@click.option(
    "batch_limit",
    "--batch-limit",
    type=click.IntRange(min=-1),
    default=128,
    show_default=True,
    help="Most texts in one request's q array (-1: no limit).",
)
@click.option(
    "max_queue",
    "--max-queue",
    type=click.IntRange(min=1),
    default=64,
    show_default=True,
    help="Requests translating or waiting at once; more get HTTP 429.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Requests handed to the model at once (their segments are decoded together).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=120.0,
    show_default=True,
    help="Seconds a request may wait and translate before it fails.",
)
@click.option(
    "max_body",
    "--max-body-mb",
    type=click.FloatRange(min=0, min_open=True),
    default=16.0,
    show_default=True,
    help="Largest request body in MiB (files included); larger gets HTTP 413.",
)
@click.option(
    "segment_limit",
    "--segment-limit",
    type=click.IntRange(min=-1),
    default=2_000,
    show_default=True,
    help="Most segments one file request may hold (-1: no limit).",
)
@click.option(
    "cors_origins",
    "--cors-origin",
    multiple=True,
    help="Web origin whose pages may call the API from a browser, beyond this machine's own pages "
    "and apps/extensions (e.g. https://app.example.org, https://*.example.org); repeatable; "
    "'*' allows every web page.",
)
@click.option(
    "allowed_hosts",
    "--allow-host",
    multiple=True,
    help="Host name clients may address the server by, beyond localhost and --host (e.g. a LAN name); "
    "repeatable; '*' allows every name (no DNS-rebinding defence).",
)
@click.option(
    "data_dir",
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where translated files wait for download, kept across restarts [default: TG_EDGE_HOME/server].",
)
@click.option("open_", "--open", is_flag=True, help="Open the translator page in the default web browser.")
@load_options()
def serve(
    host: str,
    port: int,
    api_keys: Path | None,
    char_limit: int,
    batch_limit: int,
    max_queue: int,
    workers: int,
    timeout: float,
    max_body: float,
    segment_limit: int,
    cors_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    data_dir: Path | None,
    open_: bool,
    load: LoadOptions,
) -> None:
    """Serve a translator page and LibreTranslate- and DeepL-compatible HTTP APIs (needs the server extra).

    GET / is a translator page for the browser (text as you type, files with progress, the sentences the
    guards flagged marked), served from the package: it works offline.

    POST /translate, /detect, /translate_file and /translate_image (the text in an image, with a
    TranslateGemma model and its vision projector), GET /languages and /health, with LibreTranslate's
    field names, status codes and errors, so its clients and plugins work unchanged; DeepL's API v2
    (/v2/translate, /v2/languages, /v2/usage) for apps that take a DeepL server URL. The API
    description is at /docs. Web pages may call it only from this machine (localhost) or from apps and
    browser extensions unless --cors-origin allows more. Stop with Ctrl-C or SIGTERM: queued requests
    get 503 and running ones stop at once.
    """
    from importlib.util import find_spec

    missing = [name for name in ("fastapi", "uvicorn", "multipart") if find_spec(name) is None]
    if missing:
        raise TgEdgeError(f"tg-edge serve needs {', '.join(missing)}: pip install 'tg-edge[server]'")
    from ..models.home import home_dir
    from ..server import ServerSettings, listen, load_api_keys
    from ..server import serve as run_server

    settings = ServerSettings(
        char_limit=char_limit,
        batch_limit=batch_limit,
        segment_limit=segment_limit,
        max_queue=max_queue,
        workers=workers,
        timeout=timeout,
        max_body_bytes=int(max_body * (1 << 20)),
        api_key_digests=load_api_keys(api_keys) if api_keys is not None else frozenset(),
        cors_origins=tuple(origin for origin in cors_origins if origin),
        host=host,
        allowed_hosts=tuple(name for name in allowed_hosts if name),
        data_dir=data_dir if data_dir is not None else home_dir() / "server",
    )
    # The port before the model: a taken port fails at once, and clients wait in the backlog while it loads.
    with (
        listen(host, port) as sock,
        load.load() as translator,
    ):

        def ready(url: str) -> None:
            keys = f", {len(settings.api_key_digests)} API keys" if settings.api_key_digests else ""
            click.echo(
                f"tg-edge serving {translator.model_path.name} on {url} (page: {url}/, docs: {url}/docs{keys}); "
                "Ctrl-C stops",
                err=True,
            )
            if open_:
                import webbrowser

                webbrowser.open(
                    url.replace("://0.0.0.0:", "://127.0.0.1:").replace("://[::]:", "://[::1]:") + "/"
                )

        try:
            run_server(translator, settings, sock=sock, ready=ready)
        except KeyboardInterrupt:  # uvicorn shut down gracefully, then passed Ctrl-C on
            click.echo("tg-edge serve stopped", err=True)
