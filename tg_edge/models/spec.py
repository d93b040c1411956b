"""The model names ``--model`` and ``tg-edge models`` take: ``NAME[:QUANT]``, hub repository ids, quant names."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ModelError

REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
"""A hub repository id, ``OWNER/NAME``."""
_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32)(?![A-Za-z0-9])", re.IGNORECASE)
_SPLIT_PART = re.compile(r"-\d{5}-of-\d{5}\.gguf$", re.IGNORECASE)


def split_quant(spec: str) -> tuple[str, str | None]:
    """``"translategemma-4b:q8_0"`` → ``("translategemma-4b", "Q8_0")``; no quant → ``(spec, None)``."""
    base, colon, quant = spec.strip().rpartition(":")
    if colon and base and _QUANT.fullmatch(quant):
        return base, quant.upper()
    return spec.strip(), None


def quant_of_filename(filename: str) -> str | None:
    """The quant type a GGUF file name states (``model.Q4_K_M.gguf`` → ``Q4_K_M``), if any."""
    matches = _QUANT.findall(Path(filename).name)
    return matches[-1].upper() if matches else None


def is_split_part(filename: str) -> bool:
    """Whether ``filename`` is one part of a GGUF model split into several files (``-00001-of-00003.gguf``)."""
    return _SPLIT_PART.search(filename) is not None


def is_projector(filename: str) -> bool:
    """Whether ``filename`` is a vision projector (mmproj) GGUF rather than a language model."""
    return "mmproj" in filename.lower()


def pulled_name(base: str, quant: str) -> str:
    """What ``--model`` takes for a pulled file: ``base:QUANT``, or ``base`` when its name states no quant."""
    return base if quant == "unknown" else f"{base}:{quant}"


def same_repo(a: str | None, b: str | None) -> bool:
    """Hub repository ids compare without regard to case."""
    return (a or "").lower() == (b or "").lower()


PROJECTOR_PREFERENCE = ("F16", "BF16", "F32", "Q8_0")
"""Which of several projectors to take: the least quantized first (a projector is small)."""


def choose_projector(names: list[str], model_name: str) -> str | None:
    """Of the file ``names`` beside a model (a folder, a hub repository), its vision projector (mmproj GGUF): the
    only one, or of several those whose name shares the model's, the least quantized; ``None`` when there is
    none. Several equally good ones are a :class:`ModelError` naming them."""
    found = sorted(name for name in names if name.lower().endswith(".gguf") and is_projector(name))
    if len(found) <= 1:
        return found[0] if found else None
    stem, quant = Path(model_name).stem, quant_of_filename(model_name)
    if quant:
        stem = stem[: stem.upper().rfind(quant)]  # translategemma-4b-it.Q4_K_M → translategemma-4b-it
    family = stem.rstrip("-._").lower()
    named = [name for name in found if family and family in name.lower()] or found

    def rank(name: str) -> int:
        kind = quant_of_filename(name) or ""
        return PROJECTOR_PREFERENCE.index(kind) if kind in PROJECTOR_PREFERENCE else len(PROJECTOR_PREFERENCE)

    best = min(map(rank, named))
    chosen = [name for name in named if rank(name) == best]
    if len(chosen) > 1:
        raise ModelError(
            f"several vision projectors go with {model_name} ({', '.join(chosen)}); choose one with --mmproj"
        )
    return chosen[0]
