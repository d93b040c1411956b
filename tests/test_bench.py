"""The benchmark harness: it runs on a tiny setting and writes complete reports; errors are clean messages.

Benchmarks are not tests: nothing here checks a time or a speed.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tg_edge import ModelError
from tg_edge.bench.modelfile import find_models, read_model_file
from tg_edge.bench.runner import BenchSettings
from tg_edge.engine import BatchToken

from .conftest import modules_after_help, run_cli, spawn_cli

SECTIONS = {"tool", "started", "seconds", "settings", "machine", "bandwidth", "models"}
REFERENCE_FIGURES = {
    "raw": {"load_s", "n_prompt", "n_decode", "ttft_s", "prompt_tok_s", "decode_tok_s", "peak_rss_bytes"},
    "naive": {"load_s", "latency", "document", "quality", "peak_rss_bytes"},
    "naive_fresh": {"load_s", "latency", "document", "quality", "peak_rss_bytes"},
    "tg_edge": {
        "load_s",
        "n_prompt",
        "n_decode",
        "ttft_s",
        "prompt_tok_s",
        "decode_tok_s",
        "latency",
        "document",
        "quality",
        "peak_rss_bytes",
    },
}


def test_bench_help_loads_neither_llama_cpp_nor_plotting() -> None:
    assert modules_after_help(["bench", "--help"], ("llama_cpp", "matplotlib", "sacrebleu")) == []


def test_model_file_reads_quant_and_bytes_per_token_from_the_header(demo_model: Path) -> None:
    model = read_model_file(demo_model)
    assert model.quant == "Q4_K_M"
    assert 0.9 * model.file_bytes < model.tensor_bytes < model.file_bytes
    assert model.bytes_per_token == model.tensor_bytes  # Gemma 3 ties its output to the token embedding
    assert [m.path for m in find_models([str(demo_model.parent)], ["q4_k_m"])] == [demo_model.resolve()]


def test_model_selection_errors_name_what_was_found(demo_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no model file of quant Q8_0; the files given are Q4_K_M"):
        find_models([str(demo_model)], ["Q8_0"])
    with pytest.raises(ModelError, match="no .gguf files in"):
        find_models([str(tmp_path)])


def test_settings_are_validated() -> None:
    assert BenchSettings.quick().document == 20
    assert BenchSettings.quick(document=5, sentences=2).sentences == 2
    with pytest.raises(ValueError, match="sentences <= document"):
        BenchSettings(sentences=30, document=20)


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (["-m", "missing.gguf"], {}, 1, "model file not found: missing.gguf"),
        (["-t", "zu"], {}, 1, "no FLORES-200 file for 'zu'"),
        (["-t", "klingon"], {}, 2, "unknown language 'klingon'"),
        ([], {"TG_EDGE_FLORES": "/nonexistent"}, 1, "not found in /nonexistent (TG_EDGE_FLORES)"),
        (["--sentences", "9", "--document", "3"], {}, 2, "sentences <= document"),
    ],
)
def test_bad_input_is_a_clean_error(
    args: list[str], env: dict[str, str], code: int, message: str, tmp_path: Path
) -> None:
    proc = run_cli("bench", "--out", str(tmp_path / "out"), *args, env=env)
    assert proc.returncode == code
    assert message.encode() in proc.stderr and b"Traceback" not in proc.stderr
    assert proc.stdout == b"" and not (tmp_path / "out").exists()


@pytest.mark.integration
def test_tiny_run_writes_json_markdown_and_chart(demo_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = spawn_cli(  # a process of its own: the bench's worker processes write their progress to its stderr
        "bench",
        "-m",
        str(demo_model),
        "--sentences",
        "1",
        "--document",
        "2",
        "--repeats",
        "1",
        "--tokens",
        "8",
        "--threads",
        "1",
        "--out",
        str(out),  # 1 thread: robust on a busy CPU
    )
    assert proc.returncode == 0, proc.stderr.decode()
    table = proc.stdout.decode()
    for label in (
        "raw llama.cpp loop",
        "naive llama-cpp-python",
        "naive, prefix each time",
        "tg-edge",
        "Q4_K_M",
    ):
        assert label in table
    assert "naive llama-cpp-python: sentence 1/2" in proc.stderr.decode()  # progress, on stderr (throttled)

    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results.keys() >= SECTIONS
    assert results["settings"]["document"] == 2 and results["machine"]["cpu"]
    assert results["bandwidth"]["gb_per_s"] > 0
    (entry,) = results["models"]
    for reference, figures in REFERENCE_FIGURES.items():
        assert figures <= entry[reference].keys(), reference
    assert entry["tg_edge"]["n_prompt"] == entry["raw"]["n_prompt"]  # the same prompt, token for token
    assert entry["tg_edge"]["latency"]["n"] == 1 and entry["tg_edge"]["document"]["segments"] == 2
    assert 0 <= entry["tg_edge"]["quality"]["chrf++"] <= 100
    assert entry["naive"]["peak_rss_bytes"] > entry["model"]["tensor_bytes"] / 2  # mmap'd weights count
    memory = entry["tg_edge"]["memory"]
    assert (
        memory["ratio"] > memory["raw_ratio"] > 0.9
    )  # weights and KV cache are resident in both; ours has more
    assert set(entry["ratios"]) >= {
        "decode_vs_raw",
        "document_vs_naive",
        "document_vs_naive_fresh",
        "tg_edge_decode_of_bandwidth",
    }
    agreement = entry["agreement"]  # every differing output is located and its margin measured
    assert agreement["identical_outputs"] + len(agreement["differences"]) == agreement["of"] == 2
    for difference in agreement["differences"]:  # one of the two left the greedy path, at a measured gap
        assert difference["retried"] or difference["gap"] >= 0
        assert difference["retried"] or {difference["tg_edge_leaves_at"], difference["naive_leaves_at"]} != {
            None
        }
    assert (out / "results.md").read_text(encoding="utf-8") == table
    assert (out / "results.png").read_bytes().startswith(b"\x89PNG")


def test_units_are_traced_to_their_lines(translator) -> None:
    """The reference loops translate tg-edge's units; each unit must be put back on its own line."""
    from tg_edge.bench.tgedge import _lines_of

    document = "I like tea. My brother likes coffee.\nWhere is the station?\n"
    result = translator.translate(document, source="en", target="de")
    assert [unit.source.strip() for unit in result.segments] == [
        "I like tea.",
        "My brother likes coffee.",
        "Where is the station?",
    ]
    assert _lines_of(document, result.segments) == [0, 0, 1]


def test_departures_find_where_an_output_leaves_the_greedy_path(demo_model: Path, translator) -> None:
    from tg_edge.bench.agreement import _departures
    from tg_edge.engine import Engine, on_own_thread

    def departures(prompt_text: str) -> tuple[list[str], dict]:
        with Engine(demo_model, n_ctx=512, threads=2) as engine:
            prompt = engine.tokenize(prompt_text, add_bos=engine.adds_bos)
            engine.evaluate(prompt)
            greedy = b""
            for step in range(40):  # the model's own greedy answer, up to its line end
                token = int(engine.last_logits().argmax())
                piece = engine.token_bytes(token)
                if engine.is_end_of_generation(token) or b"\n" in piece:
                    break
                greedy += piece
                engine.decode([BatchToken(token, len(prompt) + step, (0,), True)])
            answer = greedy.decode("utf-8").strip()
            words = answer.split()
            return words, _departures(
                engine,
                prompt,
                {
                    "same": answer,
                    "longer": answer + " Danke.",
                    "other_start": "Xylophon " + " ".join(words[1:]),
                },
            )

    prompt_text = translator.render_prompt("Where is the train station?", source="en", target="de")
    words, found = on_own_thread(
        departures, prompt_text
    )  # decoding leaves no thread pool on pytest's main thread
    assert found["same"] == (None, None)
    assert found["other_start"][0] == 0 and found["other_start"][1] >= 0  # the first token differs
    leaves, gap = found["longer"]
    assert leaves >= len(words) - 1 and gap >= 0  # where the model ends the line, the longer one goes on


MEMORY_SCRIPT = Path(__file__).parent.parent / "benchmarks" / "memory.py"


@pytest.mark.integration
def test_memory_script_accounts_for_what_translating_added(demo_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(MEMORY_SCRIPT),
            str(demo_model),
            "--lines",
            "3",
            "--parallel",
            "2",
            "--threads",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert "tg-edge ÷ raw llama.cpp" in proc.stdout.decode()
    (result,) = json.loads(out.read_text(encoding="utf-8"))["results"].values()
    parts = result["parts"]
    assert parts["model_pages"] > 0.9 * read_model_file(demo_model).tensor_bytes  # every weight is read
    assert parts["logits"] == 3 * 262144 * 4  # two sequences and the shared prefix, one row each
    assert result["segments"] == 3 and result["parallel"] == 2
    # The parts, read at the end, add up to the peak less what was freed before it.
    assert 0.9 * result["used_bytes"] < sum(parts.values()) <= 1.01 * result["used_bytes"]
    assert result["ratio"] == pytest.approx(
        result["used_bytes"] / (result["model_bytes"] + result["kv_cache_bytes"])
    )


def test_memory_script_reports_a_missing_model_cleanly(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(MEMORY_SCRIPT), str(tmp_path / "missing.gguf")],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert "model file not found" in proc.stderr.decode() and b"Traceback" not in proc.stderr
