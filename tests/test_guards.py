"""Guards: which outputs look cut, looped, empty or of the wrong length, and the split-and-retry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tg_edge import TranslationOptions, Translator
from tg_edge.bench.flores import load_flores
from tg_edge.guards import RATIO_HIGH, RATIO_LOW, check, length_ratio, trim_repetition

SOURCE = "The committee said on Monday that the new bridge would open next spring."


@pytest.mark.parametrize(
    ("output", "stop", "finding"),
    [
        ("Der Ausschuss sagte am Montag, die neue Brücke werde im nächsten Frühjahr eröffnet.", "newline", None),
        ("", "eos", "empty"),
        ("   ", "newline", "empty"),
        ("Der Ausschuss sagte am Montag, die neue", "length", "length"),
        ("Brücke Brücke Brücke Brücke Brücke Brücke", "loop", "loop"),
        ("Der Ausschuss.", "newline", "ratio"),  # most of the sentence is missing
        ("Der Ausschuss sagte am Montag, die neue Brücke werde im nächsten Frühjahr eröffnet. " * 3, "eos", "ratio"),
    ],
)
def test_check_names_what_is_wrong(output: str, stop: str, finding: str | None) -> None:
    assert check(SOURCE, output, stop, source="en", target="de") == finding


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
    tripped = [check(e, o, "eos", source="en", target=target) for e, o in zip(english, other)]
    assert sum(t is not None for t in tripped) <= len(english) // 100
    back = [check(o, e, "eos", source=target, target="en") for e, o in zip(english, other)]
    assert sum(t is not None for t in back) <= len(english) // 100


def test_bounds_are_sane() -> None:
    assert 0 < RATIO_LOW < 1 < RATIO_HIGH


@pytest.mark.integration
def test_a_paragraph_the_model_garbles_is_split_into_sentences_and_retried_in_one_batch(demo_model: Path) -> None:
    """The 270M demo model answers a four-sentence paragraph with one short line; the guard catches the
    length, cuts the paragraph into its sentences and sends all of them in one call."""
    paragraph = " ".join(load_flores("en", 4))
    with Translator(demo_model, threads=2, options=TranslationOptions(unit="paragraph")) as translator:
        calls: list[int] = []
        units = translator._translate_units  # noqa: SLF001 - watch the batches the guard sends

        def watched(batch, source, target):  # noqa: ANN001, ANN202
            calls.append(len(batch))
            return units(batch, source, target)

        translator._translate_units = watched  # noqa: SLF001
        result = translator.translate(paragraph, source="en", target="de")
    segment = result.segments[0]
    assert calls[0] == 1 and calls[1] == 4, calls  # the paragraph, then its four sentences together
    assert segment.attempts >= 2 and segment.source == paragraph
    assert length_ratio(paragraph, segment.text, "en", "de") > RATIO_LOW
    assert segment.guard is None or segment.problem  # kept output is either whole or reported


@pytest.mark.parametrize(
    ("looping", "kept"),
    [
        ("Hahahaha! Ha Ha Hahahaha! Ha Ha Hahahaha! Ha Ha Hahahaha! Ha Ha", "Hahahaha! Ha Ha Hahahaha! Ha Ha"),
        ("Der Preis: 10 € / 10 € / 10 € / 10 € / 10 €", "Der Preis: 10 € / 10 €"),
        ("very, very, very good", "very, very, very good"),  # no repeated tail: left alone
    ],
)
def test_a_looping_output_keeps_one_copy_of_its_repeated_tail(looping: str, kept: str) -> None:
    assert trim_repetition(looping) == kept
