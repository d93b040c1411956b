"""A vision projector (mmproj GGUF) beside an :class:`~tg_edge.engine.Engine`: images into its KV cache.

Part of the engine layer (it drives llama.cpp's mtmd library through llama-cpp-python's bindings). A
prompt's text holds :data:`IMAGE_MARKER` where the image goes; mtmd cuts it into chunks (text, the
image's embedding tokens wrapped in the model's own begin/end tokens, text), encodes the image with the
projector's vision tower and evaluates every chunk into one sequence of the engine's context.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import llama_cpp
from llama_cpp import mtmd_cpp as mtmd

from . import gguf_keys
from .engine import Engine
from .errors import ProjectorError, TgEdgeError
from .gguf_header import read_header
from .images import RgbImage
from .llama_model import route_llama_logs
from .prompts import IMAGE_MARKER

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkInfo:
    """One piece of a multimodal prompt: ``text`` tokens (their ids) or an ``image`` of ``n_tokens`` positions."""

    kind: str
    n_tokens: int
    tokens: tuple[int, ...] = ()


class ImagePrompt:
    """A prompt cut into mtmd chunks, ready for :meth:`Projector.evaluate`; frees them on :meth:`close`."""

    def __init__(self, chunks: mtmd.mtmd_input_chunks_p, infos: tuple[ChunkInfo, ...], n_pos: int) -> None:
        self._chunks: mtmd.mtmd_input_chunks_p | None = chunks
        self.chunks = infos
        self.n_pos = n_pos
        """Positions (KV cells) the prompt takes."""

    @property
    def image_tokens(self) -> int:
        """How many embedding tokens the image became."""
        return sum(chunk.n_tokens for chunk in self.chunks if chunk.kind == "image")

    def mtmd_chunks(self) -> mtmd.mtmd_input_chunks_p:
        """The mtmd chunks themselves, for :meth:`Projector.evaluate`; :class:`TgEdgeError` once closed."""
        if self._chunks is None:
            raise TgEdgeError("this image prompt was closed")
        return self._chunks

    def close(self) -> None:
        chunks, self._chunks = self._chunks, None
        if chunks:
            mtmd.mtmd_input_chunks_free(chunks)

    def __del__(self) -> None:
        self.close()


class Projector:
    """A vision projector loaded for ``engine``'s model; offloaded to the GPU when the engine offloads layers."""

    def __init__(self, engine: Engine, path: str | os.PathLike[str]) -> None:
        self._ctx: mtmd.mtmd_context_p | None = None
        # One image at a time through mtmd's context: a request's image is prepared (in its own thread) while
        # another's is evaluated (in the decoding thread) otherwise.
        self._lock = threading.Lock()
        self.path = Path(path)
        self.engine = engine
        _check_fits(self.path, engine)
        route_llama_logs(mtmd.mtmd_log_set, mtmd.mtmd_helper_log_set)  # mtmd logs to stdout otherwise
        params = mtmd.mtmd_context_params_default()
        params.use_gpu = engine.gpu_layers != 0
        params.n_threads = engine.threads
        params.print_timings = False
        params.warmup = False
        params.media_marker = IMAGE_MARKER.encode()
        ctx = mtmd.mtmd_init_from_file(str(self.path).encode(), engine.llama_model, params)
        if not ctx:
            raise ProjectorError(
                f"llama.cpp could not load the vision projector {self.path}: not a projector GGUF, corrupt, "
                f"or made for another model than {engine.path.name} (run with -vv for llama.cpp's log)"
            )
        self._ctx = ctx
        if not mtmd.mtmd_support_vision(ctx):
            self.close()
            raise ProjectorError(f"{self.path} is a projector without vision input (an audio one?)")

    def tokenize(self, text: str, image: RgbImage) -> ImagePrompt:
        """Cut ``text`` (holding one :data:`IMAGE_MARKER`) and ``image`` into chunks."""
        ctx = self._check_open()
        if text.count(IMAGE_MARKER) != 1:
            raise ValueError(f"the prompt must hold the image marker {IMAGE_MARKER} exactly once")
        pixels = (ctypes.c_uint8 * len(image.pixels)).from_buffer_copy(image.pixels)
        bitmap = mtmd.mtmd_bitmap_init(image.width, image.height, pixels)
        if not bitmap:
            raise TgEdgeError(f"{image.name}: llama.cpp could not take the image's pixels")
        chunks = mtmd.mtmd_input_chunks_init()
        if not chunks:
            mtmd.mtmd_bitmap_free(bitmap)
            raise TgEdgeError(f"{image.name}: llama.cpp could not allocate the prompt's chunks")
        try:
            encoded = text.encode()
            text_input = mtmd.mtmd_input_text(
                text=encoded, text_len=len(encoded), add_special=False, parse_special=True
            )
            bitmaps = (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap)
            with self._lock:
                status = mtmd.mtmd_tokenize(ctx, chunks, ctypes.byref(text_input), bitmaps, 1)
            if status != 0:
                raise TgEdgeError(
                    f"{image.name}: llama.cpp could not prepare the image (mtmd_tokenize status {status})"
                )
            infos = tuple(
                _chunk_info(mtmd.mtmd_input_chunks_get(chunks, i))
                for i in range(mtmd.mtmd_input_chunks_size(chunks))
            )
            prompt = ImagePrompt(chunks, infos, mtmd.mtmd_helper_get_n_pos(chunks))
            chunks = None
            return prompt
        finally:
            mtmd.mtmd_bitmap_free(bitmap)
            if chunks:
                mtmd.mtmd_input_chunks_free(chunks)

    def evaluate(self, prompt: ImagePrompt, *, seq: int) -> int:
        """Encode the image and evaluate every chunk into sequence ``seq`` from position 0, with logits for
        the last token (read them with ``engine.greedy_tokens()``); returns the next position."""
        ctx = self._check_open()
        chunks = prompt.mtmd_chunks()
        self.engine.took_outputs(0)
        new_n_past = llama_cpp.llama_pos(0)
        with self._lock:
            status = mtmd.mtmd_helper_eval_chunks(
                ctx,
                self.engine.llama_context,
                chunks,
                0,
                seq,
                self.engine.n_batch,
                True,
                ctypes.byref(new_n_past),
            )
        if status != 0:
            raise TgEdgeError(
                f"llama.cpp could not evaluate the image prompt (status {status}); the context may "
                "be too small: try a larger --ctx"
            )
        self.engine.took_outputs(1)
        return new_n_past.value

    def close(self) -> None:
        ctx, self._ctx = self._ctx, None
        if ctx:
            mtmd.mtmd_free(ctx)

    def _check_open(self) -> mtmd.mtmd_context_p:
        if self._ctx is None:
            raise TgEdgeError("this vision projector was closed")
        return self._ctx

    def __del__(self) -> None:
        self.close()


def _chunk_info(chunk: mtmd.mtmd_input_chunk_p | None) -> ChunkInfo:
    if not chunk:
        raise TgEdgeError("llama.cpp gave no chunk for the image prompt")
    kind = mtmd.mtmd_input_chunk_get_type(chunk)
    n_tokens = mtmd.mtmd_input_chunk_get_n_tokens(chunk)
    if kind == mtmd.MTMD_INPUT_CHUNK_TYPE_TEXT:
        count = ctypes.c_size_t(0)
        pointer = mtmd.mtmd_input_chunk_get_tokens_text(chunk, ctypes.byref(count))
        tokens = tuple(pointer[i] for i in range(count.value)) if pointer else ()
        return ChunkInfo("text", n_tokens, tokens)
    return ChunkInfo("image" if kind == mtmd.MTMD_INPUT_CHUNK_TYPE_IMAGE else "audio", n_tokens)


def _check_fits(path: Path, engine: Engine) -> None:
    """A projector made for another model is refused with both sizes named (llama.cpp only logs it)."""
    try:
        header = read_header(path)
    except TgEdgeError as exc:
        raise ProjectorError(f"{path} is not a vision projector: {exc}") from None
    arch = header.metadata.get(gguf_keys.ARCHITECTURE)
    if arch != "clip":
        raise ProjectorError(
            f"{path} is not a vision projector (a GGUF of architecture {arch!r}, not 'clip')"
        )
    width = header.metadata.get(gguf_keys.CLIP_PROJECTION_DIM)
    if isinstance(width, int) and width != engine.n_embd:
        raise ProjectorError(
            f"the vision projector {path} was made for another model: it gives embeddings of {width} values, "
            f"{engine.path.name} takes {engine.n_embd}"
        )
