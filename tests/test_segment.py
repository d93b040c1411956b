"""Splitting keeps every character; budgets cut at sentences, then words, never inside a word."""

import pytest

from tg_edge.segment import Piece, join_pieces, split_text


def words(text: str) -> int:
    """A stand-in token count for the pure splitting logic: one token per word."""
    return len(text.split())


STRUCTURED = [
    "",
    "Hello",
    "Hello\n",
    "One line.\n\nAnother after a blank line.\n",
    "  indented\n\tTabbed line\n    \n\n\nend",
    "Windows\r\nline endings\r\n",
    "\n\n\nleading blank lines",
    "trailing spaces   \n",
]


@pytest.mark.parametrize("text", STRUCTURED)
def test_joining_untranslated_pieces_gives_the_input_back(text: str) -> None:
    pieces = split_text(text, words, max_tokens=100)
    assert join_pieces(pieces, (p.text for p in pieces if p.translate)) == text


def test_each_non_empty_line_is_one_unit_without_its_whitespace() -> None:
    pieces = split_text("  first line  \n\nsecond\n", words, max_tokens=100)
    assert [p.text for p in pieces if p.translate] == ["first line", "second"]
    assert [p.text for p in pieces if not p.translate] == ["  ", "  \n\n", "\n"]


def test_translations_replace_units_in_order_and_skeleton_stays() -> None:
    pieces = split_text("a\n\n  b\n", words, max_tokens=100)
    assert join_pieces(pieces, ["X", "Y"]) == "X\n\n  Y\n"


def test_long_line_is_cut_at_sentence_ends_within_budget() -> None:
    line = "One two three. Four five six! Seven eight nine? Ten eleven twelve."
    pieces = split_text(line, words, max_tokens=6)
    units = [p.text for p in pieces if p.translate]
    assert all(words(u) <= 6 for u in units)
    assert units == ["One two three. Four five six!", "Seven eight nine? Ten eleven twelve."]
    assert join_pieces(pieces, units) == line


def test_sentence_over_budget_is_cut_between_words() -> None:
    line = " ".join(f"w{i}" for i in range(25))
    pieces = split_text(line, words, max_tokens=10)
    units = [p.text for p in pieces if p.translate]
    assert [words(u) for u in units] == [10, 10, 5]
    assert " ".join(units).split() == line.split()
    assert join_pieces(pieces, units) == line


def test_text_without_spaces_is_cut_by_characters() -> None:
    text = "字" * 50
    pieces = split_text(text, len, max_tokens=16)
    units = [p.text for p in pieces if p.translate]
    assert all(len(u) <= 16 for u in units)
    assert "".join(units) == text


def test_budget_must_be_positive() -> None:
    with pytest.raises(ValueError):
        split_text("x", words, max_tokens=0)


def test_pieces_are_immutable_values() -> None:
    assert Piece("a", True) == Piece("a", True)
