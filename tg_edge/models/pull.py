"""Downloading a model: pick the GGUF file by quant, fetch it into the HF cache with a progress bar, verify its sha256."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import ModelError
from .catalog import CATALOG, DEFAULT_QUANT, CatalogEntry, catalog_entry, family
from .hfcache import delete_cached, hub_cache_dir, offline_mode
from .spec import (
    REPO_ID,
    choose_projector,
    is_projector,
    is_split_part,
    pulled_name,
    quant_of_filename,
    split_quant,
)
from .store import InstalledModel, describe


def pull_model(
    spec: str, *, progress: bool = False, report: Callable[[str], None] | None = None, projector: bool = True
) -> InstalledModel:
    """Download the GGUF file ``spec`` names (``NAME_OR_REPO[:QUANT]``) into the HF cache and verify it.

    The file is chosen by quant from the repository's listing (the catalog's default quant, or
    Q4_K_M, when none is named), downloaded by huggingface-hub (which resumes an interrupted
    transfer), and its sha256 checked against the hub's LFS metadata; a mismatch deletes it.
    A family name (``translategemma``) pulls the largest of its models that fits this machine. The
    repository's vision projector (mmproj GGUF), where it has one, comes along (``projector=False``: not),
    into the same folder, where image translation finds it.
    """
    say = report or (lambda message: None)
    base, quant = split_quant(spec)
    entry = catalog_entry(base)
    if entry is None and family(base):
        chosen = _largest_that_fits(base, quant, say)
        entry, quant = chosen.entry, chosen.quant
    if entry is None and not REPO_ID.fullmatch(base):
        names = ", ".join(e.name for e in CATALOG)
        raise ModelError(
            f"unknown model {base!r}: name one of the catalog ({names}) or a hub repository OWNER/NAME"
        )
    repo = entry.repo if entry is not None else base
    if offline_mode():
        raise ModelError(
            f"cannot pull {spec}: offline mode is on (HF_HUB_OFFLINE=1). Unset HF_HUB_OFFLINE to download; "
            "models already pulled keep working offline"
        )
    from huggingface_hub import HfApi, try_to_load_from_cache

    with _hub_errors(repo):
        info = HfApi().model_info(repo, files_metadata=True)
    sibling = _choose_file(info.siblings or [], quant, entry, repo)
    cache = hub_cache_dir()
    already = isinstance(
        try_to_load_from_cache(repo, sibling.rfilename, cache_dir=cache, revision=info.sha), str
    )
    say(
        f"{'Checking' if already else 'Downloading'} {repo}/{sibling.rfilename} ({_gb(sibling.size)}) into {cache}"
    )
    path = _download(repo, sibling, info.sha, cache, progress, say)
    described = describe(path)
    if described is None:
        delete_cached([path])
        raise ModelError(f"{repo}/{sibling.rfilename} is not a readable GGUF model file; it was deleted")
    folder = PurePosixPath(sibling.rfilename).parent  # a projector beside the model, where it is looked for
    beside = {s.rfilename: s for s in info.siblings or [] if PurePosixPath(s.rfilename).parent == folder}
    mmproj = choose_projector(list(beside), sibling.rfilename) if projector else None
    if mmproj is not None:
        say(f"Downloading its vision projector {repo}/{mmproj} ({_gb(beside[mmproj].size)})")
        _download(repo, beside[mmproj], info.sha, cache, progress, say)
    name = pulled_name(entry.name if entry else repo, quant_of_filename(sibling.rfilename) or "unknown")
    return InstalledModel(name, path, path.stat().st_size, *described, repo, info.sha)


def _download(
    repo: str,
    sibling,
    revision: str | None,
    cache: Path,
    progress: bool,
    say: Callable[[str], None],
) -> Path:
    """One repository file into the HF cache (resumed if interrupted), checked against the hub's checksum."""
    from huggingface_hub import hf_hub_download

    with _hub_errors(repo):
        path = Path(
            hf_hub_download(
                repo,
                sibling.rfilename,
                revision=revision,
                cache_dir=cache,
                tqdm_class=_progress_bar_class(progress),
            )
        )
    say("Verifying the checksum")
    _verify(path, sibling)
    return path


def _largest_that_fits(name: str, quant: str | None, say: Callable[[str], None]):
    from ..machine import machine
    from .fits import default_context, pick_largest, speed_here
    from .store import installed_models

    here = machine()
    return pick_largest(
        name,
        quant,
        here.budget,
        default_context(gpu=here.gpu_backend),
        installed=installed_models(),
        facts=speed_here(here),
        say=say,
    )


def _choose_file(siblings: list, quant: str | None, entry: CatalogEntry | None, repo: str):
    """The repository file to pull: a single-file GGUF model (no vision projector) of the wanted quant."""
    ggufs = [s for s in siblings if s.rfilename.lower().endswith(".gguf") and not is_projector(s.rfilename)]
    if not ggufs:
        raise ModelError(f"the hub repository {repo} holds no GGUF model file")
    by_quant: dict[str, list] = {}
    for sibling in ggufs:
        by_quant.setdefault(quant_of_filename(sibling.rfilename) or "unknown", []).append(sibling)
    offered = ", ".join(sorted(by_quant))
    if quant is None:
        wanted = entry.default_quant if entry is not None else DEFAULT_QUANT
        if wanted not in by_quant:
            if len(by_quant) > 1:
                raise ModelError(f"{repo} has no {wanted} file; name a quant, one of: {offered}")
            wanted = next(iter(by_quant))
    elif quant in by_quant:
        wanted = quant
    else:
        raise ModelError(f"{repo} has no {quant} file; it offers: {offered}")
    files = by_quant[wanted]
    if any(is_split_part(s.rfilename) for s in files):
        raise ModelError(
            f"the {wanted} model of {repo} is split into several files, which tg-edge does not join yet"
        )
    if len(files) > 1:
        names = ", ".join(s.rfilename for s in files)
        raise ModelError(f"{repo} has several {wanted} files ({names}); pass a path after downloading one")
    return files[0]


def _verify(path: Path, sibling) -> None:
    """Check the downloaded file against the hub's sha256 (LFS) or git blob id; delete it on a mismatch."""
    if sibling.lfs is not None:
        expected, actual = sibling.lfs.sha256, _file_digest(path, hashlib.sha256())
    elif sibling.blob_id:
        size = path.stat().st_size
        expected, actual = sibling.blob_id, _file_digest(path, hashlib.sha1(f"blob {size}\0".encode()))
    else:
        raise ModelError(f"the hub gave no checksum for {sibling.rfilename}, so it cannot be verified")
    if expected != actual:
        delete_cached([path])
        raise ModelError(
            f"checksum mismatch for {sibling.rfilename}: expected {expected}, got {actual}; "
            "the file was deleted, pull it again"
        )


def _file_digest(path: Path, digest: hashlib._Hash) -> str:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(8 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _hub_errors(repo: str) -> Iterator[None]:
    """Turn huggingface-hub's and the network's errors into one clear ModelError each."""
    from huggingface_hub import constants
    from huggingface_hub import errors as hub

    try:
        yield
    except hub.GatedRepoError:
        raise ModelError(
            f"{repo} is gated: accept its license at {constants.ENDPOINT}/{repo} and log in "
            "(`hf auth login`, or set HF_TOKEN)"
        ) from None
    except hub.RepositoryNotFoundError:
        raise ModelError(f"no model repository {repo} on the hub (a private one needs HF_TOKEN)") from None
    except hub.OfflineModeIsEnabled:
        raise ModelError(f"cannot pull from {repo}: offline mode is on (HF_HUB_OFFLINE=1)") from None
    except hub.HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise ModelError(f"the hub answered HTTP {status} for {repo}: {str(exc).splitlines()[0]}") from None
    except _transport_errors() as exc:
        raise ModelError(
            f"cannot reach the Hugging Face Hub at {constants.ENDPOINT} ({type(exc).__name__}: {exc}); check the "
            "network connection, or use a GGUF file you have with --model PATH"
        ) from None


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Network errors of whichever HTTP client this huggingface-hub version uses, and the OS's."""
    errors: list[type[BaseException]] = [OSError]
    for module, name in (
        ("httpx2", "TransportError"),
        ("httpx", "TransportError"),
        ("requests", "RequestException"),
    ):
        if importlib.util.find_spec(module) is not None:
            errors.append(getattr(importlib.import_module(module), name))
    return tuple(errors)


def _progress_bar_class(show: bool) -> type:
    """A tqdm class for huggingface-hub: a bar on stderr when ``show`` (TTY or not), else none."""
    from tqdm import tqdm

    class ProgressBar(tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:  # huggingface-hub's, passed on
            kwargs.pop("name", None)
            kwargs["disable"] = not show
            super().__init__(*args, **kwargs)

    return ProgressBar


def _gb(size: int | None) -> str:
    if size is None:
        return "size unknown"
    return f"{size / 1e9:.2f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"
