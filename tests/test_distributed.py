"""Datasets translated on a local Ray by two demo-model Translator actors: exactly once, in order, as one process would.

One local Ray (2 CPUs) serves the whole module; each job starts its own actor pool on it.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import tg_edge
from tg_edge.distributed import BlockDone, RayOptions, translate_dataset
from tg_edge.jobs import FileJob, JobOptions
from tg_edge.load_options import LoadOptions

pytestmark = pytest.mark.integration
ray = pytest.importorskip("ray")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

RECORDS = 96
BLOCK = 16
TWO_ACTORS = RayOptions(replicas=2, threads=1)
SUBJECTS = [
    "The cat",
    "My brother",
    "The teacher",
    "A small bird",
    "The old man",
    "Our neighbour",
    "The child",
    "This city",
]
VERBS = [
    "sleeps",
    "reads a book",
    "is happy",
    "walks home",
    "sings",
    "eats bread",
    "works late",
    "looks tired",
]
ENDS = [
    "today.",
    "every morning.",
    "in the garden.",
    "at night.",
    "again.",
    "with friends.",
    "slowly.",
    "now.",
]


def _sentences() -> list[str]:
    """96 different short sentences (different, so no record's translation comes from another's cache)."""
    sentences = [" ".join(parts) for parts in itertools.product(SUBJECTS, VERBS, ENDS)]
    random.Random(21).shuffle(sentences)
    return sentences[:RECORDS]


def _line(i: int, sentence: str) -> bytes:
    """A record whose untranslated parts have spacing, number formats and escapes a re-serialiser would change."""
    return (
        f'{{"id": {i},"instruction" : {json.dumps(sentence)}, "output":"Antwort\\u00e9 {i}",'
        f' "meta": {{"n": 1.50e0, "tags": ["a" ,"b"]}}}}\n'
    ).encode()


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One local Ray for the module (starting Ray is slow); its workers run this checkout's tg_edge and see an
    empty, offline user directory."""
    home = tmp_path_factory.mktemp("ray-home")
    env = {
        "TG_EDGE_HOME": str(home / "tg-edge"),
        "HF_HOME": str(home / "hf"),
        "HF_HUB_OFFLINE": "1",
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        logging_level="WARNING",
        runtime_env={"py_modules": [str(Path(tg_edge.__file__).parent)], "env_vars": env},
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dataset") / "data.jsonl"
    path.write_bytes(b"".join(_line(i, sentence) for i, sentence in enumerate(_sentences())))
    return path


@pytest.fixture(scope="module")
def single_process(dataset: Path, demo_model: Path, tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The same file through the single-process FileJob, same chunk size and threads as an actor: the reference
    output's lines. (Its own 1-thread Translator rather than the session's 2-thread one: on a 2-core machine
    shared with other jobs the 2-thread run took 705 s, the 1-thread one 72 s, most likely llama.cpp's threads
    waiting on each other at every step; the outputs are the same either way.)"""
    from tg_edge import Translator

    out = tmp_path_factory.mktemp("reference") / "out.jsonl"
    with Translator(demo_model, threads=1) as translator:
        FileJob(translator, _options()).run([(dataset, out)])
    return out.read_bytes().splitlines(keepends=True)


def _options(**changes: object) -> JobOptions:
    return JobOptions(
        source="en", target="de", fields="instruction", chunk_records=BLOCK, progress=False, **changes
    )


def _check_exactly_once(out: Path, source: Path, reference: list[bytes]) -> None:
    lines = out.read_bytes().splitlines(keepends=True)
    originals = source.read_bytes().splitlines(keepends=True)
    assert len(lines) == len(originals)
    for i, (line, original) in enumerate(zip(lines, originals, strict=False)):
        head = f'{{"id": {i},"instruction" : '.encode()
        tail = original[original.index(b', "output"') :]
        assert line.startswith(head) and line.endswith(tail), (i, line)  # every other byte as it was
        assert json.loads(line)["instruction"] != json.loads(original)["instruction"]
    assert lines == reference[: len(lines)]


def test_two_actors_translate_every_record_once_in_order_as_one_process_does_even_when_one_is_killed(
    local_ray, dataset: Path, demo_model: Path, single_process: list[bytes], tmp_path: Path
) -> None:
    """96 records through 2 actors while one of them is SIGKILLed mid-block: Ray restarts it and redoes its
    block, and the output is still every record once, in order, byte for byte what one process writes."""
    killed: list[int] = []

    def kill_the_first_finisher(done: BlockDone) -> None:
        if not killed:  # that actor already holds its next block (two in flight per actor): killed mid-block
            os.kill(done.pid, signal.SIGKILL)
            killed.append(done.pid)

    out = tmp_path / "out.jsonl"
    report = translate_dataset(
        dataset,
        out,
        _options(),
        load=LoadOptions(model=str(demo_model)),
        cluster=TWO_ACTORS,
        on_block=kill_the_first_finisher,
    )

    assert killed
    _check_exactly_once(out, dataset, single_process)
    assert report.records == RECORDS and report.blocks == -(-RECORDS // BLOCK)
    assert report.segments == RECORDS and report.resumed == 0
    assert (
        report.replica_count == 2 and sum(report.replicas.values()) == report.blocks
    )  # each shard written once
    assert not list(tmp_path.glob(".*tg-edge-shards"))


def test_an_interrupted_job_resumes_without_redoing_finished_blocks(
    local_ray, dataset: Path, demo_model: Path, single_process: list[bytes], tmp_path: Path
) -> None:
    small = tmp_path / "small.jsonl"
    small.write_bytes(b"".join(dataset.read_bytes().splitlines(keepends=True)[:64]))
    out = tmp_path / "out.jsonl"
    finished: list[int] = []

    def interrupt_after_two(done: BlockDone) -> None:
        finished.append(done.index)
        if len(finished) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        translate_dataset(
            small,
            out,
            _options(),
            load=LoadOptions(model=str(demo_model)),
            cluster=TWO_ACTORS,
            on_block=interrupt_after_two,
        )
    assert not out.exists()

    redone: list[int] = []
    report = translate_dataset(
        small,
        out,
        _options(resume=True),
        load=LoadOptions(model=str(demo_model)),
        cluster=TWO_ACTORS,
        on_block=lambda done: redone.append(done.index),
    )

    assert report.resumed == 2 * BLOCK
    assert sorted(redone) == sorted(set(range(4)) - set(finished))
    _check_exactly_once(out, small, single_process)


def test_parquet_in_and_out_translates_the_named_string_columns_only(
    local_ray, dataset: Path, demo_model: Path, single_process: list[bytes], tmp_path: Path
) -> None:
    sentences = _sentences()[:48]
    table = pa.table(
        {
            "id": pa.array(range(48), pa.int32()),
            "instruction": sentences,
            "note": [None if i % 5 == 0 else f"note {i}" for i in range(48)],
            "tags": [[i, i + 1] for i in range(48)],
        }
    )
    source = tmp_path / "data.parquet"
    pq.write_table(table, source, row_group_size=32)
    out = tmp_path / "out.parquet"

    report = translate_dataset(
        source, out, _options(), load=LoadOptions(model=str(demo_model)), cluster=TWO_ACTORS
    )

    result = pq.read_table(out)
    original = pq.read_table(source)
    assert result.schema == original.schema and report.records == 48
    for name in ("id", "note", "tags"):
        assert result.column(name).equals(original.column(name))
    expected = [json.loads(line)["instruction"] for line in single_process[:48]]
    assert result.column("instruction").to_pylist() == expected  # blocks of 16, as the JSONL job's chunks
