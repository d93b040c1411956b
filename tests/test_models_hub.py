"""Model management against a hub on loopback: `tg-edge models pull/list/rm` and `--model NAME`.

huggingface-hub's real download code runs (HF_ENDPOINT points at tests/hub.py's server); the real
hub is never contacted.
"""

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tg_edge.errors import ModelError
from tg_edge.models import find_pulled, resolve_model, split_quant

from .conftest import spawn_cli
from .hub import HubFile, LocalHub, tiny_gguf

CATALOG_REPO = "mradermacher/translategemma-4b-it-GGUF"  # what the catalog name translategemma-4b pulls from


@pytest.fixture
def hub() -> Iterator[LocalHub]:
    server = LocalHub().start()
    yield server
    server.stop()


def hub_env(hub: LocalHub, home: Path) -> dict[str, str]:
    return {
        "HF_ENDPOINT": hub.url,
        "HF_HUB_OFFLINE": "0",
        "HF_HOME": str(home / "hf"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
    }


def cache_files(home: Path) -> list[Path]:
    return sorted(p for p in (home / "hf").rglob("*") if p.is_file() or p.is_symlink())


@pytest.mark.integration
def test_pull_resumes_verifies_lists_translates_and_removes(
    hub: LocalHub, demo_model: Path, isolated_home: Path
) -> None:
    served = HubFile(path=demo_model)
    hub.repos[CATALOG_REPO] = {
        "translategemma-4b-it.Q4_K_M.gguf": served,
        "translategemma-4b-it.Q8_0.gguf": HubFile(data=tiny_gguf()),
        "translategemma-4b-it.mmproj-f16.gguf": HubFile(data=tiny_gguf(1)),
        "README.md": HubFile(data=b"# a model card\n", lfs=False),
    }
    hub.drop_after = 64 << 20  # the first download breaks off after 64 MiB
    env = hub_env(hub, isolated_home)

    pulled = spawn_cli("models", "pull", "translategemma-4b", env=env)
    assert pulled.returncode == 0, pulled.stderr.decode()
    path = Path(pulled.stdout.decode().strip())
    assert path.name == "translategemma-4b-it.Q4_K_M.gguf" and path.is_relative_to(
        isolated_home / "hf" / "hub"
    )
    assert hashlib.sha256(path.read_bytes()).hexdigest() == served.sha256
    gets = [(p, r) for method, p, r in hub.requests if method == "GET" and "/resolve/" in p and "Q4_K_M" in p]
    assert len(gets) == 2 and gets[0][1] is None and gets[1][1].startswith("bytes=")  # resumed, not restarted
    projector = path.parent / "translategemma-4b-it.mmproj-f16.gguf"  # fetched beside it, where --image looks
    assert projector.read_bytes() == tiny_gguf(1)
    assert int(gets[1][1].removeprefix("bytes=").rstrip("-")) > 0
    stderr = pulled.stderr.decode()
    assert (
        "Verifying the checksum" in stderr and "sha256 verified" in stderr and "100%" in stderr
    )  # progress bar

    listed = json.loads(spawn_cli("models", "list", "--json", env=env).stdout)
    mine = [m for m in listed["installed"] if m["repo"] == CATALOG_REPO]
    assert [(m["name"], m["quant"], m["profile"]) for m in mine] == [
        ("translategemma-4b:Q4_K_M", "Q4_K_M", "fewshot")
    ]
    assert mine[0]["size"] == demo_model.stat().st_size
    assert "translategemma-4b" in [c["name"] for c in listed["catalog"]]

    offline = {**env, "HF_HUB_OFFLINE": "1"}
    translated = spawn_cli(
        "translate",
        "-s",
        "en",
        "-t",
        "de",
        "--model",
        "translategemma-4b",
        "Where is the train station?",
        env=offline,
    )
    assert translated.returncode == 0, translated.stderr.decode()
    assert "Bahnhof" in translated.stdout.decode()

    removed = spawn_cli("models", "rm", "translategemma-4b", env=env)
    assert removed.returncode == 0 and b"Removed translategemma-4b:Q4_K_M" in removed.stderr
    assert not (isolated_home / "hf" / "hub" / "models--mradermacher--translategemma-4b-it-GGUF").exists()
    assert not projector.exists()  # the projector went with its model
    again = spawn_cli("translate", "-s", "en", "-t", "de", "--model", "translategemma-4b", "Hi", env=offline)
    assert (
        again.returncode == 1 and b"not pulled yet: `tg-edge models pull translategemma-4b`" in again.stderr
    )


def test_pull_by_repo_and_quant_then_resolve_it_by_name(hub: LocalHub, isolated_home: Path) -> None:
    hub.repos["someone/tiny-GGUF"] = {
        "tiny.Q8_0.gguf": HubFile(data=tiny_gguf()),
        "tiny.Q4_0.gguf": HubFile(data=tiny_gguf(2)),
    }
    proc = spawn_cli("models", "pull", "--quiet", "someone/tiny-GGUF:q8_0", env=hub_env(hub, isolated_home))
    assert proc.returncode == 0, proc.stderr.decode()
    assert Path(proc.stdout.decode().strip()).name == "tiny.Q8_0.gguf"
    assert b"%|" not in proc.stderr  # --quiet: no progress bar
    assert resolve_model("someone/tiny-GGUF:Q8_0") == Path(proc.stdout.decode().strip())
    assert resolve_model("someone/tiny-GGUF") == Path(proc.stdout.decode().strip())  # the only quant pulled


def test_pull_takes_the_projector_beside_the_model_unless_told_not_to(
    hub: LocalHub, isolated_home: Path
) -> None:
    hub.repos["someone/vision-GGUF"] = {
        "vision.Q8_0.gguf": HubFile(data=tiny_gguf()),
        "mmproj-vision-Q8_0.gguf": HubFile(data=tiny_gguf(7)),
        "mmproj-vision-F16.gguf": HubFile(data=tiny_gguf(1)),  # the least quantized of several is taken
        "other/mmproj-elsewhere-F16.gguf": HubFile(data=tiny_gguf(1)),  # not beside the model
    }
    env = hub_env(hub, isolated_home)
    bare = spawn_cli("models", "pull", "--quiet", "--no-projector", "someone/vision-GGUF:Q8_0", env=env)
    assert bare.returncode == 0, bare.stderr.decode()
    assert sorted(p.name for p in Path(bare.stdout.decode().strip()).parent.iterdir()) == ["vision.Q8_0.gguf"]
    proc = spawn_cli("models", "pull", "--quiet", "someone/vision-GGUF:Q8_0", env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    folder = Path(proc.stdout.decode().strip()).parent
    assert sorted(p.name for p in folder.iterdir()) == ["mmproj-vision-F16.gguf", "vision.Q8_0.gguf"]
    assert b"Downloading its vision projector someone/vision-GGUF/mmproj-vision-F16.gguf" in proc.stderr


def test_a_corrupt_download_is_deleted_and_reported(hub: LocalHub, isolated_home: Path) -> None:
    hub.repos["someone/tiny-GGUF"] = {"tiny.Q8_0.gguf": HubFile(data=tiny_gguf(), sha256="0" * 64)}
    proc = spawn_cli("models", "pull", "someone/tiny-GGUF", env=hub_env(hub, isolated_home))
    assert proc.returncode == 1 and proc.stdout == b""
    assert b"checksum mismatch for tiny.Q8_0.gguf" in proc.stderr and b"the file was deleted" in proc.stderr
    assert b"Traceback" not in proc.stderr
    assert not [p for p in cache_files(isolated_home) if p.suffix == ".gguf" or "blobs" in p.parts]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("someone/tiny-GGUF:Q6_K", b"someone/tiny-GGUF has no Q6_K file; it offers: Q4_0, Q8_0"),
        ("someone/tiny-GGUF", b"has no Q4_K_M file; name a quant, one of: Q4_0, Q8_0"),
        ("nobody/missing-GGUF", b"no model repository nobody/missing-GGUF on the hub"),
        ("no-such-model", b"unknown model 'no-such-model': name one of the catalog (translategemma-4b"),
    ],
)
def test_pull_errors_are_one_clear_line(
    hub: LocalHub, isolated_home: Path, spec: str, message: bytes
) -> None:
    hub.repos["someone/tiny-GGUF"] = {
        "tiny.Q8_0.gguf": HubFile(data=tiny_gguf()),
        "tiny.Q4_0.gguf": HubFile(data=tiny_gguf(2)),
    }
    proc = spawn_cli("models", "pull", spec, env=hub_env(hub, isolated_home))
    assert proc.returncode == 1 and message in proc.stderr and b"Traceback" not in proc.stderr


def test_offline_mode_and_no_network_are_clear_messages(isolated_home: Path) -> None:
    offline = spawn_cli("models", "pull", "translategemma-4b", env={"HF_HUB_OFFLINE": "1"})
    assert offline.returncode == 1
    assert b"offline mode is on (HF_HUB_OFFLINE=1)" in offline.stderr and b"Traceback" not in offline.stderr
    import socket

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
    unreachable = spawn_cli(
        "models",
        "pull",
        "translategemma-4b",
        env={"HF_HUB_OFFLINE": "0", "HF_ENDPOINT": endpoint, "NO_PROXY": "127.0.0.1"},
    )
    assert unreachable.returncode == 1 and b"Traceback" not in unreachable.stderr
    assert f"cannot reach the Hugging Face Hub at {endpoint}".encode() in unreachable.stderr


def test_models_list_and_rm_without_anything_pulled() -> None:
    listed = spawn_cli("models", "list")
    assert (
        listed.returncode == 0
        and b"translategemma-12b" in listed.stdout
        and b"mradermacher/" in listed.stdout
    )
    removed = spawn_cli("models", "rm", "translategemma-27b")
    assert removed.returncode == 1 and b"no installed model matches 'translategemma-27b'" in removed.stderr


def place_in_cache(home: Path, repo: str, filename: str, data: bytes) -> Path:
    """A file laid out as huggingface-hub stores it: blob by hash, snapshot entry linking to it."""
    folder = home / "hf" / "hub" / ("models--" + repo.replace("/", "--"))
    blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    entry = folder / "snapshots" / ("a" * 40) / filename
    entry.parent.mkdir(parents=True, exist_ok=True)
    entry.symlink_to(os.path.relpath(blob, entry.parent))
    return entry


def test_names_resolve_to_pulled_files_and_ambiguity_is_an_error(isolated_home: Path) -> None:
    q4 = place_in_cache(isolated_home, CATALOG_REPO, "translategemma-4b-it.Q4_K_M.gguf", tiny_gguf(15))
    q8 = place_in_cache(isolated_home, CATALOG_REPO, "translategemma-4b-it.Q8_0.gguf", tiny_gguf(7))
    assert resolve_model("translategemma-4b") == q4  # the catalog's default quant
    assert resolve_model("translategemma-4b:q8_0") == q8
    assert resolve_model(f"{CATALOG_REPO}:Q8_0") == q8
    with pytest.raises(
        ModelError, match="several quants of mradermacher/translategemma-4b-it-GGUF are pulled"
    ):
        find_pulled(CATALOG_REPO)  # a repo id has no default quant
    with pytest.raises(ModelError, match="translategemma-12b is not pulled yet"):
        resolve_model("translategemma-12b")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("translategemma-4b:q4_k_m", ("translategemma-4b", "Q4_K_M")),
        ("owner/repo:IQ4_XS", ("owner/repo", "IQ4_XS")),
        ("owner/repo", ("owner/repo", None)),
        ("C:/models/x.gguf", ("C:/models/x.gguf", None)),
        ("name:latest", ("name:latest", None)),
    ],
)
def test_split_quant(spec: str, expected: tuple[str, str | None]) -> None:
    assert split_quant(spec) == expected
