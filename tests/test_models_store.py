"""The model store on a Hugging Face cache laid out by hand: listing, resolving, removal, offline mode, home dir."""

import hashlib
import os
import sys
from pathlib import Path

import pytest
from huggingface_hub import scan_cache_dir

from tg_edge.models import home_dir, hub_cache_dir, installed_models, remove_models, resolve_model

from .conftest import spawn_cli
from .hub import tiny_gguf

REPO = "mradermacher/translategemma-4b-it-GGUF"  # the catalog's translategemma-4b
OLD, NEW = "a" * 40, "b" * 40


def put(home: Path, revision: str, filename: str, data: bytes, refs: tuple[str, ...] = ()) -> Path:
    """A file laid out as huggingface-hub stores it: a blob by hash, a snapshot entry linking to it, refs."""
    folder = home / "hf" / "hub" / ("models--" + REPO.replace("/", "--"))
    blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    entry = folder / "snapshots" / revision / filename
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.symlink_to(os.path.relpath(blob, entry.parent))
    for ref in refs:
        (folder / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (folder / "refs" / ref).write_text(revision)
    return entry


def scanned(home: Path) -> dict[str, set[str]]:
    """Revision → file names, as huggingface-hub's own scan sees the cache; a damaged cache fails the test."""
    info = scan_cache_dir(home / "hf" / "hub")
    assert info.warnings == []
    return {
        rev.commit_hash: {f.file_name for f in rev.files} for repo in info.repos for rev in repo.revisions
    }


def test_the_hub_cache_follows_hf_home(isolated_home: Path) -> None:
    assert hub_cache_dir() == (isolated_home / "hf" / "hub").resolve()


def test_removing_one_quant_keeps_the_others_and_shared_blobs(isolated_home: Path) -> None:
    q4 = tiny_gguf(15)
    put(isolated_home, OLD, "translategemma-4b-it.Q4_K_M.gguf", q4, refs=("refs/pr/1",))
    put(isolated_home, NEW, "translategemma-4b-it.Q4_K_M.gguf", q4, refs=("main",))  # the same blob
    q8 = put(isolated_home, NEW, "translategemma-4b-it.Q8_0.gguf", tiny_gguf(7))
    q8_blob = q8.resolve()

    removed = remove_models("translategemma-4b:q8_0")
    assert [(m.name, m.revision) for m in removed] == [("translategemma-4b:Q8_0", NEW)]
    assert not q8_blob.exists()
    assert scanned(isolated_home) == {
        OLD: {"translategemma-4b-it.Q4_K_M.gguf"},
        NEW: {"translategemma-4b-it.Q4_K_M.gguf"},
    }
    assert resolve_model("translategemma-4b").name == "translategemma-4b-it.Q4_K_M.gguf"


def test_a_revision_left_empty_goes_with_its_refs(isolated_home: Path) -> None:
    put(isolated_home, OLD, "translategemma-4b-it.Q4_K_M.gguf", tiny_gguf(15), refs=("refs/pr/1",))
    put(isolated_home, NEW, "translategemma-4b-it.Q4_K_M.gguf", tiny_gguf(15, padding=8192), refs=("main",))
    put(isolated_home, NEW, "translategemma-4b-it.mmproj-f16.gguf", tiny_gguf(1))  # goes with its last model
    put(isolated_home, NEW, "README.md", b"# a model card\n")  # not a model: stays

    assert len(remove_models("translategemma-4b")) == 2
    assert scanned(isolated_home) == {NEW: {"README.md"}}  # refs/pr/1 went with OLD
    repo_dir = isolated_home / "hf" / "hub" / ("models--" + REPO.replace("/", "--"))
    assert len(list((repo_dir / "blobs").iterdir())) == 1  # only the model card's
    assert installed_models() == []


def test_a_repository_left_without_revisions_goes_whole(isolated_home: Path) -> None:
    entry = put(isolated_home, NEW, "translategemma-4b-it.Q4_K_M.gguf", tiny_gguf(15), refs=("main",))
    (entry.parents[2] / ".no_exist" / NEW).mkdir(
        parents=True
    )  # huggingface-hub's record of files it did not find
    assert [m.name for m in remove_models("translategemma-4b")] == ["translategemma-4b:Q4_K_M"]
    assert not entry.parents[2].exists()


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_offline_mode_is_read_as_huggingface_hub_reads_it(value: str) -> None:
    proc = spawn_cli(
        "models",
        "pull",
        "translategemma-4b",
        env={"HF_HUB_OFFLINE": value, "HF_ENDPOINT": "http://0.0.0.0:9"},
    )
    assert proc.returncode == 1 and b"offline mode is on (HF_HUB_OFFLINE=1)" in proc.stderr
    assert b"Traceback" not in proc.stderr


@pytest.mark.skipif(sys.platform != "linux", reason="platformdirs' answer differs by OS")
def test_home_dir_is_tg_edge_home_else_the_platform_cache(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert home_dir() == isolated_home / "tg-edge"
    monkeypatch.delenv("TG_EDGE_HOME")
    assert home_dir() == isolated_home / "cache" / "tg-edge"
