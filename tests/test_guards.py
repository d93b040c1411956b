"""Guards: which outputs look cut, looped, empty or of the wrong length, and the split-and-retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tg_edge import TranslationOptions, Translator
from tg_edge.bench.flores import load_flores
from tg_edge.guards import RATIO_HIGH, RATIO_LOW, check, is_empty, length_ratio, trim_repetition
from tg_edge.translator import SegmentResult

from .guard_fakes import retry

SOURCE = "The committee said on Monday that the new bridge would open next spring."


@pytest.mark.parametrize(
    ("output", "stop", "problem"),
    [
        (
            "Der Ausschuss sagte am Montag, die neue Brücke werde im nächsten Frühjahr eröffnet.",
            "newline",
            None,
        ),
        ("", "eos", "empty"),
        ("   ", "newline", "empty"),
        ("Der Ausschuss sagte am Montag, die neue", "length", "length"),
        ("Brücke Brücke Brücke Brücke Brücke Brücke", "loop", "loop"),
        ("Der Ausschuss.", "newline", "ratio"),  # most of the sentence is missing
        (
            "Der Ausschuss sagte am Montag, die neue Brücke werde im nächsten Frühjahr eröffnet. " * 3,
            "eos",
            "ratio",
        ),
    ],
)
def test_check_names_what_is_wrong(output: str, stop: str, problem: str | None) -> None:
    assert check(SOURCE, output, stop, source="en", target="de") == problem


def test_short_segments_are_not_judged_by_length() -> None:
    assert check("OK.", "In Ordnung, das machen wir so.", "eos", source="en", target="de") is None


def test_length_ratio_knows_that_chinese_is_shorter() -> None:
    english = "Where can I buy a ticket for the train to the airport?"
    assert 0.7 < length_ratio(english, "我在哪里可以买到去机场的火车票？", "en", "zh-Hans") < 1.3
    assert length_ratio(english, "我在哪里可以买到去机场的火车票？", "en", "de") < RATIO_LOW


@pytest.mark.parametrize("target", ["de", "fr", "ja", "zh-Hans", "ar", "ru"])
def test_human_translations_almost_never_trip_the_length_guard(target: str) -> None:
    """FLORES-200's human translations are the yardstick: at most 1 % may fall outside the bounds."""
    english, other = load_flores("en"), load_flores(target)
    tripped = [check(e, o, "eos", source="en", target=target) for e, o in zip(english, other, strict=False)]
    assert sum(t is not None for t in tripped) <= len(english) // 100
    back = [check(o, e, "eos", source=target, target="en") for e, o in zip(english, other, strict=False)]
    assert sum(t is not None for t in back) <= len(english) // 100


def test_bounds_are_sane() -> None:
    assert 0 < RATIO_LOW < 1 < RATIO_HIGH


@pytest.mark.integration
def test_a_paragraph_the_model_garbles_is_split_into_sentences_and_retried_in_one_batch(
    demo_model: Path,
) -> None:
    """The 270M demo model answers a four-sentence paragraph with one short line; the guard catches the
    length, cuts the paragraph into its sentences and sends all of them in one call."""
    paragraph = " ".join(load_flores("en", 4))
    with Translator(demo_model, threads=2, options=TranslationOptions(unit="paragraph")) as translator:
        calls: list[int] = []
        submit = translator._submit

        def watched(batch, *args, **kwargs):
            calls.append(len(batch))
            return submit(batch, *args, **kwargs)

        translator._submit = watched
        result = translator.translate(paragraph, source="en", target="de")
    segment = result.segments[0]
    assert calls[0] == 1 and calls[1] == 4, calls  # the paragraph, then its four sentences together
    assert segment.attempts >= 2 and segment.source == paragraph
    assert length_ratio(paragraph, segment.text, "en", "de") > RATIO_LOW
    assert segment.problem is None or segment.problem_message  # kept output is either whole or reported


@pytest.mark.parametrize(
    ("looping", "kept"),
    [
        (
            "Hahahaha! Ha Ha Hahahaha! Ha Ha Hahahaha! Ha Ha Hahahaha! Ha Ha",
            "Hahahaha! Ha Ha Hahahaha! Ha Ha",
        ),
        ("Der Preis: 10 € / 10 € / 10 € / 10 € / 10 €", "Der Preis: 10 € / 10 €"),
        ("very, very, very good", "very, very, very good"),  # no repeated tail: left alone
    ],
)
def test_a_looping_output_keeps_one_copy_of_its_repeated_tail(looping: str, kept: str) -> None:
    assert trim_repetition(looping) == kept


def _result(unit: str, text: str, stop: str = "newline") -> SegmentResult:
    return SegmentResult(
        source=unit, text=text, stop=stop, prompt_tokens=1, new_tokens=1, reused_tokens=0, seconds=0.0
    )


def _answers(table: dict[str, str]):
    """A translate function that answers each unit from ``table`` (``""`` for any other), counting its calls."""
    calls: list[list[str]] = []

    def translate_units(units: list[str]) -> list[SegmentResult]:
        calls.append(list(units))
        return [_result(unit, table.get(unit, "")) for unit in units]

    return translate_units, calls


@pytest.mark.parametrize("output", ["", "   ", "…", "-- ?"])
def test_an_output_without_a_word_of_a_worded_source_counts_as_empty(output: str) -> None:
    assert is_empty("Name", output) and check("Name", output, "newline", source="en", target="de") == "empty"
    assert not is_empty("Name", "Name") and not is_empty("---", "***") and not is_empty("", "")
    assert is_empty("```", "")  # a source without words still must not vanish


def test_a_unit_that_stays_empty_keeps_its_source_text_and_says_so() -> None:
    """Every attempt empty: the result is the source, flagged ``kept``, never less than the user gave."""
    translate_units, calls = _answers({})
    units = ["Q:", "```", "Where is the station?"]
    first = translate_units(units)
    out = retry(units, first, translate_units, source="en", target="de")
    assert [r.text for r in out] == units
    assert [r.problem for r in out] == ["kept"] * 3
    assert len(calls) == 1  # none of them can be cut finer: no retry batch
    assert out[0].problem_message == "came back empty; the source text was kept"


def test_a_piece_that_stays_empty_keeps_its_source_inside_the_mended_unit() -> None:
    """A two-sentence unit comes back empty; retried sentence by sentence, one is translated and the other
    stays empty: the retried unit holds the translation and the untranslated sentence's source."""
    unit = "The shop opens at nine. Q: when does it close?"
    translate_units, _ = _answers({"The shop opens at nine.": "Der Laden öffnet um neun."})
    out = retry([unit], translate_units([unit]), translate_units, source="en", target="de")
    assert out[0].text == "Der Laden öffnet um neun. Q: when does it close?"
    assert out[0].problem == "kept" and out[0].attempts >= 2


def test_a_real_translation_is_never_replaced_by_its_source() -> None:
    translate_units, _ = _answers({"Good morning.": "Guten Morgen."})
    out = retry(
        ["Good morning."], translate_units(["Good morning."]), translate_units, source="en", target="de"
    )
    assert out[0].text == "Guten Morgen." and out[0].problem is None
