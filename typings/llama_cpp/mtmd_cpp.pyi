# The mtmd (multimodal) bindings tg_edge.projector calls (see README.md), llama-cpp-python 0.3.36.
import ctypes
from typing import NewType

from .llama_cpp import llama_context_p, llama_model_p

mtmd_context_p = NewType("mtmd_context_p", int)
mtmd_bitmap_p = NewType("mtmd_bitmap_p", int)
mtmd_input_chunk_p = NewType("mtmd_input_chunk_p", int)
mtmd_input_chunks_p = NewType("mtmd_input_chunks_p", int)

mtmd_bitmap_p_ctypes = ctypes.c_void_p

MTMD_INPUT_CHUNK_TYPE_TEXT: int
MTMD_INPUT_CHUNK_TYPE_IMAGE: int

class mtmd_context_params(ctypes.Structure):
    use_gpu: bool
    print_timings: bool
    n_threads: int
    media_marker: bytes | None
    warmup: bool

class mtmd_input_text(ctypes.Structure):
    text: bytes | None
    text_len: int
    add_special: bool
    parse_special: bool

def mtmd_log_set(log_callback: ctypes._CFunctionType | None, user_data: ctypes.c_void_p, /) -> None: ...
def mtmd_helper_log_set(
    log_callback: ctypes._CFunctionType | None, user_data: ctypes.c_void_p, /
) -> None: ...
def mtmd_context_params_default() -> mtmd_context_params: ...
def mtmd_init_from_file(
    mmproj_fname: bytes, text_model: llama_model_p, ctx_params: mtmd_context_params, /
) -> mtmd_context_p | None: ...
def mtmd_free(ctx: mtmd_context_p, /) -> None: ...
def mtmd_support_vision(ctx: mtmd_context_p, /) -> bool: ...
def mtmd_bitmap_init(nx: int, ny: int, data: ctypes.Array[ctypes.c_uint8], /) -> mtmd_bitmap_p | None: ...
def mtmd_bitmap_free(bitmap: mtmd_bitmap_p, /) -> None: ...
def mtmd_input_chunks_init() -> mtmd_input_chunks_p | None: ...
def mtmd_input_chunks_free(chunks: mtmd_input_chunks_p, /) -> None: ...
def mtmd_input_chunks_size(chunks: mtmd_input_chunks_p, /) -> int: ...
def mtmd_input_chunks_get(chunks: mtmd_input_chunks_p, idx: int, /) -> mtmd_input_chunk_p | None: ...
def mtmd_input_chunk_get_type(chunk: mtmd_input_chunk_p, /) -> int: ...
def mtmd_input_chunk_get_n_tokens(chunk: mtmd_input_chunk_p, /) -> int: ...
def mtmd_input_chunk_get_tokens_text(
    chunk: mtmd_input_chunk_p, n_tokens_output: ctypes._CArgObject, /
) -> ctypes._Pointer[ctypes.c_int32] | None: ...
def mtmd_tokenize(
    ctx: mtmd_context_p,
    output: mtmd_input_chunks_p,
    text: ctypes._CArgObject,
    bitmaps: ctypes.Array[ctypes.c_void_p],
    n_bitmaps: int,
    /,
) -> int: ...
def mtmd_helper_get_n_pos(chunks: mtmd_input_chunks_p, /) -> int: ...
def mtmd_helper_eval_chunks(
    ctx: mtmd_context_p,
    lctx: llama_context_p,
    chunks: mtmd_input_chunks_p,
    n_past: int,
    seq_id: int,
    n_batch: int,
    logits_last: bool,
    new_n_past: ctypes._CArgObject,
    /,
) -> int: ...
