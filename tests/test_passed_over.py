"""Files tg-edge does not read: named with what to do, and in a directory job passed over and listed, never
silently and never at the cost of the rest (issue 29, items 5 and 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tg_edge.filetypes import unreadable_type
from tg_edge.jobs import PassedOver, plan_job

GUIDE = "# Welcome\n\nThe hotel is open all year.\n"


def png(path: Path) -> Path:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (32, 16), (250, 250, 240)).save(path)
    return path


def parquet(path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"q": ["Good morning.", "Thank you."]}), path)
    return path


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n\x00\x00trailer\n"


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("scan.pdf", PDF, "PDF file"),
        ("scan.txt", PDF, "PDF file"),  # the bytes say what the name does not
        ("model.bin", b"GGUF\x03\x00\x00\x00" + bytes(16), "GGUF model file"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(32), "legacy Microsoft Office file"),
        ("notes.zip", b"PK\x03\x04\x14\x00", "compressed archive"),
        ("song.ogg", b"OggS\x00\x02" + bytes(20), "audio or video file"),
        ("notes.txt", b"OggS is the name of a container format.\n", None),  # text stays text
        ("notes.txt", b"PAR1 is a Parquet file's magic.\n", None),
        ("LICENSE", b"Permission is hereby granted\n", None),
        ("guide.md", b"# Guide\n", None),
    ],
)
def test_formats_tg_edge_does_not_read_are_told_by_their_bytes_or_name(
    name: str, data: bytes, kind: str | None
) -> None:
    found = unreadable_type(Path(name), data)
    assert (found.name if found else None) == kind


def test_a_parquet_file_is_told_by_its_bytes(tmp_path: Path) -> None:
    path = parquet(tmp_path / "data.bin")
    found = unreadable_type(path, path.read_bytes()[:300])
    assert found is not None and found.name == "Parquet dataset" and "--ray" in found.advice


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        (
            "scan.pdf",
            lambda p: p.write_bytes(PDF),
            "is a PDF file, not text: translate it as a file named .pdf",
        ),
        ("data.parquet", parquet, "is a Parquet dataset, not text: translate it on Ray with --ray"),
        (
            "weights.gguf",
            lambda p: p.write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(64)),
            "is a GGUF model file, not text: give a model with -m",
        ),
    ],
)
def test_a_file_of_a_format_tg_edge_does_not_read_gets_its_name_and_what_to_do(
    tmp_path: Path, name: str, make, message: str
) -> None:
    path = tmp_path / name
    make(path)
    for mode in ("--json", "--stream"):  # the one-text paths read the file before a model is loaded
        run = run_cli("translate", "-s", "en", "-t", "de", mode, "-i", str(path))
        [line] = run.stderr.decode().splitlines()  # one line, no traceback
        assert run.returncode == 1 and run.stdout == b"" and line.startswith(f"Error: {path} {message}")


def test_a_directorys_files_of_other_types_are_passed_over_with_why(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(GUIDE, encoding="utf-8")
    (docs / "scan.pdf").write_bytes(PDF)
    (docs / "Makefile").write_text("all:\n", encoding="utf-8")
    (docs / ".git").mkdir()
    (docs / ".git" / "config").write_text("[core]\n", encoding="utf-8")  # not the user's documents
    (docs / ".notes.txt.swp").write_bytes(b"\x00")
    planned = plan_job([docs], f"{tmp_path / 'out'}/")
    (docs / "model.gguf").write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(64))
    planned = plan_job([docs], f"{tmp_path / 'out'}/")
    assert planned.pairs == [
        (docs / "guide.md", tmp_path / "out" / "guide.md"),
        (docs / "scan.pdf", tmp_path / "out" / "scan.pdf"),  # a document since tg-edge reads PDF
    ]
    assert planned.passed_over == [
        PassedOver(str(docs / "Makefile"), "files of types tg-edge does not read"),
        PassedOver(str(docs / "model.gguf"), "GGUF model files (give a model with -m/--model, not -i)"),
    ]


@pytest.mark.integration
@pytest.mark.parametrize("skip_bad", [False, True])
def test_images_the_model_cannot_read_and_other_types_are_passed_over_and_the_rest_translated(
    translator: object, tmp_path: Path, skip_bad: bool
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "guide.md").write_text(GUIDE, encoding="utf-8")
    png(docs / "dog.png")
    png(docs / "shots" / "cat.png")
    parquet(docs / "data.parquet")
    out = tmp_path / "out"
    args = ["translate", "-s", "en", "-t", "de", "-i", str(docs), "-o", str(out)]
    run = run_cli(*args, *(["--skip-bad"] if skip_bad else []), translator=translator)
    err = run.stderr.decode()
    assert run.returncode == 0, err
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["guide.md"]
    notes = [line for line in err.splitlines() if line.startswith("WARNING: passed over")]
    assert [note.split(":")[1].strip() for note in notes] == [
        f"passed over {docs / 'dog.png'}",
        f"passed over {docs / 'shots' / 'cat.png'}",
    ]
    assert all("cannot read images" in note for note in notes)
    lines = err.splitlines()
    images = next(i for i, line in enumerate(lines) if line.startswith("Passed over images ("))
    assert lines[images + 1 : images + 3] == [f"  {docs / 'dog.png'}", f"  {docs / 'shots' / 'cat.png'}"]
    parquets = next(i for i, line in enumerate(lines) if line.startswith("Passed over Parquet datasets ("))
    assert lines[parquets + 1] == f"  {docs / 'data.parquet'}" and "--ray" in lines[parquets]
    assert "Traceback" not in err


@pytest.mark.integration
def test_only_images_the_model_cannot_read_is_a_usage_error(translator: object, tmp_path: Path) -> None:
    one = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "-i",
        str(png(tmp_path / "dog.png")),
        "-o",
        str(tmp_path / "dog.txt"),
        translator=translator,
    )
    assert one.returncode == 2 and b"cannot read images" in one.stderr and not (tmp_path / "dog.txt").exists()
    png(tmp_path / "shots" / "a.png")
    png(tmp_path / "shots" / "b.png")
    both = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "-i",
        str(tmp_path / "shots"),
        "-o",
        str(tmp_path / "out"),
        translator=translator,
    )
    assert both.returncode == 2 and b"cannot read images" in both.stderr and not (tmp_path / "out").exists()


@pytest.mark.integration
def test_a_file_job_names_the_format_it_does_not_read(translator: object, tmp_path: Path) -> None:
    data = parquet(tmp_path / "data.parquet")
    run = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "-i",
        str(data),
        "-o",
        str(tmp_path / "out.parquet"),
        translator=translator,
    )
    assert (
        run.returncode == 1
        and b"is a Parquet dataset, not text: translate it on Ray with --ray" in run.stderr
    )
    jsonl = run_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "-f",
        "jsonl",
        "--fields",
        "q",
        "-i",
        str(data),
        "-o",
        str(tmp_path / "out.jsonl"),
        translator=translator,
    )
    assert jsonl.returncode == 1 and b"is a Parquet dataset" in jsonl.stderr and b"binary" not in jsonl.stderr


def test_a_directory_of_nothing_tg_edge_reads_says_what_one_of_its_files_is(tmp_path: Path) -> None:
    from tg_edge.errors import InputError

    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "model.gguf").write_bytes(b"GGUF\x03\x00\x00\x00" + bytes(64))
    with pytest.raises(
        InputError, match=r"holds no files of a known format .*model\.gguf .*give a model with -m"
    ):
        plan_job([tmp_path / "scans"], f"{tmp_path / 'out'}/")
