"""What a dataset job did, and what it tells a caller as each block finishes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..jobs import JobReport


@dataclass(frozen=True)
class BlockDone:
    """A block whose shard was just written: its index, its record count and the actor that translated it."""

    index: int
    records: int
    replica: str
    """``HOST:PID`` of the actor."""

    @property
    def pid(self) -> int:
        return int(self.replica.rsplit(":", 1)[1])


@dataclass
class DatasetReport(JobReport):
    """A file job's report, plus the dataset's records and blocks and the blocks each replica translated."""

    records: int = 0
    blocks: int = 0
    replica_count: int = 0
    replicas: dict[str, int] = field(default_factory=dict)
