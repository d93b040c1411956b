"""Step 3: how faithful each file is — teacher-forced next-token distributions compared on a text sample.

Every file reads the same token sequences. Against the reference (the BF16/F16 GGUF) we report the mean
KL divergence KL(reference ‖ file), top-1 agreement and each file's perplexity; the reference itself is
checked against the original checkpoint run in transformers, so a broken conversion is caught.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..bench.flores import load_flores
from ..engine import Engine
from ..errors import InputError

SAMPLE_LANGUAGES = ("en", "de", "fr", "es", "ru", "zh-Hans", "ja", "ar")
MAX_TOKENS = 64  # per sequence: enough context to be realistic, small enough to keep 262k-wide logits cheap


@dataclass(frozen=True)
class Fidelity:
    """One file measured against a reference on the same tokens."""

    mean_kl: float
    top1_agreement: float
    perplexity: float
    reference_perplexity: float
    max_abs_logit_diff: float
    tokens: int

    def as_dict(self) -> dict[str, float | int]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def sample_texts(sample_file: Path | None = None, per_language: int = 4) -> list[str]:
    """The fixed multilingual sample: FLORES devtest lines in several languages, or the user's file."""
    if sample_file is not None:
        try:
            lines = sample_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read sample file {sample_file}: {exc}") from exc
        texts = [line for line in lines if line.strip()]
        if not texts:
            raise InputError(f"sample file {sample_file} has no text")
        return texts
    return [text for lang in SAMPLE_LANGUAGES for text in load_flores(lang, per_language)]


class LogitStore:
    """Reference logits for every sample position, kept in a memory-mapped temp file (they are large)."""

    def __init__(
        self, sequences: Sequence[Sequence[int]], n_vocab: int, directory: Path | None = None
    ) -> None:
        self.offsets = np.cumsum([0] + [len(s) for s in sequences])
        self._file = tempfile.NamedTemporaryFile(dir=directory, suffix=".logits")  # noqa: SIM115 - lives as long as this object
        self._data = np.memmap(
            self._file, dtype=np.float32, mode="w+", shape=(int(self.offsets[-1]), n_vocab)
        )

    def __setitem__(self, index: int, logits: np.ndarray) -> None:
        self._data[self.offsets[index] : self.offsets[index + 1]] = logits

    def __getitem__(self, index: int) -> np.ndarray:
        return self._data[self.offsets[index] : self.offsets[index + 1]]

    def close(self) -> None:
        del self._data
        self._file.close()


def tokenize_sample(engine: Engine, texts: Sequence[str]) -> list[list[int]]:
    """Token sequences (with BOS where the model wants it), cut to ``MAX_TOKENS``."""
    return [engine.tokenize(text, add_bos=engine.adds_bos, special=False)[:MAX_TOKENS] for text in texts]


def record_logits(engine: Engine, sequences: Sequence[Sequence[int]], store: LogitStore) -> None:
    for i, tokens in enumerate(sequences):
        store[i] = engine.logits(tokens)


def compare(reference: LogitStore, sequences: Sequence[Sequence[int]], logits_of) -> Fidelity:
    """Compare ``logits_of(i)`` for every sequence with the stored reference logits."""
    kl_sum = agree = nll_ref = nll = 0.0
    max_diff = 0.0
    count = 0
    for i, tokens in enumerate(sequences):
        ref = np.asarray(reference[i][:-1], dtype=np.float32)  # the last position predicts nothing we know
        other = np.asarray(logits_of(i)[:-1], dtype=np.float32)
        width = min(ref.shape[1], other.shape[1])  # transformers may pad the vocabulary past the tokenizer
        ref, other = ref[:, :width], other[:, :width]
        (ref_logp, ref_p), (other_logp, _) = _log_softmax(ref), _log_softmax(other)
        kl_sum += float(np.sum(ref_p * (ref_logp - other_logp), dtype=np.float64))
        agree += int(np.sum(ref.argmax(axis=1) == other.argmax(axis=1)))
        targets = np.asarray(tokens[1:])
        rows = np.arange(len(targets))
        nll_ref -= float(ref_logp[rows, targets].sum(dtype=np.float64))
        nll -= float(other_logp[rows, targets].sum(dtype=np.float64))
        max_diff = max(max_diff, float(np.max(np.abs(ref - other))))
        count += len(targets)
    if count == 0:
        raise InputError("the fidelity sample produced no token pairs; give longer sample texts")
    return Fidelity(
        mean_kl=kl_sum / count,
        top1_agreement=agree / count,
        perplexity=float(np.exp(nll / count)),
        reference_perplexity=float(np.exp(nll_ref / count)),
        max_abs_logit_diff=max_diff,
        tokens=count,
    )


def transformers_logits(
    checkpoint_dir: Path, architecture: str, sequences: Sequence[Sequence[int]]
) -> list[np.ndarray]:
    """The original checkpoint's logits in transformers (float32 on the CPU) for the same token ids."""
    import torch
    import transformers

    model_class = getattr(transformers, architecture, None) or transformers.AutoModelForCausalLM
    model = model_class.from_pretrained(checkpoint_dir, dtype=torch.float32)
    model.eval()
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for tokens in sequences:
            logits = model(input_ids=torch.tensor([list(tokens)])).logits[0]
            out.append(logits.float().numpy())
    del model
    return out


def _log_softmax(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-probabilities and probabilities of each row: float32 values (10x faster than float64 over 262k-wide
    rows), float64 sums. No torch here: once torch has run a parallel op in a process, llama.cpp's decoding
    in that process runs 2-3x slower (they share libgomp), and the quantized files are decoded after this."""
    shifted = x - x.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True, dtype=np.float64)
    return shifted - np.log(total).astype(np.float32), exp / total.astype(np.float32)
