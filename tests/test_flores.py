"""FLORES-200 ships inside the package, parallel across languages; TG_EDGE_FLORES overrides it (the wheel's copy:
tests/test_wheel.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tg_edge import InputError
from tg_edge.bench.flores import FLORES_CODES, flores_paragraphs, load_flores

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "tg_edge" / "bench" / "data" / "flores200"


def test_lines_are_parallel_and_complete() -> None:
    english, german = load_flores("en"), load_flores("de-DE")
    assert len(english) == len(german) == 1012
    assert load_flores("en", 3, start=10) == english[10:13]
    assert all(line.strip() for line in german)


def test_every_listed_language_has_its_file() -> None:
    for code in FLORES_CODES:
        assert len(load_flores(code, 1)) == 1
    assert sorted(p.name for p in (SHIPPED / "devtest").iterdir()) == sorted(
        f"{n}.devtest" for n in FLORES_CODES.values()
    )
    assert {"LICENSE-CC-BY-SA", "SOURCE.md", "metadata_devtest.tsv"} <= {p.name for p in SHIPPED.iterdir()}


def test_shipped_data_needs_no_directory_or_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TG_EDGE_FLORES", raising=False)
    monkeypatch.chdir(tmp_path)
    assert (
        load_flores("de", 2, start=5)
        == (SHIPPED / "devtest" / "deu_Latn.devtest").read_text(encoding="utf-8").splitlines()[5:7]
    )
    paragraphs = flores_paragraphs(200)
    assert sum(len(p.split()) for p in paragraphs) >= 200 and paragraphs[0].startswith(
        load_flores("en", 1)[0]
    )


def test_missing_language_or_range_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no FLORES-200 file for 'zu'"):
        load_flores("zu")
    with pytest.raises(InputError, match="has 1012 lines"):
        load_flores("en", 5, start=1010)


def test_tg_edge_flores_points_elsewhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "devtest").mkdir()
    (tmp_path / "devtest" / "eng_Latn.devtest").write_text("one\ntwo\n", encoding="utf-8")
    monkeypatch.setenv("TG_EDGE_FLORES", str(tmp_path))
    assert load_flores("en") == ["one", "two"]
    with pytest.raises(InputError, match=r"devtest/deu_Latn.devtest not found in .* \(TG_EDGE_FLORES\)"):
        load_flores("de")
    with pytest.raises(InputError, match="metadata metadata_devtest.tsv not found"):
        flores_paragraphs(10)
