"""The conversion pipeline on real checkpoints: Gemma 3 270M (reconstructed) and tiny Llama, LFM2, Gemma 3 MM."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from pathlib import Path

import pytest

from tg_edge import Translator, gguf_keys
from tg_edge.prompts import CHAT, FEWSHOT, TRANSLATEGEMMA

from .conftest import run_cli
from .test_prompts import REFERENCE_EN_DE

pytestmark = pytest.mark.integration


def convert(*args: str, env: dict[str, str] | None = None):
    return run_cli("convert", *args, env=env)


@pytest.fixture(scope="module")
def gemma_out(checkpoints: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gemma-gguf")
    # Two quants that differ sharply, on two FLORES sentences per language: the gate's figures are stable
    # (Q8_0's mean KL is about 80 times below Q4_0's) at a third of the default sample's time. One sentence
    # per language (236 tokens) leaves the reference check's top-1 agreement one token above its bound.
    proc = convert(
        str(checkpoints / "gemma3-270m"), "-q", "q8_0,q4_0", "--sample-per-language", "2", "-o", str(out)
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    (out / "table.md").write_bytes(proc.stdout)
    return out


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def test_gemma3_manifest_lists_every_file_with_its_hash_and_fidelity(gemma_out: Path) -> None:
    data = manifest(gemma_out)
    files = {entry["quant"]: entry for entry in data["files"]}
    assert list(files) == ["BF16", "Q8_0", "Q4_0"]
    for entry in files.values():
        path = gemma_out / entry["file"]
        assert entry["size_bytes"] == path.stat().st_size
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (
        files["BF16"]["bits_per_weight"] > files["Q8_0"]["bits_per_weight"] > files["Q4_0"]["bits_per_weight"]
    )
    for quant in ("Q8_0", "Q4_0"):
        fid = files[quant]["fidelity"]
        assert fid["mean_kl"] >= 0 and 0 < fid["top1_agreement"] <= 1 and fid["perplexity"] > 1
    # Q8_0 must be far closer to BF16 than Q4_0 (which loses a lot on this model).
    assert files["Q8_0"]["fidelity"]["mean_kl"] * 10 < files["Q4_0"]["fidelity"]["mean_kl"]
    assert files["Q8_0"]["fidelity"]["top1_agreement"] > files["Q4_0"]["fidelity"]["top1_agreement"]
    assert not list(gemma_out.glob("*.partial"))
    assert "| Q8_0 |" in (gemma_out / "table.md").read_text()


def test_bf16_gguf_matches_transformers(gemma_out: Path) -> None:
    check = manifest(gemma_out)["reference_check"]
    assert check["verdict"] == "passed"
    assert check["top1_agreement"] >= 0.98 and check["mean_kl"] < 0.001


@pytest.mark.parametrize("quant", ["BF16", "Q8_0"])
def test_converted_files_translate(gemma_out: Path, quant: str) -> None:
    with Translator(gemma_out / f"gemma3-270m-{quant}.gguf", threads=2) as translator:
        assert translator.profile == FEWSHOT
        assert "Bahnhof" in translator.translate("Where is the train station?", source="en", target="de").text
        meta = translator._engine.metadata
        assert meta[gguf_keys.PROMPT_PROFILE] == FEWSHOT
        assert meta[gguf_keys.SOURCE_SHA256] == manifest(gemma_out)["source"]["sha256"]


def test_converted_tokenizer_is_the_original_one(gemma_out: Path, demo_model: Path) -> None:
    from tg_edge.engine import Engine

    text = "Wo ist der Bahnhof? 東京駅はどこですか? <b>  spaces\tand tabs</b> 😀"
    with (
        Engine(demo_model, n_ctx=256) as original,
        Engine(gemma_out / "gemma3-270m-Q8_0.gguf", n_ctx=256) as ours,
    ):
        assert ours.tokenize(text, add_bos=True) == original.tokenize(text, add_bos=True)
        assert ours.metadata["tokenizer.ggml.model"] == original.metadata["tokenizer.ggml.model"]


def test_existing_outputs_are_kept_unless_forced(gemma_out: Path, checkpoints: Path) -> None:
    before = (gemma_out / "gemma3-270m-Q8_0.gguf").stat().st_mtime_ns
    proc = convert(str(checkpoints / "gemma3-270m"), "-q", "q8_0", "-o", str(gemma_out))
    assert proc.returncode == 1 and b"already exists; pass --force" in proc.stderr
    assert (gemma_out / "gemma3-270m-Q8_0.gguf").stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("name", "pre_tokenizer", "profile"),
    [("tiny-llama", "llama-bpe", CHAT), ("tiny-lfm2", "lfm2", CHAT)],
)
def test_llama_and_lfm2_checkpoints_convert_and_load(
    checkpoints: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    name: str,
    pre_tokenizer: str,
    profile: str,
) -> None:
    proc = convert(
        str(checkpoints / name), "-q", "q8_0", "-o", str(tmp_path), "--pre-tokenizer", pre_tokenizer
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    assert manifest(tmp_path)["reference_check"]["verdict"] == "passed"
    caplog.set_level(logging.DEBUG, logger="tg_edge.llama")
    with Translator(tmp_path / f"{name}-Q8_0.gguf", threads=2) as translator:
        assert translator.profile == profile
        # The engine's KV size is llama.cpp's: LFM2's conv layers (KV head count 0 in a per-layer array) hold none.
        logged = [
            float(m.group(1))
            for r in caplog.records
            if (m := re.search(r"llama_kv_cache: size = +([0-9.]+) MiB", r.getMessage()))
        ]
        assert len(logged) == 1
        assert translator.stats.kv_cache_bytes == pytest.approx(logged[0] * 2**20, abs=0.01 * 2**20)
        result = translator.translate("Good morning.", source="en", target="de")
        assert result.segments[0].stop in {"eos", "length", "loop"}  # random weights: it runs, and stops


def test_unrecognized_bpe_tokenizer_asks_for_the_pre_tokenizer(checkpoints: Path, tmp_path: Path) -> None:
    proc = convert(str(checkpoints / "tiny-llama"), "-q", "q8_0", "-o", str(tmp_path))
    assert proc.returncode == 1
    assert b"--pre-tokenizer" in proc.stderr and b"Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*.gguf*"))


def test_translategemma_shaped_checkpoint_converts_with_template_and_vision_projector(
    tiny_translategemma: Path,
) -> None:
    data = manifest(tiny_translategemma)
    assert data["prompt_profile"] == TRANSLATEGEMMA
    assert data["fidelity_sample"]["source"].endswith("sample.txt") and data["fidelity_sample"]["texts"] == 2
    assert data["reference_check"]["verdict"] == "passed"
    assert [e["role"] for e in data["files"]] == ["model", "model", "mmproj"]
    with Translator(tiny_translategemma / "tiny-gemma3-mm-Q8_0.gguf", threads=2) as translator:
        assert translator.profile == TRANSLATEGEMMA
        assert (
            translator.render_prompt("Where is the train station?", source="en", target="de")
            == REFERENCE_EN_DE
        )


def test_hub_repo_id_resolves_through_the_local_hf_cache_offline(
    checkpoints: Path, tmp_path: Path, isolated_home: Path
) -> None:
    """snapshot_download's offline path: a repo id found in the HF cache converts without a network."""
    repo = isolated_home / "hf" / "hub" / "models--acme--tiny-llama"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(checkpoints / "tiny-llama", repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    proc = convert(
        "acme/tiny-llama",
        "-q",
        "q4_0",
        "-o",
        str(tmp_path),
        "--pre-tokenizer",
        "llama-bpe",
        "--no-reference-check",
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    data = manifest(tmp_path)
    assert data["source"]["checkpoint"] == "acme/tiny-llama" and data["source"]["revision"] == commit
    assert (tmp_path / "tiny-llama-Q4_0.gguf").is_file()


def test_uncached_repo_offline_is_a_clear_error(tmp_path: Path) -> None:
    proc = convert("acme/not-downloaded", "-o", str(tmp_path))
    assert proc.returncode == 1
    assert b"not in the local Hugging Face cache and HF_HUB_OFFLINE is set" in proc.stderr


def broken_copy(checkpoints: Path, tmp_path: Path, how: str) -> Path:
    ckpt = tmp_path / "ckpt"
    shutil.copytree(checkpoints / "tiny-llama", ckpt)
    weights = ckpt / "model.safetensors"
    if how == "architecture":
        config = json.loads((ckpt / "config.json").read_text())
        config["architectures"] = ["FrobnicatorForCausalLM"]
        (ckpt / "config.json").write_text(json.dumps(config))
    elif how == "no-weights":
        weights.unlink()
    elif how == "truncated":
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    elif how == "garbage":
        weights.write_bytes(b"\x00" * 64)
    return ckpt


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("architecture", b"architecture FrobnicatorForCausalLM is not supported"),
        ("no-weights", b"holds no weights"),
        ("truncated", b"is truncated"),
        ("garbage", b"not a valid safetensors file"),
    ],
)
def test_bad_checkpoints_give_clear_errors(
    checkpoints: Path, tmp_path: Path, how: str, message: bytes
) -> None:
    proc = convert(
        str(broken_copy(checkpoints, tmp_path, how)),
        "-q",
        "q8_0",
        "-o",
        str(tmp_path / "out"),
        "--pre-tokenizer",
        "llama-bpe",
    )
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr and b"Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.gguf*"))


def test_unknown_quant_is_a_clear_error(checkpoints: Path, tmp_path: Path) -> None:
    proc = convert(str(checkpoints / "tiny-llama"), "-q", "q3_x", "-o", str(tmp_path))
    assert proc.returncode == 1 and b"unknown quant type 'Q3_X'" in proc.stderr
