"""The Ray dataset job's parts that need neither a model nor a running Ray: planning, shards, replicas, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tg_edge.distributed import RayOptions, plan_replicas
from tg_edge.distributed.datasets import JsonlDataset, ParquetDataset, dataset_for
from tg_edge.distributed.shards import ShardStore
from tg_edge.errors import InputError, TgEdgeError
from tg_edge.jobs.records import record_chunks


def _jsonl(path: Path, count: int) -> Path:
    with open(path, "wb") as handle:
        for i in range(count):
            handle.write(
                json.dumps({"id": i, "text": f"Sentence number {i}."}).encode()
                + (b"\r\n" if i % 7 else b"\n")
            )
        handle.write(b'{"id": "last", "text": "no newline"}')
    return path


def test_jsonl_blocks_are_the_file_jobs_chunks_and_read_back_byte_for_byte(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "data.jsonl", 50)
    dataset = JsonlDataset(path, "text")
    blocks = dataset.plan(16, 400)
    chunks = list(record_chunks(path, 0, 16, 400))
    assert [(b.first, b.count) for b in blocks] == [(first, len(raws)) for first, raws in chunks]
    assert [b.index for b in blocks] == list(range(len(blocks)))
    assert b"".join(dataset.read(blocks)) == path.read_bytes()
    assert list(dataset.read(blocks[2:4])) == [b"".join(chunks[2][1]), b"".join(chunks[3][1])]


def test_parquet_blocks_stay_inside_row_groups(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"id": list(range(45)), "text": [f"Row {i}." for i in range(45)]})
    pq.write_table(table, tmp_path / "data.parquet", row_group_size=20)
    dataset = ParquetDataset(tmp_path / "data.parquet", "text")
    dataset.check()
    blocks = dataset.plan(8, 0)
    assert [(b.first, b.count, b.where) for b in blocks] == [
        (1, 8, (0, 0)),
        (9, 8, (0, 8)),
        (17, 4, (0, 16)),
        (21, 8, (1, 0)),
        (29, 8, (1, 8)),
        (37, 4, (1, 16)),
        (41, 5, (2, 0)),
    ]
    rows = [
        row for payload in dataset.read(blocks) for row in pa.ipc.open_stream(payload).read_all().to_pylist()
    ]
    assert rows == table.to_pylist()


def test_parquet_fields_must_be_string_columns(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"id": [1], "text": ["a"]}), tmp_path / "data.parquet")
    with pytest.raises(InputError, match="column 'id' holds int64, not strings"):
        ParquetDataset(tmp_path / "data.parquet", "id").check()
    with pytest.raises(InputError, match="no column 'meta.title' \\(nested paths"):
        ParquetDataset(tmp_path / "data.parquet", "meta.title").check()
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="cannot read .* as Parquet"):
        ParquetDataset(tmp_path / "bad.parquet", "text").check()


def test_dataset_format_is_chosen_by_extension_or_named(tmp_path: Path) -> None:
    assert dataset_for(tmp_path / "a.parquet", "x").name == "parquet"
    assert dataset_for(tmp_path / "a.ndjson", "x").name == "jsonl"
    assert dataset_for(tmp_path / "a.txt", "x", "jsonl").name == "jsonl"
    with pytest.raises(InputError, match="JSON Lines .* or Parquet"):
        dataset_for(tmp_path / "a.csv", "x")
    with pytest.raises(InputError, match="needs --fields"):
        dataset_for(tmp_path / "a.jsonl", "")


def test_a_shard_is_written_once_and_a_resumed_store_keeps_finished_blocks(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    store = ShardStore(out, fingerprint="f", blocks=3, suffix=".jsonl")
    assert store.open(resume=False) == set()
    assert store.put(1, b"b\n") is True
    assert store.put(1, b"other\n") is False  # a retried block arriving twice: written once
    with pytest.raises(TgEdgeError, match="2 of 3 blocks have no output"):
        store.finish(JsonlDataset(out, "x").assemble)
    (store.dir / ".00000002.jsonl.tmp").write_bytes(b"cut by a kill")  # a write that never finished

    again = ShardStore(out, fingerprint="f", blocks=3, suffix=".jsonl")
    assert again.open(resume=True) == {1}
    again.put(0, b"a\n")
    again.put(2, b"c")
    again.finish(JsonlDataset(out, "x").assemble)
    assert out.read_bytes() == b"a\nb\nc"
    assert not again.dir.exists()


def test_resuming_another_jobs_shards_is_refused_and_a_fresh_start_clears_them(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    first = ShardStore(out, fingerprint="one", blocks=2, suffix=".jsonl")
    first.open(resume=False)
    first.put(0, b"x\n")
    with pytest.raises(TgEdgeError, match="belongs to another job"):
        ShardStore(out, fingerprint="two", blocks=2, suffix=".jsonl").open(resume=True)
    assert ShardStore(out, fingerprint="two", blocks=2, suffix=".jsonl").open(resume=False) == set()
    assert ShardStore(out, fingerprint="two", blocks=2, suffix=".jsonl").open(resume=True) == set()


@pytest.mark.parametrize(
    ("resources", "options", "blocks", "expected"),
    [
        ({"CPU": 16}, RayOptions(), None, (4, 4)),
        ({"CPU": 2}, RayOptions(), None, (1, 2)),
        ({"CPU": 2}, RayOptions(replicas=2), None, (2, 1)),
        ({"CPU": 2}, RayOptions(threads=1), None, (2, 1)),
        ({"CPU": 64}, RayOptions(threads=2), 5, (5, 2)),  # no more actors than blocks
        ({"CPU": 32, "GPU": 4}, RayOptions(gpus_per_replica=1), None, (4, 4)),
        ({"CPU": 8, "GPU": 4}, RayOptions(gpus_per_replica=0.5), None, (8, 1)),
        ({"CPU": 8, "GPU": 2}, RayOptions(replicas=1, gpus_per_replica=2, threads=6), None, (1, 6)),
    ],
)
def test_replicas_follow_the_clusters_resources(resources, options, blocks, expected) -> None:
    assert plan_replicas(resources, options, blocks=blocks) == expected


def test_an_actor_never_needs_more_cpus_than_a_node_has() -> None:
    assert plan_replicas({"CPU": 4}, RayOptions(), node_cpus=[2, 2]) == (2, 2)
    assert plan_replicas({"CPU": 40}, RayOptions(), node_cpus=[16, 16, 8]) == (10, 4)
    assert plan_replicas({"CPU": 4}, RayOptions(replicas=2), node_cpus=[1, 3]) == (2, 1)
    with pytest.raises(TgEdgeError, match="nodes of 2, 2 CPUs"):
        plan_replicas({"CPU": 4}, RayOptions(threads=3), node_cpus=[2, 2])


@pytest.mark.parametrize(
    ("resources", "options", "message"),
    [
        (
            {"CPU": 4},
            RayOptions(replicas=3, threads=2),
            "3 replicas × 2 threads do not fit in the Ray cluster's 4 CPUs",
        ),
        ({"CPU": 4}, RayOptions(gpus_per_replica=1), "the Ray cluster has 0 GPUs"),
        ({"CPU": 4, "GPU": 1}, RayOptions(replicas=2, gpus_per_replica=1), "2 replicas × 1 GPUs do not fit"),
    ],
)
def test_a_pool_the_cluster_cannot_hold_is_refused(resources, options, message) -> None:
    with pytest.raises(TgEdgeError, match=message):
        plan_replicas(resources, options)


def test_ray_without_the_extra_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what Python does for a package that is not installed
    path = _jsonl(tmp_path / "data.jsonl", 3)
    result = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "-i",
        str(path),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--fields",
        "text",
        "--ray",
    )
    assert result.returncode == 2
    assert "pip install 'tg-edge[ray]'" in result.stderr.decode()
    assert not (tmp_path / "out.jsonl").exists()


def test_ray_options_are_checked_before_ray_starts(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "data.jsonl", 3)
    cases = [
        (["--replicas", "2", "-i", str(path), "-o", "x.jsonl", "--fields", "text"], "go with --ray"),
        (["--ray", "-i", str(path), "--fields", "text"], "give -i FILE and -o FILE"),
        (["--ray", "-i", str(path), "-o", str(tmp_path / "o.jsonl")], "needs --fields"),
        (["--ray", "--json", "-i", str(path), "-o", "x.jsonl", "--fields", "text"], "without TEXT, --stream"),
    ]
    for args, message in cases:
        result = run_cli("translate", "-s", "en", "-t", "de", *args)
        assert result.returncode == 2, args
        assert message in result.stderr.decode(), (args, result.stderr)
    pytest.importorskip("ray")
    (tmp_path / "t.parquet").write_bytes(b"PAR1 not really")
    result = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "--ray",
        "-i",
        str(tmp_path / "t.parquet"),
        "-o",
        str(tmp_path / "o.parquet"),
        "--fields",
        "text",
    )
    assert result.returncode == 1
    assert "as Parquet" in result.stderr.decode()


def test_help_imports_neither_ray_nor_pyarrow() -> None:
    from tests.conftest import modules_after_help

    assert modules_after_help(["translate", "--help"], ("ray", "pyarrow", "tg_edge.distributed")) == []


def test_an_unknown_language_fails_before_ray_starts(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from tg_edge.distributed import translate_dataset
    from tg_edge.errors import LanguageError
    from tg_edge.jobs import JobOptions

    path = _jsonl(tmp_path / "data.jsonl", 3)
    with pytest.raises(LanguageError, match="unknown language 'xx-bogus'"):
        translate_dataset(
            path, tmp_path / "out.jsonl", JobOptions(source="auto", target="xx-bogus", fields="text")
        )
    assert not ray.is_initialized()
    assert not (tmp_path / ".out.jsonl.tg-edge-shards").exists()
