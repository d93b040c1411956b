"""The shards of a Ray dataset job: one file per finished block beside the output, and a manifest.

Each block's output is written atomically (a temporary file, fsync, rename) under its block index,
so a shard on disk is a finished block and nothing else: a resumed job skips exactly those, a block
that arrives twice (a retried task) is written once. When every block is in, the shards are joined
in block order into the output (atomically) and the directory is removed.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import TgEdgeError

SHARDS_SUFFIX = ".tg-edge-shards"
MANIFEST = "manifest.json"


class ShardStore:
    """The shard directory of one output file (``.NAME.tg-edge-shards`` beside it)."""

    def __init__(self, out: Path, *, fingerprint: str, blocks: int, suffix: str) -> None:
        self.out = out
        self.dir = out.parent / f".{out.name}{SHARDS_SUFFIX}"
        self.fingerprint = fingerprint
        self.blocks = blocks
        self.suffix = suffix
        self.done: set[int] = set()

    def open(self, *, resume: bool) -> set[int]:
        """Start the directory afresh, or with ``resume`` pick up an interrupted job's finished blocks."""
        if resume and (self.dir / MANIFEST).exists():
            manifest = self._manifest()
            if manifest.get("fingerprint") != self.fingerprint or manifest.get("blocks") != self.blocks:
                raise TgEdgeError(
                    f"cannot resume from {self.dir}: it belongs to another job (other input, "
                    "languages, fields, model or block size); run again without --resume to start over"
                )
            self.done = {index for index in map(self._index, self.dir.iterdir()) if index is not None}
            return set(self.done)
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        manifest = {
            "tg_edge_shards": 1,
            "fingerprint": self.fingerprint,
            "blocks": self.blocks,
            "suffix": self.suffix,
        }
        self._write(self.dir / MANIFEST, json.dumps(manifest).encode())
        self.done = set()
        return set()

    def put(self, index: int, payload: bytes) -> bool:
        """Write block ``index``'s shard; False (and nothing written) when it is already there."""
        if not 0 <= index < self.blocks:
            raise TgEdgeError(f"block {index} is not in this job ({self.blocks} blocks)")
        if index in self.done:
            return False
        self._write(self._path(index), payload)
        self.done.add(index)
        return True

    def missing(self) -> list[int]:
        return [index for index in range(self.blocks) if index not in self.done]

    def finish(self, assemble: Callable[[Sequence[Path], Path], None]) -> None:
        """Join every shard in block order into the output (atomically), then remove the directory."""
        missing = self.missing()
        if missing:
            raise TgEdgeError(
                f"{len(missing)} of {self.blocks} blocks have no output (first: block {missing[0]}); "
                "run again with --resume to translate them"
            )
        partial = self.dir / f"output{self.suffix}.partial"
        assemble([self._path(index) for index in range(self.blocks)], partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, self.out)
        shutil.rmtree(self.dir)

    def _path(self, index: int) -> Path:
        return self.dir / f"{index:08d}{self.suffix}"

    def _index(self, path: Path) -> int | None:
        stem, suffix = path.name[: -len(self.suffix)], path.name[-len(self.suffix) :]
        if suffix != self.suffix or not stem.isdigit() or len(stem) != 8:
            return None  # the manifest, or a temporary file a kill left behind
        index = int(stem)
        return index if index < self.blocks else None

    def _manifest(self) -> dict[str, object]:
        try:
            manifest: dict[str, object] = json.loads((self.dir / MANIFEST).read_text(encoding="utf-8"))
            return manifest
        except (OSError, ValueError):
            raise TgEdgeError(
                f"cannot resume from {self.dir}: its manifest is unreadable; run again without "
                "--resume to start over"
            ) from None

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        temporary = path.with_name(f".{path.name}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
