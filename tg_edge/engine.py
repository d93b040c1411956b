"""The llama.cpp engine: one model, one context, greedy decoding. The only module that imports llama_cpp."""

from __future__ import annotations

import codecs
import ctypes
import logging
import os
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import llama_cpp
import numpy as np

from .errors import ModelError, TgEdgeError

log = logging.getLogger("tg_edge")
_llama_log = logging.getLogger("tg_edge.llama")

# ggml log levels: 1 debug, 2 info, 3 warn, 4 error, 5 continues the previous line. llama.cpp's
# warnings are about its own tuning (context sizes, cache layout), so users see them only with -v.
_LEVELS = {1: logging.DEBUG, 2: logging.DEBUG, 3: logging.INFO, 4: logging.WARNING}


@llama_cpp.llama_log_callback
def _route_llama_log(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    message = text.decode("utf-8", errors="replace").rstrip()
    if message:
        _llama_log.log(_LEVELS.get(level, logging.DEBUG), "%s", message)


STOP_EOS = "eos"  # the model ended its turn (EOS, <end_of_turn>, ...)
STOP_NEWLINE = "newline"  # a one-line prompt reached the end of its line
STOP_LENGTH = "length"  # the max_tokens bound was hit: the output may be cut
STOP_LOOP = "loop"  # the repetition guard stopped a looping output


@dataclass(frozen=True)
class Generation:
    """What one greedy decode produced and why it stopped."""

    text: str
    n_prompt: int
    n_new: int
    n_reused: int
    stop: str


def route_llama_logs() -> None:
    """Send llama.cpp's own log lines to the ``tg_edge.llama`` logger instead of stderr."""
    llama_cpp.llama_log_set(_route_llama_log, ctypes.c_void_p(0))


def default_threads() -> int:
    """The CPUs this process may run on (all of them: decoding is memory-bound, not hyperthread-bound)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def gpu_available() -> bool:
    """True when this llama.cpp build has a GPU backend (CUDA, Metal, Vulkan, ...)."""
    return bool(llama_cpp.llama_supports_gpu_offload())


class Engine:
    """A loaded GGUF model with one context, decoding one sequence greedily.

    The KV cache keeps the last prompt and output: a new prompt that shares a prefix with the
    previous one (the same instruction or few-shot examples) only evaluates its new tokens.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        *,
        n_ctx: int = 4096,
        threads: int | None = None,
        gpu_layers: int | None = None,
        n_batch: int = 512,
    ) -> None:
        route_llama_logs()
        self.threads = threads or default_threads()
        if gpu_layers is None:
            gpu_layers = -1 if gpu_available() else 0
        self.gpu_layers = gpu_layers
        path = Path(model_path)
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=n_batch,
                n_threads=self.threads,
                n_threads_batch=self.threads,
                n_gpu_layers=gpu_layers,
                use_mmap=True,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(
                f"llama.cpp could not load {path}: the file is corrupt, truncated, or of an "
                f"architecture this llama.cpp build does not support ({exc})"
            ) from exc
        self.path = path
        self.n_ctx = self._llm.n_ctx()
        self.n_batch = n_batch
        self._ctx = self._llm.ctx
        self._vocab = llama_cpp.llama_model_get_vocab(self._llm.model)
        self._n_vocab = self._llm.n_vocab()
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._batch = llama_cpp.llama_batch_init(n_batch, 0, 1)
        self._piece_buffer = ctypes.create_string_buffer(64)
        self._cached: list[int] = []  # tokens whose K/V sit in the cache, in order
        self.metadata: Mapping[str, str] = MappingProxyType(self._llm.metadata)

    # -- tokens ---------------------------------------------------------------------------

    def tokenize(self, text: str, *, add_bos: bool = False, special: bool = True) -> list[int]:
        """Tokens of ``text``; ``special`` parses markers such as ``<start_of_turn>``."""
        self._check_open()
        return self._llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=special)

    def count_tokens(self, text: str) -> int:
        """How many tokens plain user text takes (markers in it are not special)."""
        return len(self.tokenize(text, special=False))

    def token_bytes(self, token: int) -> bytes:
        """The bytes a generated token stands for (possibly part of a UTF-8 character)."""
        size = len(self._piece_buffer)
        n = llama_cpp.llama_token_to_piece(self._vocab, token, self._piece_buffer, size, 0, False)
        if n < 0:  # the piece is longer than the buffer: -n is the size it needs
            self._piece_buffer = ctypes.create_string_buffer(-n)
            n = llama_cpp.llama_token_to_piece(self._vocab, token, self._piece_buffer, -n, 0, False)
        return self._piece_buffer.raw[:n]

    def token_text(self, token: int) -> str:
        return self._llm._model.token_get_text(token)  # noqa: SLF001 - no public accessor

    @property
    def bos_token(self) -> int:
        return self._llm.token_bos()

    @property
    def eos_token(self) -> int:
        return self._llm.token_eos()

    @property
    def n_vocab(self) -> int:
        return self._n_vocab

    @property
    def n_params(self) -> int:
        return int(llama_cpp.llama_model_n_params(self._llm.model))

    @property
    def weight_bytes(self) -> int:
        """Bytes of tensor data in the model file (what decoding reads per token, for a dense model)."""
        return int(llama_cpp.llama_model_size(self._llm.model))

    @property
    def adds_bos(self) -> bool:
        """Whether the model's tokenizer wants a BOS token at the start of a prompt."""
        return self._llm._model.add_bos_token()  # noqa: SLF001

    # -- decoding -------------------------------------------------------------------------

    def generate(
        self,
        prompt: Sequence[int],
        *,
        max_tokens: int,
        stop_at_newline: bool = False,
    ) -> Generator[str, None, Generation]:
        """Greedily continue ``prompt``, yielding text as it forms; returns the :class:`Generation`."""
        if not prompt:
            raise ValueError("prompt must not be empty")
        if len(prompt) + max_tokens > self.n_ctx:
            raise TgEdgeError(
                f"prompt of {len(prompt)} tokens plus up to {max_tokens} new tokens does not fit the "
                f"context of {self.n_ctx} tokens; use a larger --ctx or shorter segments"
            )
        self._check_open()
        reused = self._evaluate_prompt(prompt)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        out_tokens: list[int] = []
        text_parts: list[str] = []
        stop = STOP_LENGTH
        while len(out_tokens) < max_tokens:
            token = self._greedy_next()
            if llama_cpp.llama_vocab_is_eog(self._vocab, token):
                stop = STOP_EOS
                break
            out_tokens.append(token)
            piece = decoder.decode(self.token_bytes(token))
            if stop_at_newline and "\n" in piece:
                piece = piece.split("\n", 1)[0]
                if piece:
                    text_parts.append(piece)
                    yield piece
                stop = STOP_NEWLINE
                break
            if piece:
                text_parts.append(piece)
                yield piece
            if repeating_tail(out_tokens):
                stop = STOP_LOOP
                break
            if len(out_tokens) < max_tokens:  # the bound's last token needs no logits after it
                self._decode([token], len(self._cached))
        tail = decoder.decode(b"", final=True)
        if tail and stop != STOP_NEWLINE:
            text_parts.append(tail)
            yield tail
        return Generation("".join(text_parts), len(prompt), len(out_tokens), reused, stop)

    def logits(self, tokens: Sequence[int]) -> np.ndarray:
        """Next-token logits after every position of ``tokens`` (teacher forcing), shape (len, n_vocab)."""
        self._check_open()
        if len(tokens) > self.n_ctx:
            raise TgEdgeError(f"{len(tokens)} tokens do not fit the context of {self.n_ctx} tokens")
        self.reset()
        out = np.empty((len(tokens), self._n_vocab), dtype=np.float32)
        for start in range(0, len(tokens), self.n_batch):
            chunk = tokens[start:start + self.n_batch]
            self._decode(chunk, start, all_logits=True)
            pointer = llama_cpp.llama_get_logits(self._ctx)
            out[start:start + len(chunk)] = np.ctypeslib.as_array(pointer, shape=(len(chunk), self._n_vocab))
        return out

    def _evaluate_prompt(self, prompt: Sequence[int]) -> int:
        """Bring the KV cache to ``prompt``, reusing the longest cached prefix; returns its length."""
        keep = 0
        limit = min(len(self._cached), len(prompt) - 1)  # the last token must be evaluated for logits
        while keep < limit and self._cached[keep] == prompt[keep]:
            keep += 1
        llama_cpp.llama_memory_seq_rm(self._memory, 0, keep, -1)
        del self._cached[keep:]
        for start in range(keep, len(prompt), self.n_batch):
            self._decode(prompt[start:start + self.n_batch], start)
        return keep

    def _decode(self, tokens: Sequence[int], pos: int, *, all_logits: bool = False) -> None:
        batch = self._batch
        batch.n_tokens = len(tokens)
        for i, token in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = pos + i
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = 0
            batch.logits[i] = all_logits or i == len(tokens) - 1
        status = llama_cpp.llama_decode(self._ctx, batch)
        if status != 0:
            raise TgEdgeError(f"llama_decode failed with status {status}")
        self._cached.extend(tokens)
        self._last_logits_row = len(tokens) - 1

    def _greedy_next(self) -> int:
        pointer = llama_cpp.llama_get_logits_ith(self._ctx, self._last_logits_row)
        logits = np.ctypeslib.as_array(pointer, shape=(self._n_vocab,))
        return int(np.argmax(logits))

    def reset(self) -> None:
        """Empty the KV cache, so the next :meth:`generate` evaluates its whole prompt (benchmarks need this)."""
        self._check_open()
        llama_cpp.llama_memory_clear(self._memory, True)
        self._cached.clear()

    def close(self) -> None:
        """Free the context and model now instead of at garbage collection."""
        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None
            self._llm.close()

    def _check_open(self) -> None:
        # llama.cpp would read freed memory (a segfault), so a closed engine refuses work.
        if self._batch is None:
            raise TgEdgeError("this model was closed; create a new Translator to translate again")

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def repeating_tail(tokens: Sequence[int], *, min_span: int = 32, min_repeats: int = 4, max_period: int = 64) -> bool:
    """True when the tokens end in one pattern repeated back to back (a decoding loop).

    A loop needs at least ``min_repeats`` copies of its pattern covering ``min_span`` tokens,
    so short legitimate repetitions ("very, very, very") pass.
    """
    n = len(tokens)
    for period in range(1, min(max_period, n // min_repeats) + 1):
        span = period * max(min_repeats, -(-min_span // period))
        if span <= n and all(tokens[n - i] == tokens[n - i - period] for i in range(1, span - period + 1)):
            return True
    return False
