"""FLORES-200 devtest sentences (read where they lie; never copied into the project)."""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType

from .errors import InputError
from .languages import resolve_language

# tg-edge language codes → FLORES-200 file names for the languages the shared copy holds.
FLORES_CODES = MappingProxyType({
    "en": "eng_Latn",
    "de": "deu_Latn",
    "fr": "fra_Latn",
    "es": "spa_Latn",
    "ar": "arb_Arab",
    "ja": "jpn_Jpan",
    "ko": "kor_Hang",
    "zh-Hans": "zho_Hans",
    "zh-Hant": "zho_Hant",
    "hi": "hin_Deva",
    "ru": "rus_Cyrl",
    "pt": "por_Latn",
    "tr": "tur_Latn",
    "sw": "swh_Latn",
})


def flores_dir() -> Path:
    """``TG_EDGE_FLORES`` if set, else ``shared/data/flores200`` beside the checkout or the working directory."""
    explicit = os.environ.get("TG_EDGE_FLORES")
    if explicit:
        return Path(explicit).expanduser()
    candidates = [Path(__file__).resolve().parents[2], Path.cwd().parent, Path.cwd()]
    for base in candidates:
        found = base / "shared" / "data" / "flores200"
        if found.is_dir():
            return found
    return candidates[0] / "shared" / "data" / "flores200"


def load_flores(language: str, count: int | None = None, *, start: int = 0, split: str = "devtest") -> list[str]:
    """``count`` sentences of FLORES-200 ``split`` in ``language`` from line ``start`` (all when None)."""
    code = resolve_language(language).code
    name = FLORES_CODES.get(code) or FLORES_CODES.get(code.split("-")[0])
    if name is None:
        raise InputError(f"no FLORES-200 file for {code!r}; available: {', '.join(FLORES_CODES)}")
    path = flores_dir() / split / f"{name}.{split}"
    if not path.is_file():
        raise InputError(f"FLORES-200 file {path} not found; set TG_EDGE_FLORES to the flores200 directory")
    lines = path.read_text(encoding="utf-8").splitlines()
    end = len(lines) if count is None else start + count
    if start < 0 or end > len(lines):
        raise InputError(f"{path} has {len(lines)} lines; asked for lines {start}..{end}")
    return lines[start:end]


def flores_paragraphs(words: int, language: str = "en", *, split: str = "devtest") -> list[str]:
    """FLORES-200 sentences joined into paragraphs, one per source article, until ``words`` words.

    The sentences of one article (the same URL in ``metadata_<split>.tsv``) are consecutive; they are
    joined with spaces. A long-document test input made of real prose, never copied into the project.
    """
    sentences = load_flores(language, split=split)
    path = flores_dir() / f"metadata_{split}.tsv"
    if not path.is_file():
        raise InputError(f"FLORES-200 metadata {path} not found; set TG_EDGE_FLORES to the flores200 directory")
    urls = [row.split("\t")[0] for row in path.read_text(encoding="utf-8").splitlines()[1:]]
    groups: list[tuple[str, list[str]]] = []
    for url, sentence in zip(urls, sentences):
        if groups and groups[-1][0] == url:
            groups[-1][1].append(sentence)
        else:
            groups.append((url, [sentence]))
    paragraphs: list[str] = []
    count = 0
    for _, group in groups:
        if count >= words:
            break
        paragraphs.append(" ".join(group))
        count += len(paragraphs[-1].split())
    return paragraphs
