"""Translation models tg-edge knows by name: which hub repository holds their GGUF files, and how to prompt them.

``tg-edge models pull NAME[:QUANT]`` downloads from the repository named here; the file is picked by
its quant type from the repository's listing, so a renamed file is still found. Any other GGUF
repository works too: ``tg-edge models pull OWNER/REPO[:QUANT]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..fit import Architecture, gemma3
from ..prompts import CHAT, TRANSLATEGEMMA

DEFAULT_QUANT = "Q4_K_M"


@dataclass(frozen=True)
class CatalogEntry:
    """A model tg-edge knows by name."""

    name: str
    repo: str
    profile: str
    """The prompt profile its GGUF files get (detected from their metadata at load time)."""
    description: str
    size_gb: float
    """Approximate size of the default quant, for choosing before downloading."""
    default_quant: str = DEFAULT_QUANT
    quants: tuple[str, ...] = ("Q4_K_M", "Q5_K_M", "Q6_K", "Q8_0")
    """The usual choices (the repository may hold more: `pull` lists them when asked for one it lacks)."""
    arch: Architecture | None = None
    """The published shape (layers, attention heads ...), to tell whether it fits before downloading it."""


# Published configurations (config.json of google/gemma-3-*-it and LiquidAI/LFM2-1.2B): layers, hidden size,
# feed-forward size, attention heads, KV heads, head size. TranslateGemma keeps its base model's shape.
GEMMA3_1B = gemma3(26, 1152, 6912, 4, 1, 256, n_vocab=262_144, sliding_window=512)
GEMMA3_4B = gemma3(34, 2560, 10240, 8, 4, 256)
GEMMA3_12B = gemma3(48, 3840, 15360, 16, 8, 256)
GEMMA3_27B = gemma3(62, 5376, 21504, 32, 16, 128)
LFM2_1_2B = Architecture(16, 2048, 8192, 32, 8, 64, 64, 65_536, attention_layers=(2, 5, 8, 10, 12, 14))


CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        "translategemma-4b",
        "mradermacher/translategemma-4b-it-GGUF",
        TRANSLATEGEMMA,
        "Google TranslateGemma 4B: 55 languages, the laptop choice",
        2.5,
        arch=GEMMA3_4B,
    ),
    CatalogEntry(
        "translategemma-12b",
        "mradermacher/translategemma-12b-it-GGUF",
        TRANSLATEGEMMA,
        "Google TranslateGemma 12B: better quality, 16 GB of RAM or an 8 GB GPU",
        7.3,
        arch=GEMMA3_12B,
    ),
    CatalogEntry(
        "translategemma-27b",
        "mradermacher/translategemma-27b-it-GGUF",
        TRANSLATEGEMMA,
        "Google TranslateGemma 27B: best quality, workstation or 24 GB GPU",
        16.5,
        arch=GEMMA3_27B,
    ),
    CatalogEntry(
        "gemma-3-1b-it",
        "bartowski/google_gemma-3-1b-it-GGUF",
        CHAT,
        "Gemma 3 1B instruct, prompted to translate: small and fast, rough quality",
        0.8,
        arch=GEMMA3_1B,
    ),
    CatalogEntry(
        "gemma-3-4b-it",
        "bartowski/google_gemma-3-4b-it-GGUF",
        CHAT,
        "Gemma 3 4B instruct, prompted to translate (TranslateGemma 4B's base model)",
        2.5,
        arch=GEMMA3_4B,
    ),
    CatalogEntry(
        "gemma-3-12b-it",
        "bartowski/google_gemma-3-12b-it-GGUF",
        CHAT,
        "Gemma 3 12B instruct, prompted to translate",
        7.3,
        arch=GEMMA3_12B,
    ),
    CatalogEntry(
        "hala-1.2b-en-ar",
        "mradermacher/Hala-1.2B-EN-AR-Translator-GGUF",
        CHAT,
        "Hala 1.2B (LFM2): English to Arabic translator from KAUST",
        0.7,
        quants=("Q4_K_M", "Q6_K", "Q8_0", "F16"),
        arch=LFM2_1_2B,
    ),
)


def catalog_entry(name: str) -> CatalogEntry | None:
    """The catalog entry called ``name`` (case-insensitive), or ``None``."""
    wanted = name.strip().lower()
    return next((entry for entry in CATALOG if entry.name == wanted), None)


def family(name: str) -> list[CatalogEntry]:
    """The catalog entries of model family ``name`` (``translategemma``: its 4B, 12B and 27B), smallest first."""
    wanted = name.strip().lower() + "-"
    return sorted(
        (entry for entry in CATALOG if entry.name.startswith(wanted)), key=lambda entry: entry.size_gb
    )


def catalog_entry_for_repo(repo: str) -> CatalogEntry | None:
    """The catalog entry whose files live in hub repository ``repo``, or ``None``."""
    wanted = repo.lower()
    return next((entry for entry in CATALOG if entry.repo.lower() == wanted), None)
