"""FLORES-200 devtest sentences, parallel across languages, from the copy shipped in ``data/flores200``.

The files ship inside the package (read through :mod:`importlib.resources`, so a wheel has them too);
``TG_EDGE_FLORES`` points at another ``flores200`` directory of the same layout instead.
"""

from __future__ import annotations

import os
import sys
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..errors import InputError
from ..languages import resolve_language

if TYPE_CHECKING:
    if sys.version_info >= (3, 11):
        from importlib.resources.abc import Traversable
    else:  # importlib.resources.abc is new in 3.11
        from importlib.abc import Traversable

FLORES_ENV = "TG_EDGE_FLORES"

# tg-edge language codes → FLORES-200 file names for the languages the shipped copy holds.
FLORES_CODES = MappingProxyType(
    {
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
    }
)


def flores_dir() -> Traversable:
    """The ``flores200`` directory: ``TG_EDGE_FLORES`` if set, else the copy shipped in this package."""
    explicit = os.environ.get(FLORES_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return resources.files(__package__) / "data" / "flores200"


def load_flores(
    language: str, count: int | None = None, *, start: int = 0, split: str = "devtest"
) -> list[str]:
    """``count`` sentences of FLORES-200 ``split`` in ``language`` from line ``start`` (all when None)."""
    code = resolve_language(language).code
    name = FLORES_CODES.get(code) or FLORES_CODES.get(code.split("-")[0])
    if name is None:
        raise InputError(f"no FLORES-200 file for {code!r}; available: {', '.join(FLORES_CODES)}")
    lines = _read(f"{split}/{name}.{split}", "file")
    end = len(lines) if count is None else start + count
    if start < 0 or end > len(lines):
        raise InputError(
            f"FLORES-200 {split}/{name}.{split} has {len(lines)} lines; asked for lines {start}..{end}"
        )
    return lines[start:end]


def flores_paragraphs(words: int, language: str = "en", *, split: str = "devtest") -> list[str]:
    """FLORES-200 sentences joined into paragraphs, one per source article, until ``words`` words.

    The sentences of one article (the same URL in ``metadata_<split>.tsv``) are consecutive; they are
    joined with spaces. A long-document input made of real prose.
    """
    sentences = load_flores(language, split=split)
    urls = [row.split("\t")[0] for row in _read(f"metadata_{split}.tsv", "metadata")[1:]]
    groups: list[tuple[str, list[str]]] = []
    for url, sentence in zip(urls, sentences, strict=True):
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


def _read(relative: str, what: str) -> list[str]:
    """The lines of ``relative`` in :func:`flores_dir`; :class:`InputError` naming where it looked if absent."""
    base = flores_dir()
    entry = base.joinpath(*relative.split("/"))
    if not entry.is_file():
        if os.environ.get(FLORES_ENV):
            raise InputError(
                f"FLORES-200 {what} {relative} not found in {base} ({FLORES_ENV}); point {FLORES_ENV} at a "
                f"flores200 directory with that layout, or unset it to use the data shipped with tg-edge"
            )
        raise InputError(
            f"FLORES-200 {what} {relative} is missing from the installed tg-edge package ({base}); "
            f"reinstall tg-edge, or set {FLORES_ENV} to a flores200 directory"
        )
    return entry.read_text(encoding="utf-8").splitlines()
