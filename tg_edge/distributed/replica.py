"""The Ray actor of a dataset job: one Translator, loaded once on its node, translating block after block.

Ray Data builds one instance per actor and calls it with batches of one row each; a row is one
block (its index, first record, record count and payload). The answer is one row: the shard's bytes
and what the driver's report needs. A bad record (without ``skip_bad``) comes back as an ``error``
rather than an exception, so the driver stops with tg-edge's own message and no Ray traceback.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from ..documents import OutcomeCache
from ..errors import ModelError, TgEdgeError
from ..load_options import LoadOptions
from .datasets import Block, JsonlDataset, ParquetDataset, Settings, flags_json

log = logging.getLogger("tg_edge.distributed")


class TranslatorReplica:
    """One Translator on one node, loaded as ``load`` says; its model is a path, a catalog name or hub repository
    (pulled into this node's HF cache when it is not there yet), or ``None`` for ``TG_EDGE_MODEL`` or the demo
    model."""

    def __init__(
        self,
        load: LoadOptions,
        settings: Settings,
        dataset: JsonlDataset | ParquetDataset,
        cache_size: int = 200_000,
    ) -> None:
        self.settings = settings
        self.dataset = dataset
        self.translator = load.load(model_on_this_node(load.model))
        self.cache = OutcomeCache(cache_size)
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, batch):
        import pyarrow as pa

        rows = batch.to_pylist()
        out = []
        for row in rows:
            block = Block(row["block"], row["first"], row["count"], (0, 0))
            try:
                result = self.dataset.translate(
                    self.translator, block, row["payload"], self.settings, self.cache
                )
            except TgEdgeError as exc:
                out.append(_row(block.index, b"", 0, 0, 0, "[]", [], self.name, str(exc), type(exc).__name__))
                continue
            out.append(
                _row(
                    block.index,
                    result.payload,
                    result.records,
                    result.segments,
                    result.translated,
                    flags_json(result.flags),
                    result.skipped,
                    self.name,
                    None,
                    None,
                )
            )
        return pa.Table.from_pylist(out, schema=result_schema())


def model_on_this_node(model: str | None) -> Path:
    """The model's file on this node: a path or a name already here, else a catalog name or repository pulled."""
    from ..models import pull_model, resolve_model

    try:
        return resolve_model(model)
    except ModelError:
        if model is None or os.sep in model or model.endswith(".gguf"):
            raise
        log.info("pulling %s onto this node", model)
        return pull_model(model).path


def result_schema():
    import pyarrow as pa

    return pa.schema(
        [
            ("block", pa.int64()),
            ("payload", pa.large_binary()),
            ("records", pa.int64()),
            ("segments", pa.int64()),
            ("translated", pa.int64()),
            ("flags", pa.large_string()),
            ("skipped", pa.list_(pa.string())),
            ("replica", pa.string()),
            ("error", pa.string()),
            ("kind", pa.string()),
        ]
    )


def _row(
    block: int,
    payload: bytes,
    records: int,
    segments: int,
    translated: int,
    flags: str,
    skipped: list[str],
    replica: str,
    error: str | None,
    kind: str | None,
) -> dict[str, object]:
    return {
        "block": block,
        "payload": payload,
        "records": records,
        "segments": segments,
        "translated": translated,
        "flags": flags,
        "skipped": skipped,
        "replica": replica,
        "error": error,
        "kind": kind,
    }
