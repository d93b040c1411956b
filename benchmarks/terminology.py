"""Glossary terms and do-not-translate names, with and without tg-edge's terminology support, on FLORES-200.

    python benchmarks/terminology.py --count 30 --start 200 -t fr,es,de --keep /tmp/terminology

Sentences come from FLORES-200 devtest from line ``--start`` (past the lines ``tg-edge bench`` uses): the
first ``--count`` that hold a source term of the pair's glossary. The glossary (:data:`TERMS`) maps nouns
frequent in FLORES to a valid but less usual translation (``car`` → ``Kraftfahrzeug``, ``automobile``,
``automóvil``), the term a house style might require and the model seldom writes unasked; capitalized
names inside the picked sentences are the terms to keep. For each pair the same loaded model translates
the sentences without the glossary, then with all of it at once (so each sentence also tests the entries its
source lacks: false insertions) once per enforcement variant (``--enforcement``: ``steering`` = placing,
steering within the margin and the guards' retry; ``redo`` = that and a missing term redone where it came
closest), side by side, each run one ``translate_many`` call.

Reported per pair and variant: required terms in the output without and with the glossary, kept names
verbatim without and with, false insertions (a target term in an output whose source lacks its source term,
not even inside a kept name, and that the model did not write without the glossary either),
chrF++ against the references without and with (the "with" output with its glossary target terms cut
out, so only the words the glossary did not touch count), the units flagged ``terminology`` and the
runs' seconds and their ratio.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import sacrebleu

from tg_edge import TranslationOptions, Translator, steering
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
# The enforcement variants measured side by side: steering alone (placing, steering within the margin, the
# guards' retry) and with a missing term redone where it came closest (tg_edge.steering.TermSteer.redo).
ENFORCEMENT = {"steering": False, "redo": True}
# Capitalized words inside a sentence (not after a full stop): names to keep as they are.
_NAME = re.compile(r"(?<=[a-z,] )([A-Z][a-z]{3,})\b(?! [A-Z])")


def pick(sentences: list[str], target: str, count: int) -> tuple[Glossary, list[int]]:
    """The pair's glossary (its entries and the names in the picked sentences) and the first ``count``
    lines holding one of its source terms."""
    entries = Glossary.from_dict(TERMS[target])
    lines = [i for i, sentence in enumerate(sentences) if entries.matches(sentence, "en")][:count]
    names = {name: None for i in lines for name in _NAME.findall(sentences[i]) if name not in TERMS[target]}
    return Glossary.from_dict(TERMS[target], keep=list(names)), lines


def score(sources: list[str], outputs: list[str], glossary: Glossary, plain: list[str]) -> dict[str, int]:
    """Required terms and kept names met, and false insertions, over ``outputs`` (``plain``: the same sources
    translated without the glossary)."""
    out = {"required": 0, "required_met": 0, "kept": 0, "kept_met": 0, "false_insertions": 0}
    entries = Glossary.from_dict(glossary.entries)
    for source, output, own in zip(sources, outputs, plain, strict=True):
        matches = glossary.matches(source, "en")
        for match in {(m.required, m.keep) for m in matches}:
            met = holds(output, match[0], keep=match[1])
            out["kept" if match[1] else "required"] += 1
            out["kept_met" if match[1] else "required_met"] += met
        # A target term whose source term is nowhere in the sentence (not even inside a kept name) and that
        # the model did not write without the glossary either.
        present = {m.required for m in entries.matches(source, "en")}
        out["false_insertions"] += sum(
            holds(output, wanted) and not holds(own, wanted)
            for _, wanted in glossary.entries
            if wanted not in present
        )
    return out


def untouched(output: str, glossary: Glossary) -> str:
    """``output`` without its glossary target terms (inflected forms included)."""
    for _, wanted in glossary.entries:
        output = re.sub(rf"(?<!\w){re.escape(wanted)}[^\W\d_]{{0,4}}(?!\w)", "", output, flags=re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", output).strip()


def run(
    translator: Translator, sources: list[str], target: str, glossary: Glossary | None, *, redo: bool = True
) -> tuple[list, float]:
    """One ``translate_many`` call and its seconds (``redo``: whether steering may redo a missing term)."""
    steering.REDO = redo
    try:
        started = time.perf_counter()
        results = translator.translate_many(
            sources, source="en", target=target, options=TranslationOptions(glossary=glossary)
        )
        return results, time.perf_counter() - started
    finally:
        steering.REDO = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=50, help="sentences per pair")
    parser.add_argument("--start", type=int, default=200, help="first FLORES devtest line")
    parser.add_argument("-t", "--targets", default="de,fr,es")
    parser.add_argument("-m", "--model", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="write outputs and the glossaries here")
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
            glossary, chosen = pick(lines, target, args.count)
            sources = [lines[i] for i in chosen]
            references = [refs_all[i] for i in chosen]
            without, t_without = run(translator, sources, target, None)
            plain = [r.text for r in without]
            chrf = sacrebleu.CHRF(word_order=2)
            outputs = {"without": plain}
            for name, redo in variants.items():
                termed, seconds = run(translator, sources, target, glossary, redo=redo)
                outputs[name] = [r.text for r in termed]
                before, after = (
                    score(sources, plain, glossary, plain),
                    score(sources, outputs[name], glossary, plain),
                )
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
                    "chrf_without": chrf.corpus_score(plain, [references]).score,
                    "chrf_with_untouched": chrf.corpus_score(
                        [untouched(t, glossary) for t in outputs[name]], [references]
                    ).score,
                    "flagged": sum(s.problem is Problem.TERMINOLOGY for r in termed for s in r.segments),
                    "seconds_without": t_without,
                    "seconds_with": seconds,
                    "time_ratio": seconds / t_without,
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
        "| false insertions | chrF++ without → with (untouched words) | flagged | time with ÷ without |\n"
        "| --- | --- | --: | --: | --: | --: | --: | --: | --: |"
    )
    body = [
        f"| {r['pair']} | {r['enforcement']} | {r['sentences']} "
        f"| {r['required_without']:.0%} → {r['required_with']:.1%} ({r['required']}) "
        f"| {r['kept_without']:.0%} → {r['kept_with']:.1%} ({r['kept']}) | {r['false_insertions']} "
        f"| {r['chrf_without']:.1f} → {r['chrf_with_untouched']:.1f} | {r['flagged']} | {r['time_ratio']:.2f}× |"
        for r in rows
    ]
    return "\n".join([head, *body])


if __name__ == "__main__":
    main()
