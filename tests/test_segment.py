"""Splitting keeps every character; budgets cut at sentences, then words, never inside a word."""

import pytest

from tg_edge.segment import Piece, join_pieces, split_finer, split_sentences, split_text


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


def test_sentences_come_from_a_multilingual_splitter_that_knows_abbreviations() -> None:
    text = "Dr. Smith arrived at 5 p.m. on Jan. 3rd. He left early!  Did he?"
    assert split_sentences(text, "en") == [
        "Dr. Smith arrived at 5 p.m. on Jan. 3rd. ",
        "He left early!  ",
        "Did he?",
    ]
    assert split_sentences("Herr Dr. Müller kam z. B. spät. Gut!", "de") == [
        "Herr Dr. Müller kam z. B. spät. ",
        "Gut!",
    ]
    assert split_sentences("今日は晴れ。明日は雨？", "ja") == ["今日は晴れ。", "明日は雨？"]


@pytest.mark.parametrize("language", ["en", "de", "fr", "ja", "zh-Hans", "ar", "hi", "ru"])
def test_sentence_splitting_never_loses_a_character(language: str) -> None:
    from tg_edge.bench.flores import load_flores

    text = "  ".join(load_flores(language, 60)) + "\n"
    parts = split_sentences(text, language)
    assert "".join(parts) == text
    # FLORES' Arabic opens a quote it never closes, and sentencex keeps quoted text together: fewer, longer
    # sentences, which the token budget then cuts at clauses.
    assert len(parts) > (5 if language == "ar" else 40)


def test_sentence_units_make_every_sentence_its_own_unit() -> None:
    line = "  One two three. Four five six! Seven.\n"
    pieces = split_text(line, words, max_tokens=100, sentences=True)
    assert [p.text for p in pieces if p.translate] == ["One two three.", "Four five six!", "Seven."]
    assert join_pieces(pieces, (p.text for p in pieces if p.translate)) == line


def test_a_sentence_over_budget_is_cut_at_clauses_before_words() -> None:
    line = "When the rain stopped, the children ran outside; they played until dark."
    pieces = split_text(line, words, max_tokens=6)
    units = [p.text for p in pieces if p.translate]
    assert units == ["When the rain stopped,", "the children ran outside;", "they played until dark."]
    assert join_pieces(pieces, units) == line


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("First one. Second one.", ["First one.", "Second one."]),
        ("A long clause here, and another one there", ["A long clause here,", "and another one there"]),
        ("one two three four five six seven eight nine", ["one two three four five", "six seven eight nine"]),
        ("Where is the train station?", ["Where is the train station?"]),
    ],
)
def test_split_finer_goes_one_level_down(unit: str, expected: list[str]) -> None:
    pieces = split_finer(unit, "en")
    assert [p.text for p in pieces if p.translate] == expected
    assert join_pieces(pieces, (p.text for p in pieces if p.translate)) == unit
