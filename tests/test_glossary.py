"""Glossaries and terms to keep: loading with clear errors, matching, placing, the guard's check, the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tg_edge import TranslationOptions
from tg_edge.cli import main
from tg_edge.errors import GlossaryError
from tg_edge.glossary import Glossary, holds, load_terms
from tg_edge.guards import Problem, check
from tg_edge.steering import MARGIN, TermSteer, term_steer

TERMS = Glossary.from_dict(
    {"invoice": "Rechnung", "customer account": "Kundenkonto", "account": "Konto", "company": "Firma"},
    keep=["GitHub", "Go"],
)


def _terms(text: str, glossary: Glossary = TERMS) -> list[str]:
    return [text[m.start : m.end] for m in glossary.matches(text, "en")]


def test_tsv_with_a_pair_header_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "terms.tsv"
    path.write_text(
        "en\tde\n# billing\ninvoice\tRechnung\n\ncustomer account\tKundenkonto\n", encoding="utf-8"
    )
    glossary = Glossary.from_file(path)
    assert glossary.entries == (("invoice", "Rechnung"), ("customer account", "Kundenkonto"))
    assert (glossary.source, glossary.target) == ("en", "de")
    assert glossary.applies_to("en", "de") and not glossary.applies_to("en", "fr")


def test_csv_with_a_word_header_and_quoted_cells(tmp_path: Path) -> None:
    path = tmp_path / "terms.csv"
    path.write_text('source,target\ninvoice,facture\n"terms, conditions",CGV\n', encoding="utf-8")
    glossary = Glossary.from_file(path)
    assert glossary.entries == (("invoice", "facture"), ("terms, conditions", "CGV"))
    assert glossary.source is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "holds no glossary entries"),
        ("# only a comment\n\n", "holds no glossary entries"),
        ("invoice\tRechnung\ncontract\n", "line 2: expected source<TAB>target"),
        ("invoice\tRechnung\nbill\tRechnung\tFaktura\n", "line 2: expected source<TAB>target"),
        ("invoice\tRechnung\nInvoice\tFaktura\n", "two translations for 'Invoice'"),
    ],
)
def test_bad_glossary_files_name_the_problem(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GlossaryError, match=message) as caught:
        Glossary.from_file(path)
    assert "\n" not in str(caught.value) and "bad.tsv" in str(caught.value)


def test_unreadable_glossary_files(tmp_path: Path) -> None:
    with pytest.raises(GlossaryError, match="no such glossary file"):
        Glossary.from_file(tmp_path / "missing.tsv")
    (tmp_path / "latin1.tsv").write_bytes("Stra\xdfe\tstreet\n".encode("latin-1"))
    with pytest.raises(GlossaryError, match="not UTF-8"):
        Glossary.from_file(tmp_path / "latin1.tsv")


def test_whole_words_case_and_inflected_forms() -> None:
    assert _terms("Invoices and an invoice's total; the INVOICE.") == ["Invoices", "invoice's", "INVOICE"]
    assert _terms("The companies and a company.") == ["companies", "company"]
    assert _terms("Invoicing is not an invoice-like thing; reinvoice.") == []


def test_names_and_kept_terms_match_exactly_and_never_inside_words() -> None:
    assert _terms("Go and Google on GitHub; go home; GitHubber.") == ["Go", "GitHub"]
    assert _terms("GitHub's page") == ["GitHub's"]


def test_a_kept_name_wins_over_an_entry_on_the_same_words() -> None:
    glossary = Glossary.from_dict({"hospital": "Klinik"}, keep=["Hospital"])
    text = "Howard University Hospital said the hospital is full."
    assert [(m.required, m.keep) for m in glossary.matches(text, "en")] == [
        ("Hospital", True),
        ("Klinik", False),
    ]


def test_longest_match_wins() -> None:
    text = "Open the customer account, then any account."
    assert _terms(text) == ["customer account", "account"]
    assert [m.required for m in TERMS.matches(text, "en")] == ["Kundenkonto", "Konto"]


def test_urls_code_and_tags_are_left_alone() -> None:
    text = "See https://example.com/invoice, `invoice`, <invoice> and mail invoice@example.com."
    assert _terms(text) == []
    assert TERMS.place(text, "en") == text


def test_place_writes_target_terms_and_leaves_kept_ones() -> None:
    assert TERMS.place("Invoices for the customer account on GitHub.", "en") == (
        "Rechnung for the Kundenkonto on GitHub."
    )
    lower = Glossary.from_dict({"invoice": "facture"})
    assert lower.place("Invoice sent.", "en") == "Facture sent."


def test_unmet_names_missing_target_terms_and_changed_kept_ones() -> None:
    source = "The invoice for the customer account is on GitHub."
    assert TERMS.unmet(source, "Die Rechnungen für das Kundenkonto sind auf GitHub.", source="en") == []
    assert TERMS.unmet(source, "Die Faktura für das Kundenkonto ist auf Github.", source="en") == [
        "Rechnung",
        "GitHub",
    ]
    assert TERMS.unmet("Nothing here.", "Nichts.", source="en") == []


def test_output_check_accepts_inflection_and_case_but_kept_terms_only_verbatim() -> None:
    assert holds("Zwei Rechnungen.", "Rechnung") and holds("rechnung", "Rechnung")
    assert not holds("Abrechnung", "Rechnung")
    assert holds("GitHubs Seite", "GitHub", keep=True) and not holds("Github", "GitHub", keep=True)


def test_a_target_term_may_begin_a_compound_where_the_language_writes_them_as_one_word() -> None:
    assert holds("Die Rechnungsadresse fehlt.", "Rechnung", language="de")
    assert not holds("Die Rechnungsadresse fehlt.", "Rechnung")  # no language: no compounds
    assert not holds("la facturation", "facture", language="fr")
    assert not holds("Die Abrechnung fehlt.", "Rechnung", language="de")  # beginning one, not inside
    source = "Please pay the invoice."
    assert TERMS.unmet(source, "Bitte die Rechnungssumme zahlen.", source="en", target="de") == []


def test_terminology_is_a_problem_and_the_least_of_them() -> None:
    source = "Please pay the invoice for your customer account by Friday."
    good = "Bitte bezahlen Sie die Rechnung für Ihr Kundenkonto bis Freitag."
    bad = "Bitte bezahlen Sie die Faktura für Ihr Kundenkonto bis Freitag."
    assert check(source, good, "eos", source="en", target="de", terms=TERMS) is None
    assert check(source, bad, "eos", source="en", target="de", terms=TERMS) is Problem.TERMINOLOGY
    assert check(source, "", "eos", source="en", target="de", terms=TERMS) is Problem.EMPTY
    assert list(Problem)[0] is Problem.TERMINOLOGY


def test_options_take_a_dict_a_file_or_a_glossary_and_check_the_pair(tmp_path: Path) -> None:
    path = tmp_path / "fr.tsv"
    path.write_text("en\tfr\ninvoice\tfacture\n", encoding="utf-8")
    assert TranslationOptions(glossary={"invoice": "Rechnung"}).terms("en", "de") == Glossary.from_dict(
        {"invoice": "Rechnung"}
    )
    options = TranslationOptions(glossary=str(path), keep=("GitHub",))
    assert options.terms("en", "fr") == Glossary.from_dict({"invoice": "facture"}, keep=["GitHub"])
    with pytest.raises(GlossaryError, match="for en→fr, not en→de"):
        options.terms("en", "de")
    assert TranslationOptions().terms("en", "de") is None
    hash(options)  # options stay hashable with a glossary


def test_load_terms_picks_the_files_for_the_pair(tmp_path: Path) -> None:
    (tmp_path / "de.tsv").write_text("en\tde\ninvoice\tRechnung\n", encoding="utf-8")
    (tmp_path / "fr.tsv").write_text("en\tfr\ninvoice\tfacture\n", encoding="utf-8")
    (tmp_path / "keep.txt").write_text("# names\nGitHub\ntg-edge\n", encoding="utf-8")
    files = [tmp_path / "de.tsv", tmp_path / "fr.tsv"]
    terms = load_terms(files, ["Go"], [tmp_path / "keep.txt"], source="en", target="fr")
    assert terms == Glossary.from_dict({"invoice": "facture"}, keep=["Go", "GitHub", "tg-edge"])
    with pytest.raises(GlossaryError, match="no glossary file is for en→es"):
        load_terms(files, source="en", target="es")
    assert load_terms([], source="en", target="de") is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "terms.tsv holds no glossary entries"),
        ("invoice\n", "terms.tsv line 1: expected source<TAB>target"),
    ],
)
def test_cli_refuses_a_bad_glossary_before_loading_a_model(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "terms.tsv"
    path.write_text(content, encoding="utf-8")
    env = {"TG_EDGE_MODEL": str(tmp_path / "no-model.gguf")}  # a model load would fail differently
    result = CliRunner().invoke(
        main, ["translate", "-s", "en", "-t", "de", "--glossary", str(path), "Hi"], env=env
    )
    assert result.exit_code == 2
    assert result.output.strip().startswith(f"Error: {message}")
    assert len(result.output.strip().splitlines()) == 1


BILLING = {"invoice": "Rechnung", "car": "Kraftfahrzeug"}
TEXTS = [
    "Please send the invoice for the car today.",
    "Tesla opened a new factory in Berlin.",
    "The weather is nice and the children play outside.",
]


def _consistent(source: str, segment: object, glossary: Glossary) -> None:
    """A segment either holds every term its source asks for, or carries a problem (terminology, or a worse
    one); the terminology problem only where a term is missing."""
    missing = glossary.unmet(source, segment.text, source="en", target="de")  # type: ignore[attr-defined]
    problem = segment.problem  # type: ignore[attr-defined]
    assert problem is not None if missing else problem is not Problem.TERMINOLOGY, (missing, problem)


@pytest.mark.integration
def test_translations_hold_their_terms_or_say_so(translator: object) -> None:
    options = TranslationOptions(glossary=BILLING, keep=("Tesla", "Berlin"))
    glossary = options.terms("en", "de")
    results = translator.translate_many(TEXTS, source="en", target="de", options=options)  # type: ignore[attr-defined]
    for result in results:
        for segment in result.segments:
            _consistent(segment.source, segment, glossary)
    assert not any(
        holds(r.text, term) for r in results[1:] for term in BILLING.values()
    )  # no false insertion
    stream = translator.translate_stream(TEXTS[0], source="en", target="de", options=options)  # type: ignore[attr-defined]
    assert "".join(stream) == stream.result.text
    _consistent(TEXTS[0], stream.result.segments[0], glossary)


@pytest.mark.integration
def test_a_glossary_for_another_pair_is_refused(translator: object) -> None:
    options = TranslationOptions(glossary=Glossary.from_dict(BILLING, source="en", target="de"))
    with pytest.raises(GlossaryError, match="for en→de, not en→fr"):
        translator.translate("Hello.", source="en", target="fr", options=options)  # type: ignore[attr-defined]


def test_steer_takes_a_close_term_writes_it_whole_and_only_once() -> None:
    steer = TermSteer([("rechnung", [[7, 8, 9]], MARGIN)])
    logits = np.zeros(16)
    logits[3], logits[7] = 10.0, 10.0 - MARGIN - 1
    assert steer(logits, 3, "Die") == 3  # the model plainly wants another word
    logits[7] = 10.0 - MARGIN / 2
    assert [steer(logits, 3, "Die"), steer(logits, 3, "Die R"), steer(logits, 3, "Die Rech")] == [7, 8, 9]
    assert steer(logits, 3, "Die Rechnung") == 3  # written: not again


def test_term_steer_spells_target_terms_capitalized_too_but_kept_terms_only_as_they_are() -> None:
    spelled: list[str] = []
    steer = term_steer([("facture", False), ("tg-edge", True)], lambda s: spelled.append(s) or [len(spelled)])
    assert steer is not None and term_steer([], lambda s: [1]) is None
    assert sorted(spelled) == sorted(["Facture", " Facture", "facture", " facture", "tg-edge", " tg-edge"])


def test_a_term_spelled_without_a_space_is_never_glued_to_the_end_of_a_word() -> None:
    glued, spaced = [7, 8], [9, 8]  # "firme", " firme"
    logits = np.zeros(16)
    logits[3], logits[7], logits[9] = 10.0, 10.0, 10.0 - MARGIN - 1
    steer = TermSteer([("firme", [glued, spaced], MARGIN)], glued=[glued])
    assert steer(logits, 3, "Vous devez vous") == 3  # after a letter: not "vousfirme"
    assert steer(logits, 3, "Vous devez l'") == 7  # after an apostrophe a word may begin
    assert TermSteer([("firme", [glued, spaced], MARGIN)])(logits, 3, "vous") == 7  # no spaces: anywhere
    logits = np.zeros(16)
    logits[3], logits[5] = 10.0, 10.0  # the greedy token, and "firme"/"Firme" (5 characters) as close
    made = term_steer([("firme", False)], lambda s: [len(s), 0])  # " firme" is token 6, far behind
    assert made is not None and made(logits, 3, "x") == 3 and made(logits, 3, "(") == 5
    unspaced = term_steer([("firme", False)], lambda s: [len(s), 0], spaced=False)
    assert unspaced is not None and unspaced(logits, 3, "x") == 5


def _steps(steer: TermSteer, gaps: list[float], text: str = "Die") -> list[int]:
    """The steer's choices over one step per gap: the greedy token 3 and the term's first token 7 ``gap``
    logits behind it."""
    chosen = []
    for gap in gaps:
        logits = np.zeros(16)
        logits[3], logits[7] = 10.0, 10.0 - gap
        chosen.append(steer(logits, 3, text))
    return chosen


def test_a_term_never_reached_is_redone_once_where_it_came_closest() -> None:
    steer = TermSteer([("rechnung", [[7, 8, 9]], MARGIN)])
    assert _steps(steer, [9.0, 6.0, 8.0, 7.0]) == [3, 3, 3, 3]  # never within the margin
    assert steer.redo("Die Zahlung") == (1, 7)  # take back from step 1, write the term there
    assert _steps(steer, [9.0, 9.0], "Die R") == [8, 9]  # then the rest of its spelling
    assert _steps(steer, [5.0], "Die Rechnung") == [3]
    assert steer.redo("Die Rechnung kommt") is None  # written now
    again = TermSteer([("rechnung", [[7, 8, 9]], MARGIN)])
    _steps(again, [6.0, 5.0])
    assert again.redo("Die") == (1, 7)
    assert again.redo("Die Zahlung") is None  # once per term: no endless redoing


def test_redo_takes_the_latest_missing_term_first_and_forgets_what_it_took_back() -> None:
    steer = TermSteer([("rechnung", [[7]], MARGIN), ("konto", [[11]], MARGIN)])
    gaps = [(9.0, 5.0), (6.0, 9.0), (9.0, 9.0), (9.0, 4.5)]
    for rechnung, konto in gaps:
        logits = np.zeros(16)
        logits[3], logits[7], logits[11] = 10.0, 10.0 - rechnung, 10.0 - konto
        steer(logits, 3, "x")
    assert steer.redo("x") == (3, 11)  # Konto came closest at step 3, Rechnung at step 1: Konto first
    assert steer.redo("x Konto") == (1, 7)  # Rechnung's step 1 was before what was taken back
    assert steer.redo("x Rechnung Konto") is None
    assert TermSteer([("rechnung", [[7]], MARGIN)], redo=False).redo("x") is None


def test_a_redone_term_taken_back_by_an_earlier_redo_is_redone_again() -> None:
    steer = TermSteer([("rechnung", [[7]], MARGIN), ("konto", [[11]], MARGIN)])

    def step(rechnung: float, konto: float) -> int:
        logits = np.zeros(16)
        logits[3], logits[7], logits[11] = 10.0, 10.0 - rechnung, 10.0 - konto
        return steer(logits, 3, "x")

    for gaps in [(6.0, 9.0), (9.0, 9.0), (9.0, 5.0)]:
        step(*gaps)
    assert steer.redo("x") == (2, 11)  # Konto first, at its step 2
    assert steer.redo("x Konto") == (0, 7)  # Rechnung at step 0 takes Konto back with the tail
    step(9.0, 9.0), step(9.0, 5.0)  # decoding goes on after Rechnung: Konto comes closest at step 2 again
    assert steer.redo("x Rechnung") == (2, 11)  # so Konto is written again, after Rechnung
    assert steer.redo("x Rechnung Konto") is None


class _RedoOnce:
    """A steer that leaves every choice to the model and, when the output first ends, has it take back all
    but its first ``keep`` tokens and write ``token`` next."""

    def __init__(self, keep: int, token: int) -> None:
        self.keep, self.token, self.asked = keep, token, 0

    def __call__(self, logits: np.ndarray, greedy: int, text: str) -> int:
        return greedy

    def redo(self, text: str) -> tuple[int, int] | None:
        self.asked += 1
        return (self.keep, self.token) if self.asked == 1 else None


class _Force:
    """A steer that writes ``tokens`` first, then leaves every choice to the model."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = list(tokens)

    def __call__(self, logits: np.ndarray, greedy: int, text: str) -> int:
        return self.tokens.pop(0) if self.tokens else greedy

    def redo(self, text: str) -> None:
        return None


@pytest.mark.integration
def test_the_scheduler_takes_back_a_tail_and_decodes_on_from_the_redone_token(translator: object) -> None:
    engine, scheduler = translator._engine, translator._scheduler  # type: ignore[attr-defined]
    prompt = engine.tokenize("English: The house is red and the garden is green.\nGerman:", add_bos=True)
    plain = scheduler.generate(prompt, max_tokens=24, stop_at_newline=True)
    assert plain.n_new > 3
    zebra = engine.tokenize(" Zebra", add_bos=False, special=False)[0]
    steer = _RedoOnce(2, zebra)
    (job,) = scheduler.submit_many([prompt], max_tokens=[24], stop_at_newline=True, steer=[steer])
    redone = job.result()
    assert steer.asked >= 1
    assert redone.tokens[:3] == (*plain.tokens[:2], zebra)
    spelled = b"".join(engine.token_bytes(t) for t in redone.tokens).decode("utf-8", "replace")
    assert redone.text == spelled.split("\n")[0]  # the text is its tokens' own, up to the line's end
    (forced,) = scheduler.submit_many(
        [prompt], max_tokens=[24], stop_at_newline=True, steer=[_Force([*plain.tokens[:2], zebra])]
    )
    # The cache held no trace of the taken-back tail: the same continuation as writing the token at once.
    assert redone.tokens[:6] == forced.result().tokens[:6]
    streamed = _RedoOnce(2, zebra)
    (job,) = scheduler.submit_many(
        [prompt], max_tokens=[24], stop_at_newline=True, stream=True, steer=[streamed]
    )
    assert "".join(job.pieces()) == plain.text and streamed.asked == 0  # what was streamed stays
