"""Language detection for source=auto: table-driven on py3langid's real shipped model, and through the CLI."""

import json
from pathlib import Path

import pytest

from tg_edge.errors import DetectionError, LanguageError
from tg_edge.languages import MIN_CONFIDENCE, detect_language, detect_languages

from .conftest import run_cli


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Where is the train station?", "en"),
        ("Wo ist der Bahnhof?", "de"),
        ("Je voudrais un café, s'il vous plaît.", "fr"),
        ("Bom dia, tudo bem com você hoje?", "pt"),
        ("東京は日本の首都です。", "ja"),
        ("我爱你，这是一个很长的中文句子。", "zh"),
        ("שלום עולם, מה שלומך היום?", "he"),
        ("Dziękuję bardzo za pomoc.", "pl"),
        # short texts: only the common languages compete, so these are not Kabyle or Esperanto
        ("Guten Tag", "de"),
        ("Gracias amigo", "es"),
        ("Thank you", "en"),
    ],
)
def test_detects_the_language_as_a_code_of_the_translategemma_table(text: str, code: str) -> None:
    detection = detect_language(text)
    assert detection.language.code == code
    assert MIN_CONFIDENCE <= detection.confidence <= 1.0


def test_candidates_are_ranked_with_confidences_that_sum_to_at_most_one() -> None:
    candidates = detect_languages("Dobar dan, kako ste?", limit=3)
    assert [c.language.code for c in candidates][:1] == ["hr"] and len(candidates) == 3
    confidences = [c.confidence for c in candidates]
    assert confidences == sorted(confidences, reverse=True) and sum(confidences) <= 1.0 + 1e-9
    assert {c.language.code for c in candidates} <= {"hr", "sr", "bs", "sl"}


@pytest.mark.parametrize(
    ("text", "why"),
    [("", "no letters"), ("  123 !? ", "no letters"), ("ok", "too short"), ("Hallo", "too short")],
)
def test_undeterminable_text_is_a_language_error_that_says_what_to_do(text: str, why: str) -> None:
    with pytest.raises(DetectionError, match=why) as caught:
        detect_language(text)
    assert isinstance(caught.value, LanguageError) and "give the source language" in str(caught.value)


def test_a_short_word_still_gets_candidates_from_detect_languages() -> None:
    assert len(detect_languages("Hallo")) == 3  # /detect shows its guesses; only auto translation refuses


def test_cli_auto_without_letters_fails_before_loading_a_model() -> None:
    proc = run_cli("translate", "-s", "auto", "-t", "de", "12345", env={"TG_EDGE_MODEL": "/nonexistent.gguf"})
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"cannot tell which language '12345' is in" in proc.stderr and b"Traceback" not in proc.stderr


@pytest.mark.integration
def test_cli_auto_detects_and_reports_the_source_in_json(demo_model: Path) -> None:
    proc = run_cli(
        "translate",
        "-s",
        "auto",
        "-t",
        "en",
        "--json",
        "Wo ist der Bahnhof?",
        env={"TG_EDGE_MODEL": str(demo_model)},
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (
        data["source"] == "de"
        and data["detected"]["language"] == "de"
        and data["detected"]["confidence"] > 0.9
    )
    assert data["translation"].strip()
