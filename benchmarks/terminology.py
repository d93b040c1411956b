"""Glossary terms and do-not-translate names, with and without tg-edge's terminology support, on FLORES-200.

    python benchmarks/terminology.py --count 60 -t fr,es,de --repeats 2 --keep /tmp/terminology

Sentences come from FLORES-200 devtest from line ``--start`` (past the lines ``tg-edge bench`` uses): the
first ``--count`` that hold a source term of the pair's glossary. The glossary (:data:`TERMS`) maps nouns
frequent in FLORES to a valid but less usual translation (``car`` → ``Kraftfahrzeug``, ``automobile``,
``automóvil``), the term a house style might require and the model seldom writes unasked. The terms to keep
are the capitalized names inside the picked sentences that the pair's references keep verbatim wherever
they occur (``--names all``: every such name, "Thursday" and "Chinese" too). For each pair the same loaded
model translates the sentences without the glossary, then with all of it at once (so each sentence also
tests the entries its source lacks: false insertions) once per enforcement variant (``--enforcement``:
``steering`` = placing, steering within the margin and the guards' retry; ``redo`` = that and a missing term
redone where it came closest), then without the glossary in reversed order (the control: what batching
alone moves), side by side, each run one ``translate_many`` call.

Reported per pair and variant: required terms in the output without and with the glossary, kept names
verbatim without and with (both as the terminology check counts them), false insertions (a target term in
an output whose source lacks its source term, not even inside a kept name, and that the model did not write
without the glossary either), chrF++ against the references without and with on the untouched words (the
glossary's target term and the term's usual translations, :data:`USUAL`, cut from outputs and references
alike) and on all words, the units flagged ``terminology``, the runs' seconds (summed over ``--repeats``
rounds in alternating order) and their ratio, and the ratio of their ``llama_decode`` calls and tokens
(work that other load on the machine cannot change).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
import sacrebleu

from tg_edge import TranslationOptions, Translator, TranslatorStats, steering
from tg_edge.bench.flores import load_flores
from tg_edge.glossary import Glossary, holds
from tg_edge.guards import Problem

# Nouns frequent in FLORES and, per language, a valid but less usual translation of each (the term a
# house style might require): the model seldom writes it unasked, so adherence cannot come by accident.
TERMS = {
    "de": {
        "people": "Personen",
        "island": "Eiland",
        "country": "Staat",
        "animal": "Lebewesen",
        "city": "Kommune",
        "food": "Nahrung",
        "team": "Mannschaft",
        "river": "Strom",
        "mountain": "Gebirge",
        "car": "Kraftfahrzeug",
        "war": "Konflikt",
        "company": "Konzern",
        "disease": "Erkrankung",
        "road": "Fahrbahn",
        "money": "Geldmittel",
        "insect": "Kerbtier",
        "species": "Spezies",
        "hospital": "Klinik",
        "king": "Monarch",
        "building": "Bauwerk",
        "plane": "Luftfahrzeug",
        "weather": "Witterung",
        "book": "Werk",
        "election": "Abstimmung",
        "scientist": "Forscher",
        "president": "Staatsoberhaupt",
        "church": "Gotteshaus",
        "bridge": "Überführung",
        "border": "Staatsgrenze",
        "boat": "Kahn",
        "ticket": "Fahrschein",
        "market": "Basar",
    },
    "fr": {
        "people": "individus",
        "country": "nation",
        "animal": "bêtes",
        "city": "agglomération",
        "food": "nourriture",
        "team": "formation",
        "river": "cours d'eau",
        "mountain": "massif",
        "government": "exécutif",
        "car": "automobile",
        "war": "conflit",
        "company": "firme",
        "disease": "pathologie",
        "road": "chaussée",
        "money": "fonds",
        "law": "législation",
        "hospital": "clinique",
        "king": "monarque",
        "building": "édifice",
        "ship": "vaisseau",
        "book": "ouvrage",
        "election": "scrutin",
        "scientist": "chercheur",
        "church": "sanctuaire",
        "bridge": "viaduc",
        "airport": "aérogare",
        "boat": "embarcation",
        "market": "foire",
    },
    "es": {
        "people": "individuos",
        "country": "nación",
        "city": "urbe",
        "food": "alimentos",
        "team": "conjunto",
        "children": "menores",
        "mountain": "monte",
        "government": "ejecutivo",
        "car": "automóvil",
        "war": "conflicto",
        "company": "firma",
        "disease": "padecimiento",
        "road": "calzada",
        "money": "fondos",
        "law": "legislación",
        "hospital": "clínica",
        "king": "monarca",
        "building": "edificación",
        "ship": "navío",
        "plane": "aeronave",
        "court": "juzgado",
        "book": "obra",
        "election": "comicios",
        "scientist": "investigador",
        "president": "mandatario",
        "church": "templo",
        "bridge": "viaducto",
        "airport": "aeródromo",
        "boat": "lancha",
        "ticket": "boleto",
        "market": "feria",
    },
}
# The usual translations of each glossary term (what the references and the model write unasked): with the
# target term, they are the words the glossary touches, cut from outputs and references alike before chrF++.
USUAL = {
    "de": {
        "people": "Menschen Leute Volk Bevölkerung",
        "island": "Insel",
        "country": "Land Länder",
        "animal": "Tier",
        "city": "Stadt Städte",
        "food": "Essen Lebensmittel Speise",
        "team": "Team",
        "river": "Fluss Flüsse",
        "mountain": "Berg",
        "car": "Auto Wagen Fahrzeug",
        "war": "Krieg",
        "company": "Unternehmen Firma Firmen Gesellschaft",
        "disease": "Krankheit",
        "road": "Straße",
        "money": "Geld",
        "insect": "Insekt",
        "species": "Art Arten",
        "hospital": "Krankenhaus Spital",
        "king": "König",
        "building": "Gebäude",
        "plane": "Flugzeug",
        "weather": "Wetter",
        "book": "Buch Bücher",
        "election": "Wahl",
        "scientist": "Wissenschaftler",
        "president": "Präsident",
        "church": "Kirche",
        "bridge": "Brücke",
        "border": "Grenze",
        "boat": "Boot",
        "ticket": "Ticket Fahrkarte Karte",
        "market": "Markt Märkte",
    },
    "fr": {
        "people": "personnes gens peuple population",
        "country": "pays",
        "animal": "animal animaux",
        "city": "ville",
        "food": "aliments alimentation repas",
        "team": "équipe",
        "river": "rivière fleuve",
        "mountain": "montagne mont",
        "government": "gouvernement",
        "car": "voiture auto véhicule",
        "war": "guerre",
        "company": "entreprise société compagnie",
        "disease": "maladie",
        "road": "route rue",
        "money": "argent",
        "law": "loi",
        "hospital": "hôpital hôpitaux",
        "king": "roi",
        "building": "bâtiment immeuble",
        "ship": "navire bateau",
        "book": "livre",
        "election": "élection",
        "scientist": "scientifique",
        "church": "église",
        "bridge": "pont",
        "airport": "aéroport",
        "boat": "bateau",
        "market": "marché",
    },
    "es": {
        "people": "personas gente pueblo",
        "country": "país países",
        "city": "ciudad",
        "food": "comida alimento",
        "team": "equipo",
        "children": "niños hijos",
        "mountain": "montaña",
        "government": "gobierno",
        "car": "coche carro auto",
        "war": "guerra",
        "company": "empresa compañía",
        "disease": "enfermedad",
        "road": "carretera camino",
        "money": "dinero",
        "law": "ley leyes",
        "hospital": "hospital",
        "king": "rey",
        "building": "edificio",
        "ship": "barco buque",
        "plane": "avión aviones",
        "court": "tribunal corte",
        "book": "libro",
        "election": "elección elecciones",
        "scientist": "científico",
        "president": "presidente",
        "church": "iglesia",
        "bridge": "puente",
        "airport": "aeropuerto",
        "boat": "barco bote",
        "ticket": "billete entrada",
        "market": "mercado",
    },
}
# The enforcement variants measured side by side: steering alone (placing, steering within the margin, the
# guards' retry) and with a missing term redone where it came closest (tg_edge.steering.TermSteer.redo).
ENFORCEMENT: dict[str, dict] = {"steering": {"REDO": False}, "redo": {"REDO": True}}
# The control run: no glossary, the sentences in reverse order. Each output is decoded in other company, and
# batch shapes change the last bits of the logits (near-ties flip), so it moves as much as batching alone
# moves a run: the noise any variant's chrF++ difference must be read against.
CONTROL = "reordered"
# Capitalized words inside a sentence (not after a full stop): candidate names to keep as they are.
_NAME = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{3,})\b(?! [A-Z])")
# Which candidates are the terms to keep: the names the pair's reference keeps verbatim (a do-not-translate
# list holds names a translator keeps: "Xinhua", "Nintendo"), or all of them ("Thursday", "Chinese", "Court"
# too: words a translator translates, so keeping them fights the reference by construction).
NAMES = ("reference", "all")
# Which targets the glossary asks for: ``unusual``, :data:`TERMS` (the model seldom writes them unasked), or
# ``usual``, each entry's first usual translation in :data:`USUAL` (which the model writes about half the
# time unasked): what enforcing terms costs the rest of a sentence when the terms themselves are no surprise.
TERM_KINDS = ("unusual", "usual")


def targets(target: str, kind: str = "unusual") -> dict[str, str]:
    """The glossary's entries for ``target`` (see :data:`TERM_KINDS`)."""
    if kind == "usual":
        return {term: USUAL[target][term].split()[0] for term in TERMS[target]}
    return TERMS[target]


def pick(
    sentences: list[str],
    references: list[str],
    target: str,
    count: int,
    names: str = "reference",
    kind: str = "unusual",
) -> tuple[Glossary, list[int]]:
    """The pair's glossary (its entries of ``kind`` and the names to keep in the picked sentences) and the
    first ``count`` lines holding one of its source terms."""
    terms = targets(target, kind)
    entries = Glossary.from_dict(terms)
    lines = [i for i, sentence in enumerate(sentences) if entries.matches(sentence, "en")][:count]
    found = {name: None for i in lines for name in _NAME.findall(sentences[i]) if name not in terms}
    if names == "reference":
        # Kept wherever it stands: so a name only where every picked reference whose source holds it keeps it.
        found = {
            name: None
            for name in found
            if all(
                holds(references[i], name, keep=True) for i in lines if holds(sentences[i], name, keep=True)
            )
        }
    return Glossary.from_dict(terms, keep=list(found)), lines


def score(
    sources: list[str], outputs: list[str], glossary: Glossary, plain: list[str], target: str
) -> dict[str, int]:
    """Required terms and kept names met, and false insertions, over ``outputs`` (``plain``: the same sources
    translated without the glossary; both in ``target``), as the terminology check counts them."""
    out = {"required": 0, "required_met": 0, "kept": 0, "kept_met": 0, "false_insertions": 0}
    entries = Glossary.from_dict(glossary.entries)
    for source, output, own in zip(sources, outputs, plain, strict=True):
        matches = glossary.matches(source, "en")
        for match in {(m.required, m.keep) for m in matches}:
            met = holds(output, match[0], keep=match[1], language=target)
            out["kept" if match[1] else "required"] += 1
            out["kept_met" if match[1] else "required_met"] += met
        # A target term whose source term is nowhere in the sentence (not even inside a kept name) and that
        # the model did not write without the glossary either.
        # Not inside a term the sentence asks for ("Staat" in a required "Staatsgrenze").
        present = {m.required for m in entries.matches(source, "en")}
        rest = untouched(output, sorted(present, key=len, reverse=True))
        out["false_insertions"] += sum(
            holds(rest, wanted, language=target) and not holds(own, wanted, language=target)
            for _, wanted in glossary.entries
            if wanted not in present
        )
    return out


def touched(source: str, glossary: Glossary, target: str) -> list[str]:
    """The words the glossary touches in a translation of ``source``: for each entry whose source term it
    holds, the target term and the term's usual translations."""
    return [
        word
        for match in glossary.matches(source, "en")
        if not match.keep
        for word in [match.required, *USUAL[target].get(match.term.casefold(), "").split()]
    ]


def untouched(text: str, words: list[str]) -> str:
    """``text`` without ``words`` (their inflected forms too)."""
    for word in words:
        text = re.sub(rf"(?<!\w){re.escape(word)}[^\W\d_]{{0,4}}(?!\w)", "", text, flags=re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", text).strip()


def chrf_untouched(outputs: list[str], references: list[str], cuts: list[list[str]]) -> float:
    """chrF++ of ``outputs`` against ``references``, both without the words the glossary touches."""
    cut = [untouched(text, words) for text, words in zip(outputs, cuts, strict=True)]
    cut_refs = [untouched(text, words) for text, words in zip(references, cuts, strict=True)]
    return sacrebleu.CHRF(word_order=2).corpus_score(cut, [cut_refs]).score


def chrf_gap_interval(
    before: list[str], after: list[str], references: list[str], cuts: list[list[str]], rounds: int = 1000
) -> tuple[float, float]:
    """The 95% interval of chrF++ (untouched words) of ``after`` minus ``before`` over the sentences resampled
    with replacement (paired bootstrap, as sacrebleu's own significance test does it)."""
    # sacrebleu keeps its per-sentence statistics behind private names; its own paired bootstrap
    # (sacrebleu.significance) uses these two the same way.
    chrf = sacrebleu.CHRF(word_order=2)
    sentence_stats = chrf._extract_corpus_statistics  # noqa: SLF001
    score = chrf._compute_score_from_stats  # noqa: SLF001
    cut_refs = [[untouched(text, words) for text, words in zip(references, cuts, strict=True)]]

    def stats(outputs: list[str]) -> np.ndarray:
        return np.array(
            sentence_stats([untouched(t, w) for t, w in zip(outputs, cuts, strict=True)], cut_refs)
        )

    a, b = stats(before), stats(after)
    samples = np.random.default_rng(0).integers(0, len(a), (rounds, len(a)))
    gaps = sorted(score(b[i].sum(0)).score - score(a[i].sum(0)).score for i in samples)
    return gaps[int(0.025 * rounds)], gaps[int(0.975 * rounds) - 1]


def run(
    translator: Translator,
    sources: list[str],
    target: str,
    glossary: Glossary | None,
    settings: dict,
    reverse: bool = False,
) -> tuple[list, float, TranslatorStats]:
    """One ``translate_many`` call, its seconds and its work, under ``settings`` (names in
    :mod:`tg_edge.steering`); with ``reverse``, the sources go in last to first (other batches), the results
    come back in their order."""
    saved = {name: getattr(steering, name) for name in settings}
    for name, value in settings.items():
        setattr(steering, name, value)
    order = sources[::-1] if reverse else sources
    try:
        before = translator.stats
        started = time.perf_counter()
        results = translator.translate_many(
            order, source="en", target=target, options=TranslationOptions(glossary=glossary)
        )
        took = time.perf_counter() - started
        return results[::-1] if reverse else results, took, translator.stats.since(before)
    finally:
        for name, value in saved.items():
            setattr(steering, name, value)


def measure(
    translator: Translator, sources: list[str], target: str, glossary: Glossary, variants: dict, repeats: int
) -> tuple[dict[str, list], dict[str, float], dict[str, TranslatorStats]]:
    """Each run's results, its seconds summed over ``repeats`` rounds and its work in one round: without the
    glossary, then each variant, then without again in reversed order (:data:`CONTROL`: how much batching
    alone moves the outputs), in turn; the order flips every other round so no run always goes first."""
    runs = {
        "without": (None, {}),
        **{name: (glossary, settings) for name, settings in variants.items()},
        CONTROL: (None, {}, True),
    }
    results: dict[str, list] = {}
    work: dict[str, TranslatorStats] = {}
    seconds = dict.fromkeys(runs, 0.0)
    for round_ in range(repeats):
        for name in list(runs)[:: -1 if round_ % 2 else 1]:
            results[name], took, work[name] = run(translator, sources, target, *runs[name])
            seconds[name] += took
    return results, seconds, work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=50, help="sentences per pair")
    parser.add_argument("--start", type=int, default=200, help="first FLORES devtest line")
    parser.add_argument("-t", "--targets", default="de,fr,es")
    parser.add_argument("-m", "--model", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="write outputs and the glossaries here")
    parser.add_argument("--names", choices=NAMES, default=NAMES[0], help="which names to keep (see NAMES)")
    parser.add_argument("--terms", choices=TERM_KINDS, default=TERM_KINDS[0], help="see TERM_KINDS")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of runs the times are summed over")
    parser.add_argument(
        "--enforcement",
        default=",".join(ENFORCEMENT),
        help=f"the variants to run with the glossary, comma-separated (default: {','.join(ENFORCEMENT)})",
    )
    args = parser.parse_args()
    names = args.enforcement.split(",")
    if unknown := [name for name in names if name not in ENFORCEMENT]:
        parser.error(f"unknown enforcement {', '.join(unknown)} (choose from {', '.join(ENFORCEMENT)})")
    variants = {name: ENFORCEMENT[name] for name in names}
    lines = load_flores("en", start=args.start)
    rows = []
    with Translator(args.model, threads=args.threads) as translator:
        translator.translate("Warm-up.", source="en", target="de")
        for target in args.targets.split(","):
            refs_all = load_flores(target, start=args.start)
            glossary, chosen = pick(lines, refs_all, target, args.count, args.names, args.terms)
            sources = [lines[i] for i in chosen]
            references = [refs_all[i] for i in chosen]
            cuts = [touched(source, glossary, target) for source in sources]
            results, seconds, work = measure(translator, sources, target, glossary, variants, args.repeats)
            outputs = {name: [r.text for r in runs] for name, runs in results.items()}
            plain = outputs["without"]
            chrf = sacrebleu.CHRF(word_order=2)
            before = score(sources, plain, glossary, plain, target)
            for name in [*variants, CONTROL]:
                after = score(sources, outputs[name], glossary, plain, target)
                row = {
                    "pair": f"en→{target}",
                    "enforcement": name,
                    "sentences": len(sources),
                    "entries": len(glossary.entries),
                    "kept_names": len(glossary.keep),
                    "required": after["required"],
                    "required_without": before["required_met"] / max(1, before["required"]),
                    "required_with": after["required_met"] / max(1, after["required"]),
                    "kept": after["kept"],
                    "kept_without": before["kept_met"] / max(1, before["kept"]),
                    "kept_with": after["kept_met"] / max(1, after["kept"]),
                    "false_insertions": after["false_insertions"],
                    "chrf_without": chrf_untouched(plain, references, cuts),
                    "chrf_with": chrf_untouched(outputs[name], references, cuts),
                    "chrf_gap_95": chrf_gap_interval(plain, outputs[name], references, cuts),
                    "chrf_all_without": chrf.corpus_score(plain, [references]).score,
                    "chrf_all_with": chrf.corpus_score(outputs[name], [references]).score,
                    "flagged": sum(
                        s.problem is Problem.TERMINOLOGY for r in results[name] for s in r.segments
                    ),
                    "seconds_without": seconds["without"],
                    "seconds_with": seconds[name],
                    "time_ratio": seconds[name] / seconds["without"],
                    # Work other load cannot change: llama_decode calls and the tokens handed to them.
                    "decode_steps_ratio": work[name].decode_steps / work["without"].decode_steps,
                    "batch_tokens_ratio": work[name].batch_tokens / work["without"].batch_tokens,
                }
                rows.append(row)
                print(json.dumps(row, ensure_ascii=False), flush=True)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / f"en-{target}.json").write_text(
                    json.dumps(
                        {
                            "glossary": glossary.entries,
                            "keep": glossary.keep,
                            "sources": sources,
                            **outputs,
                            "references": references,
                        },
                        ensure_ascii=False,
                        indent=1,
                    ),
                    encoding="utf-8",
                )
    print(table(rows))


def table(rows: list[dict]) -> str:
    head = (
        "| pair | enforcement | sentences | required terms without → with | kept names without → with "
        "| false insertions | chrF++ without → with (untouched words) [95% interval of the change] "
        "| chrF++ without → with (all words) "
        "| flagged | time with ÷ without | decode steps, tokens with ÷ without |\n"
        "| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |"
    )
    body = [
        f"| {r['pair']} | {r['enforcement']} | {r['sentences']} "
        f"| {r['required_without']:.0%} → {r['required_with']:.1%} ({r['required']}) "
        f"| {r['kept_without']:.0%} → {r['kept_with']:.1%} ({r['kept']}) | {r['false_insertions']} "
        f"| {r['chrf_without']:.1f} → {r['chrf_with']:.1f} [{r['chrf_gap_95'][0]:+.1f}, {r['chrf_gap_95'][1]:+.1f}] "
        f"| {r['chrf_all_without']:.1f} → {r['chrf_all_with']:.1f} "
        f"| {r['flagged']} | {r['time_ratio']:.2f}× "
        f"| {r['decode_steps_ratio']:.2f}×, {r['batch_tokens_ratio']:.2f}× |"
        for r in rows
    ]
    return "\n".join([head, *body])


if __name__ == "__main__":
    main()
