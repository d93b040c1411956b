"""FLORES-200 is read from the shared directory, parallel across languages."""

import pytest

from tg_edge import InputError
from tg_edge.flores import FLORES_CODES, load_flores


def test_lines_are_parallel_and_complete() -> None:
    english, german = load_flores("en"), load_flores("de-DE")
    assert len(english) == len(german) == 1012
    assert load_flores("en", 3, start=10) == english[10:13]
    assert all(line.strip() for line in german)


def test_every_listed_language_has_its_file() -> None:
    for code in FLORES_CODES:
        assert len(load_flores(code, 1)) == 1


def test_missing_language_or_range_is_an_input_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    with pytest.raises(InputError, match="no FLORES-200 file for 'zu'"):
        load_flores("zu")
    with pytest.raises(InputError, match="has 1012 lines"):
        load_flores("en", 5, start=1010)
    monkeypatch.setenv("TG_EDGE_FLORES", str(tmp_path))
    with pytest.raises(InputError, match="TG_EDGE_FLORES"):
        load_flores("en")
