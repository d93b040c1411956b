"""Find and check the Hugging Face checkpoint to convert: a local directory or a hub repository."""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..models import offline_mode

WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "consolidated*.pth")
_HASHED = ("config.json", "tokenizer.model", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja")


@dataclass(frozen=True)
class Checkpoint:
    """A local checkpoint directory, checked to hold a config and readable weights."""

    path: Path
    source: str  # what the user named: a path or a repo id
    revision: str | None
    architecture: str
    config: dict

    @property
    def chat_template(self) -> str | None:
        """The chat template the checkpoint ships (chat_template.jinja or tokenizer_config.json)."""
        jinja = self.path / "chat_template.jinja"
        if jinja.is_file():
            return jinja.read_text(encoding="utf-8")
        tokenizer_config = self.path / "tokenizer_config.json"
        if tokenizer_config.is_file():
            template = json.loads(tokenizer_config.read_text(encoding="utf-8")).get("chat_template")
            if isinstance(template, str):
                return template
        return None

    def weight_files(self) -> list[Path]:
        return sorted({p for pattern in WEIGHT_PATTERNS for p in self.path.glob(pattern)})

    def sha256(self) -> str:
        """One hash over the files that decide the model: config, tokenizer and weights."""
        digest = hashlib.sha256()
        for path in sorted(
            [self.path / n for n in _HASHED if (self.path / n).is_file()] + self.weight_files()
        ):
            digest.update(path.name.encode() + b"\0")
            _feed(digest, path)
        return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The sha256 of one file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    _feed(digest, path)
    return digest.hexdigest()


def _feed(digest: hashlib._Hash, path: Path) -> None:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def open_checkpoint(name_or_path: str, *, revision: str | None = None) -> Checkpoint:
    """A checked local checkpoint for ``name_or_path``, downloading a hub repo id when it is no directory."""
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        return _check(local, str(local), None)
    if local.exists():
        raise ModelError(f"{local} is a file; pass the checkpoint directory that holds config.json")
    if name_or_path.count("/") != 1 or name_or_path.startswith((".", "/", "~")):
        raise ModelError(
            f"checkpoint {name_or_path!r} not found: not a directory, and not a hub repo id (owner/name)"
        )
    path, resolved = _download(name_or_path, revision)
    return _check(path, name_or_path, resolved)


def _download(repo_id: str, revision: str | None) -> tuple[Path, str | None]:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    patterns = ["*.json", "*.jinja", "tokenizer.model", *WEIGHT_PATTERNS]
    try:
        path = Path(snapshot_download(repo_id, revision=revision, allow_patterns=patterns))
    except GatedRepoError as exc:
        raise ModelError(f"{repo_id} is gated: accept its license on the hub and set HF_TOKEN") from exc
    except RepositoryNotFoundError as exc:
        raise ModelError(f"hub repository {repo_id} not found (or private: set HF_TOKEN)") from exc
    except RevisionNotFoundError as exc:
        raise ModelError(f"revision {revision!r} of {repo_id} not found") from exc
    except LocalEntryNotFoundError as exc:
        why = "HF_HUB_OFFLINE is set" if offline_mode() else "the hub could not be reached"
        raise ModelError(f"{repo_id} is not in the local Hugging Face cache and {why}") from exc
    except OSError as exc:
        raise ModelError(f"could not download {repo_id}: {exc}") from exc
    return path, path.name  # snapshot folders are named by commit hash


def _check(path: Path, source: str, revision: str | None) -> Checkpoint:
    config_file = path / "config.json"
    if not config_file.is_file():
        raise ModelError(f"{path} has no config.json: not a Hugging Face checkpoint directory")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{config_file} is not valid JSON: {exc}") from exc
    architectures = config.get("architectures") or []
    if not architectures:
        raise ModelError(f"{config_file} names no architecture (no 'architectures' list)")
    checkpoint = Checkpoint(path, source, revision, architectures[0], config)
    weights = checkpoint.weight_files()
    if not weights:
        raise ModelError(f"{path} holds no weights (no *.safetensors or pytorch_model*.bin files)")
    for weight in weights:
        if weight.suffix == ".safetensors":
            check_safetensors(weight)
    return checkpoint


def check_safetensors(path: Path) -> None:
    """Fail clearly on a truncated or corrupt safetensors file before the converter chokes on it."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            (header_len,) = struct.unpack("<Q", handle.read(8))
            if header_len <= 0 or 8 + header_len > size:
                raise ValueError("header length points past the end of the file")
            header = json.loads(handle.read(header_len))
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise ModelError(f"{path} is not a valid safetensors file ({exc})") from exc
    end = max((info["data_offsets"][1] for key, info in header.items() if key != "__metadata__"), default=0)
    if 8 + header_len + end > size:
        raise ModelError(
            f"{path} is truncated: its header describes {8 + header_len + end} bytes, the file has {size}"
        )
