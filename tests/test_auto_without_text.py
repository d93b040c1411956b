"""``source="auto"`` and a document without text: nothing to detect, nothing to translate, so the document
comes back as it is without the model. The Translator decides that once; the CLI's file jobs and the
server hand it ``auto`` as the user gave it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.servers import call, multipart, running_server
from tests.test_same_language import decode_steps
from tg_edge import formats

# A code block, markup without text, a subtitle of a symbol: what a reader gives no segment for.
NO_TEXT = {
    "code.md": "```\nmake install\n```\n",
    "empty.html": "<p>  </p>\n",
    "music.srt": "1\n00:00:01,000 --> 00:00:02,000\n♪\n\n",
}


@pytest.mark.integration
def test_translate_documents_gives_documents_without_text_back_as_they_are(translator: object) -> None:
    documents = [formats.read(text, name, name.rsplit(".", 1)[1]) for name, text in NO_TEXT.items()]
    steps = decode_steps(translator)
    results = translator.translate_documents(documents, source="auto", target="de")  # type: ignore[attr-defined]
    assert [result.rendered for result in results] == list(NO_TEXT.values())
    assert all(result.detected is None and result.outcomes == () for result in results)
    assert decode_steps(translator) == steps


@pytest.mark.integration
def test_file_jobs_with_auto_copy_files_without_text(translator: object, tmp_path: Path) -> None:
    steps = decode_steps(translator)
    for name, text in NO_TEXT.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        out = tmp_path / f"de-{name}"
        run = run_cli(
            "translate",
            "-s",
            "auto",
            "-t",
            "de",
            "-i",
            str(tmp_path / name),
            "-o",
            str(out),
            translator=translator,
        )
        assert run.returncode == 0, run.stderr
        assert out.read_text(encoding="utf-8") == text
    records = tmp_path / "records.jsonl"
    records.write_text('{"id": 1, "text": ""}\n{"id": 2, "text": "   "}\n', encoding="utf-8")
    run = run_cli(
        "translate", "-s", "auto", "-t", "de", "--fields", "text", "-i", str(records), "-o", str(tmp_path / "o.jsonl"),
        translator=translator,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "o.jsonl").read_bytes() == records.read_bytes()
    assert decode_steps(translator) == steps


@pytest.mark.integration
def test_the_server_gives_a_file_without_text_back_with_auto(translator: object) -> None:
    steps = decode_steps(translator)
    with running_server(translator) as (url, _):
        body, headers = multipart(
            {"source": "auto", "target": "de"}, "file", "code.md", NO_TEXT["code.md"].encode()
        )
        reply = call("POST", f"{url}/translate_file", body, headers=headers)
        assert reply.status == 200, reply.body
        assert call("GET", reply.json()["translatedFileUrl"]).body == NO_TEXT["code.md"].encode()
    assert decode_steps(translator) == steps


@pytest.mark.integration
def test_a_parquet_block_without_text_comes_back_as_it_is_with_auto(
    translator: object, tmp_path: Path
) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from tg_edge.distributed.datasets import ParquetDataset, Settings

    table = pa.table({"id": [1, 2, 3], "text": ["", "   ", None]})
    pq.write_table(table, tmp_path / "data.parquet")
    dataset = ParquetDataset(tmp_path / "data.parquet", "text")
    [block] = dataset.plan(8, 0)
    [payload] = dataset.read([block])
    steps = decode_steps(translator)
    result = dataset.translate(
        translator, block, payload, Settings(fields="text", source="auto", target="de"), None
    )
    assert result.segments == 0 and result.flags == []
    assert pa.ipc.open_stream(result.payload).read_all().to_pylist() == table.to_pylist()
    assert decode_steps(translator) == steps
