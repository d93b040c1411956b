"""Ray Data reading a dataset file's pending blocks: one row per block, read on the driver's node.

The reads run where the file is (the driver's node: a local path need not exist on the workers);
each read task covers a run of consecutive blocks with one pass over the file, and the rows then
travel to the actors through Ray's object store. Importing this module imports Ray.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
from ray.data import Datasource, ReadTask
from ray.data.block import BlockMetadata

from .datasets import Block, JsonlDataset, ParquetDataset

BLOCKS_PER_READ = 32
"""Blocks one read task reads (fewer tasks, one pass over the file each)."""

SCHEMA = pa.schema(
    [("block", pa.int64()), ("first", pa.int64()), ("count", pa.int64()), ("payload", pa.large_binary())]
)


class BlockSource(Datasource):
    """The blocks of ``dataset`` listed in ``blocks`` (the pending ones), in order, one row each."""

    def __init__(self, dataset: JsonlDataset | ParquetDataset, blocks: Sequence[Block]) -> None:
        super().__init__()
        self.dataset = dataset
        self.blocks = list(blocks)

    @property
    def supports_distributed_reads(self) -> bool:
        return False  # the input is a file on the driver's node

    def get_name(self) -> str:
        return f"Read{self.dataset.name.capitalize()}Blocks"

    def estimate_inmemory_data_size(self) -> int | None:
        return sum(map(self.dataset.size, self.blocks)) or None

    def row_slots(self) -> int:
        """The number of Ray blocks to ask for: read tasks × the longest run, so that Ray splits each read
        task's output into single rows."""
        return len(_runs(self.blocks, BLOCKS_PER_READ)) * min(BLOCKS_PER_READ, len(self.blocks))

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, data_context: object | None = None
    ) -> list[ReadTask]:
        runs = _runs(self.blocks, BLOCKS_PER_READ)
        return [
            ReadTask(
                self._reader(run),
                BlockMetadata(
                    num_rows=len(run),
                    size_bytes=sum(map(self.dataset.size, run)),
                    input_files=None,
                    exec_stats=None,
                ),
                schema=SCHEMA,
            )
            for run in runs
        ]

    def _reader(self, run: list[Block]):
        dataset = self.dataset

        def read():
            for block, payload in zip(run, dataset.read(run), strict=True):
                yield pa.Table.from_pydict(
                    {
                        "block": [block.index],
                        "first": [block.first],
                        "count": [block.count],
                        "payload": [payload],
                    },
                    schema=SCHEMA,
                )

        return read


def _runs(blocks: list[Block], most: int) -> list[list[Block]]:
    """Consecutive blocks together, at most ``most`` in a run, a gap (a finished block) ending a run."""
    runs: list[list[Block]] = []
    for block in blocks:
        if runs and len(runs[-1]) < most and runs[-1][-1].index == block.index - 1:
            runs[-1].append(block)
        else:
            runs.append([block])
    return runs
