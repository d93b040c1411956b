"""Terms to require or keep: a glossary's loading, its matching, and the check the guards run.

A :class:`Glossary` maps source terms to the target terms a translation must use ("invoice" →
"Rechnung") and names terms that stay as they are (product names, brands). Before a unit goes to the
model, :meth:`Glossary.place` writes each required target term where its source term stands, so every
prompt profile (TranslateGemma's fixed template included) sees it: a model keeps a foreign term it is
given and inflects around it. After, :meth:`Glossary.unmet` says which terms the output lacks; the
guards report that as ``terminology`` and retry the unit first.

Matching is per source language: whole words only (a term inside a longer word is never touched),
case-insensitive for lowercase terms and exact for names, simple plural and inflected forms of the
last word where the language has them, the longest match where terms overlap, and nothing inside a URL,
an e-mail address, a code span or a tag (formats hand over translatable text only; this guards plain
text too). The output check accepts the target term inflected (``Rechnungen``), in any case, and beginning
a compound in languages that write them as one word (``Rechnungsadresse``); a kept term must come back
verbatim.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import GlossaryError
from .languages import Language, base_code, resolve_language

# Endings a term's last word may take in the source, per base language (plurals, genitives, cases).
_SOURCE_ENDINGS = {
    "en": ("s", "es", "'s", "’s", "s'"),
    "de": ("e", "en", "n", "s", "es", "er", "ern"),
    "fr": ("s", "x"),
    "es": ("s", "es"),
    "pt": ("s", "es"),
    "it": ("i", "e"),
    "nl": ("en", "s"),
    "sv": ("er", "ar", "or", "en", "et", "s"),
    "da": ("er", "e", "en", "et", "s"),
    "nb": ("er", "en", "et", "s"),
}
# Scripts written without spaces: a term is matched wherever it stands.
_NO_SPACES = frozenset({"zh", "ja", "th", "lo", "km", "my"})
# Letters a target term's last word may gain in the output (Rechnung → Rechnungen, facture → factures).
_TARGET_SUFFIX = r"[^\W\d_]{0,4}"
# Target languages that write compounds as one word: a term may begin one there (Rechnung → Rechnungsadresse).
_COMPOUNDING = frozenset({"de", "nl", "sv", "da", "nb", "nn", "no", "is", "fi", "et", "hu"})
# Spans whose words are not prose: URLs, e-mail addresses, `code`, <tags>, {placeholders}.
_PROTECTED = re.compile(
    r"\b[a-z][a-z0-9+.-]*://\S+|\bwww\.\S+|[\w.+-]+@[\w-]+\.[\w.-]+|(`+)[\s\S]*?\1|<[^<>\n]+>|\{[^{}\s]*\}",
    re.IGNORECASE,
)
_HEADERS = {("source", "target"), ("term", "translation"), ("source term", "target term")}


@dataclass(frozen=True)
class Match:
    """One term found in a text: where, which term, and what the translation must hold for it."""

    start: int
    end: int
    term: str
    required: str
    """The target term (a glossary entry) or the term itself (a kept term)."""
    keep: bool


@dataclass(frozen=True)
class Glossary:
    """Required translations (``entries``: source term → target term) and terms kept as they are.

    ``source``/``target`` name the language pair the entries are for (``None``: whatever pair the call
    has). Build one with :meth:`from_dict`, :meth:`from_file` or :meth:`load`.
    """

    entries: tuple[tuple[str, str], ...] = ()
    keep: tuple[str, ...] = ()
    source: str | None = None
    target: str | None = None

    def __post_init__(self) -> None:
        seen: dict[str, str] = {}
        for term, wanted in self.entries:
            if not term.strip() or not wanted.strip():
                raise GlossaryError("a glossary entry has an empty source or target term")
            if seen.get(term.casefold(), wanted) != wanted:
                raise GlossaryError(f"the glossary gives two translations for {term!r}")
            seen[term.casefold()] = wanted
        if any(not term.strip() for term in self.keep):
            raise GlossaryError("a term to keep is empty")

    def __bool__(self) -> bool:
        return bool(self.entries or self.keep)

    def __len__(self) -> int:
        return len(self.entries) + len(self.keep)

    @classmethod
    def from_dict(
        cls,
        entries: Mapping[str, str] | Iterable[tuple[str, str]],
        *,
        keep: Iterable[str] = (),
        source: str | None = None,
        target: str | None = None,
    ) -> Glossary:
        """A glossary from ``{source term: target term}`` (or pairs) and terms to keep."""
        pairs = entries.items() if isinstance(entries, Mapping) else entries
        return cls(
            tuple((str(s).strip(), str(t).strip()) for s, t in pairs),
            tuple(str(k).strip() for k in keep),
            source,
            target,
        )

    @classmethod
    def from_file(cls, path: str | Path) -> Glossary:
        """A glossary from a TSV or CSV file: ``source<TAB>target`` (or ``source,target``) per line.

        An optional first line is a header: ``source,target`` or two language codes (``en	de``: the
        entries are for that pair only). Blank lines and lines starting with ``#`` are skipped.
        """
        path = Path(path)
        return cls.from_text(_read_text(path), path.name, tsv=path.suffix.lower() == ".tsv")

    @classmethod
    def from_text(cls, text: str, name: str = "glossary", *, tsv: bool = False) -> Glossary:
        """A glossary from the text of a TSV or CSV file (see :meth:`from_file`); errors name ``name`` and the
        line."""
        lines = _lines(text)
        delimiter = "\t" if tsv or any("\t" in line for _, line in lines) else ","
        entries: list[tuple[str, str]] = []
        source = target = None
        for index, (number, line) in enumerate(lines):
            row = [cell.strip() for cell in next(csv.reader([line], delimiter=delimiter))]
            if len(row) != 2 or not row[0] or not row[1]:
                sep = "<TAB>" if delimiter == "\t" else ","
                raise GlossaryError(f"{name} line {number}: expected source{sep}target (two non-empty cells)")
            if index == 0 and tuple(cell.lower() for cell in row) in _HEADERS:
                continue
            if index == 0 and (pair := _language_pair(row)) is not None:
                source, target = pair
                continue
            entries.append((row[0], row[1]))
        if not entries:
            raise GlossaryError(f"{name} holds no glossary entries")
        try:
            return cls(tuple(entries), (), source, target)
        except GlossaryError as exc:
            raise GlossaryError(f"{name}: {exc}") from None

    @classmethod
    def keep_file(cls, path: str | Path) -> Glossary:
        """Terms to keep from a file, one per line (``#`` comments and blank lines skipped)."""
        path = Path(path)
        terms = tuple(line.strip() for _, line in _lines(_read_text(path)))
        if not terms:
            raise GlossaryError(f"{path.name} holds no terms to keep")
        return cls(keep=terms)

    def applies_to(self, source: Language | str | None, target: Language | str) -> bool:
        """Whether this glossary is for the pair ``source`` → ``target`` (always, when it names no pair;
        ``source=None``: a source still to be detected, any)."""
        if self.source is None or self.target is None:
            return True
        same_source = source is None or base_code(self.source) == base_code(source)
        return same_source and base_code(self.target) == base_code(target)

    @property
    def key(self) -> str:
        """A short digest of the glossary's content (for caches of translated segments)."""
        return hashlib.sha256(repr((self.entries, self.keep)).encode()).hexdigest()[:16]

    def matches(self, text: str, language: Language | str) -> list[Match]:
        """The terms in ``text`` (in a source in ``language``), left to right, overlaps resolved: the longest
        match wins, then a kept term, then the earliest."""
        return _matcher(self, base_code(language)).find(text)

    def place(self, text: str, language: Language | str) -> str:
        """``text`` with each required target term written where its source term stands (kept terms stay)."""
        out, last = [], 0
        for match in self.matches(text, language):
            if match.keep:
                continue
            out.append(text[last : match.start])
            out.append(_case_like(text[match.start : match.end], match.required))
            last = match.end
        return "".join(out) + text[last:] if out else text

    def unmet(
        self, source_text: str, output: str, *, source: Language | str, target: Language | str | None = None
    ) -> list[str]:
        """The target terms and kept terms ``source_text`` asks for that ``output`` (in ``target``) lacks."""
        missing: list[str] = []
        for match in self.matches(source_text, source):
            if match.required not in missing and not holds(
                output, match.required, keep=match.keep, language=target
            ):
                missing.append(match.required)
        return missing


def writes_spaces(language: Language | str) -> bool:
    """Whether ``language`` puts spaces between its words (not Chinese, Japanese, Thai, Lao, Khmer, Burmese)."""
    return base_code(language) not in _NO_SPACES


def load_terms(
    glossary_files: Iterable[str | Path],
    keep: Iterable[str] = (),
    keep_files: Iterable[str | Path] = (),
    *,
    source: Language | str | None,
    target: Language | str,
) -> Glossary | None:
    """A command line's terms in one glossary (``None`` when there are none): the glossary files made for
    ``source`` → ``target`` (or for no pair), the terms to keep and the files of them.

    :class:`GlossaryError` when glossary files were given and none is for this pair."""
    given = [Glossary.from_file(path) for path in glossary_files]
    mine = [g for g in given if g.applies_to(source, target)]
    if given and not mine:
        pairs = ", ".join(sorted({f"{g.source}→{g.target}" for g in given}))
        wanted = f"{base_code(source) if source else 'any language'}→{base_code(target)}"
        raise GlossaryError(f"no glossary file is for {wanted} (the files are for {pairs})")
    kept = [Glossary.keep_file(path) for path in keep_files]
    return merge([*mine, Glossary.from_dict((), keep=keep), *kept]) or None


def merge(glossaries: Iterable[Glossary]) -> Glossary:
    """One glossary with every entry and kept term of ``glossaries`` (a later entry for a term wins)."""
    entries: dict[str, tuple[str, str]] = {}
    keep: dict[str, None] = {}
    for glossary in glossaries:
        for term, wanted in glossary.entries:
            entries[term.casefold()] = (term, wanted)
        keep.update(dict.fromkeys(glossary.keep))
    return Glossary(tuple(entries.values()), tuple(keep))


def holds(output: str, required: str, *, keep: bool = False, language: Language | str | None = None) -> bool:
    """Whether ``output`` (in ``language``) holds ``required``: a kept term verbatim, a target term in any
    case and with its last word inflected, or beginning a compound where ``language`` writes them as one
    word."""
    compounds = not keep and language is not None and base_code(language) in _COMPOUNDING
    return _output_pattern(required, keep, compounds).search(output) is not None


@functools.lru_cache(maxsize=256)
def _output_pattern(required: str, keep: bool, compounds: bool) -> re.Pattern[str]:
    if keep:
        return re.compile(rf"(?<!\w){re.escape(required)}")
    suffix = r"[^\W\d_]*" if compounds else _TARGET_SUFFIX
    return re.compile(rf"(?<!\w){re.escape(required)}{suffix}(?!\w)", re.IGNORECASE)


class _Matcher:
    """A glossary's terms compiled for one source language."""

    def __init__(self, glossary: Glossary, language: str) -> None:
        terms = [(term, wanted, False) for term, wanted in glossary.entries]
        terms += [(term, term, True) for term in glossary.keep]
        self._patterns = [
            (_source_pattern(term, language, keep), term, wanted, keep) for term, wanted, keep in terms
        ]

    def find(self, text: str) -> list[Match]:
        protected = [m.span() for m in _PROTECTED.finditer(text)]
        found = [
            Match(m.start(), m.end(), term, wanted, keep)
            for pattern, term, wanted, keep in self._patterns
            for m in pattern.finditer(text)
            if not any(a < m.end() and m.start() < b for a, b in protected)
        ]
        chosen: list[Match] = []
        # The longest match wins, then a kept term (a name written as it must stay), then the earliest.
        for match in sorted(found, key=lambda m: (m.start - m.end, not m.keep, m.start)):
            if all(match.end <= c.start or c.end <= match.start for c in chosen):
                chosen.append(match)
        return sorted(chosen, key=lambda m: m.start)


@functools.lru_cache(maxsize=32)
def _matcher(glossary: Glossary, language: str) -> _Matcher:
    return _Matcher(glossary, language)


def _source_pattern(term: str, language: str, keep: bool) -> re.Pattern[str]:
    """How ``term`` is found in a source text: whole words, case-insensitive unless it has capitals (a name),
    its last word with the language's endings unless it is a kept term or a name."""
    name = keep or term != term.lower()
    body = r"\s+".join(re.escape(word) for word in term.split())
    if not name:
        endings = list(_SOURCE_ENDINGS.get(language, ()))
        if language == "en" and re.search(r"[^aeiou]y$", term):
            body = body[:-1] + "(?:y|ies)"
        body += (
            "(?:" + "|".join(re.escape(e) for e in sorted(endings, key=len, reverse=True)) + ")?"
            if endings
            else ""
        )
    elif language == "en":
        body += "(?:'s|’s)?"
    if language in _NO_SPACES:
        return re.compile(body, 0 if name else re.IGNORECASE)
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", 0 if name else re.IGNORECASE)


def _case_like(found: str, wanted: str) -> str:
    """``wanted`` with a capital first letter where the source's term had one and the target term has none
    (the start of a sentence)."""
    if found[:1].isupper() and wanted[:1].islower() and found[1:2].islower():
        return wanted[:1].upper() + wanted[1:]
    return wanted


def _read_text(path: Path) -> str:
    """The file's text; one-line errors for a file that cannot be read."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise GlossaryError(f"no such glossary file: {path}") from None
    except UnicodeDecodeError:
        raise GlossaryError(f"{path.name} is not UTF-8 text") from None
    except OSError as exc:
        raise GlossaryError(f"cannot read {path}: {exc.strerror}") from None


def _lines(text: str) -> list[tuple[int, str]]:
    """The text's meaningful lines with their numbers (blank lines and ``#`` comments left out)."""
    lines = [(n, line.rstrip("\r\n")) for n, line in enumerate(text.splitlines(), start=1)]
    return [(n, line) for n, line in lines if line.strip() and not line.lstrip().startswith("#")]


def _language_pair(row: list[str]) -> tuple[str, str] | None:
    """Two language codes of a header line, or ``None`` when the line is an entry."""
    if not all(re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*", cell) for cell in row):
        return None
    try:
        return resolve_language(row[0], any_language=True).code, resolve_language(
            row[1], any_language=True
        ).code
    except Exception:  # noqa: BLE001 - not two languages: an entry such as "API<TAB>API"
        return None
