"""Benchmark reports: results.json (every figure), results.md (the tables), results.png (the chart)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

_MIB = 2**20
_REFERENCES = (
    ("raw", "raw llama.cpp loop"),
    ("naive", "naive llama-cpp-python"),
    ("naive_fresh", "naive, prefix each time"),
    ("tg_edge", "tg-edge"),
)


def write_reports(results: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write the three report files into ``out_dir`` (created if needed); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "results.json",
        "markdown": out_dir / "results.md",
        "chart": out_dir / "results.png",
    }
    paths["json"].write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown(results), encoding="utf-8")
    chart(results, paths["chart"])
    return paths


def markdown(results: dict[str, Any]) -> str:
    """The side-by-side table of every reference point, the ratios per model, and the machine."""
    settings, machine, bandwidth = results["settings"], results["machine"], results["bandwidth"]
    lines = [
        f"tg-edge bench: {settings['source']}→{settings['target']}, FLORES-200 devtest; "
        f"{settings['sentences']} sentences for latency, a {settings['document']}-line document, "
        f"{settings['repeats']} repeat(s), {settings['threads']} threads, GPU layers {settings['gpu_layers']}",
        "",
        "| model | quant | reference | load s | TTFT ms | prompt tok/s | decode tok/s | p50 ms | p95 ms "
        "| doc seg/s | doc chars/s | peak RSS MiB | chrF++ | BLEU |",
        "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for entry in results["models"]:
        model = entry["model"]
        for key, label in _REFERENCES:
            ref = entry.get(key)
            if ref is None:  # results.json from before that reference point existed
                continue
            latency, document, quality = (
                ref.get("latency", {}),
                ref.get("document", {}),
                ref.get("quality", {}),
            )
            lines.append(
                "| "
                + " | ".join(
                    [
                        model["name"],
                        model["quant"],
                        label,
                        _num(ref["load_s"], 2),
                        _num(_get(ref, "ttft_s", "median"), 0, 1000),
                        _num(_get(ref, "prompt_tok_s", "median"), 0),
                        _num(_get(ref, "decode_tok_s", "median"), 1),
                        _num(latency.get("p50_s"), 0, 1000),
                        _num(latency.get("p95_s"), 0, 1000),
                        _num(document.get("segments_per_s"), 2),
                        _num(document.get("chars_per_s"), 0),
                        _num(ref["peak_rss_bytes"], 0, 1 / _MIB),
                        _num(quality.get("chrf++"), 1),
                        _num(quality.get("bleu"), 1),
                    ]
                )
                + " |"
            )
    lines += [
        "",
        "| model | quant | file MiB | tg-edge decode ÷ raw | tg-edge prompt ÷ raw "
        "| document × naive (× naive, prefix each time) "
        "| parallel | TTFT ÷ own prompt | memory ÷ (model + KV) "
        "| weights GB/s (tg-edge) | of bandwidth (tg-edge / raw) | same output as naive |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for entry in results["models"]:
        model, ratios, agreement = entry["model"], entry["ratios"], entry["agreement"]
        lines.append(
            "| "
            + " | ".join(
                [
                    model["name"],
                    model["quant"],
                    _num(model["file_bytes"], 0, 1 / _MIB),
                    _pct(ratios["decode_vs_raw"]),
                    _pct(ratios["prompt_vs_raw"]),
                    _times(ratios["document_vs_naive"])
                    + f" ({_times(ratios.get('document_vs_naive_fresh'))})",
                    str(entry["tg_edge"].get("parallel", "–")),
                    _num(ratios.get("ttft_vs_own_prompt"), 2),
                    _memory(entry["tg_edge"].get("memory")),
                    _num(entry["weights_gb_per_s"]["tg_edge"], 1),
                    f"{_pct(ratios['tg_edge_decode_of_bandwidth'])} / {_pct(ratios['raw_decode_of_bandwidth'])}",
                    _agreement(agreement),
                ]
            )
            + " |"
        )
    gpus = ", ".join(machine["gpus"]) or "none"
    lines += [
        "",
        f"Machine: {machine['cpu']}, {machine['usable_cpus']} usable CPUs, "
        f"{_num(machine['memory_bytes'], 0, 1 / 2**30)} GiB RAM, GPU: {gpus}; load average at start "
        f"{_num((machine['load_average'] or [None])[0], 2)}. Memory bandwidth {bandwidth['gb_per_s']:.1f} GB/s "
        f"({bandwidth['method']}). {machine['os']}, Python {machine['python']}, "
        + ", ".join(f"{name} {version}" for name, version in machine["versions"].items() if version)
        + ".",
        "",
    ]
    return "\n".join(lines)


def _times(ratio: float | None) -> str:
    return _num(ratio, 2) + "×" if ratio else "–"


def _agreement(agreement: dict[str, Any]) -> str:
    """``53/200`` identical, and how decided the model was where the others part ways."""
    text = f"{agreement['identical_outputs']}/{agreement['of']}"
    if agreement.get("retried"):
        text += f"; {agreement['retried']} retried by the guards"
    if agreement.get("max_gap") is None:
        return text
    clear = agreement["clear_choices"]
    return (
        f"{text}; the rest leave the greedy path alone at a top-2 logit gap ≤ {agreement['max_gap']:.2f}"
        + (f" ({clear} at ≥ {agreement['near_tie']:.1f}: not a near-tie)" if clear else " (near-ties)")
    )


def chart(results: dict[str, Any], path: Path) -> None:
    """Decode speed, per-segment latency and quality per model file, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    entries = results["models"]
    labels = [f"{e['model']['quant']}\n{e['model']['name'][:24]}" for e in entries]
    x = np.arange(len(entries))
    fig, axes = plt.subplots(1, 3, figsize=(max(12, 3 * len(entries) + 6), 4.5), constrained_layout=True)

    def bars(ax, series: list[tuple[str, list, list | None]], title: str, ylabel: str) -> None:
        """Grouped bars per model file; a series' optional second values are drawn as whiskers above."""
        width = 0.8 / len(series)
        for i, (name, values, tops) in enumerate(series):
            heights = [v or 0 for v in values]
            whiskers = (
                None
                if tops is None
                else [[0] * len(heights), [(t or 0) - h for t, h in zip(tops, heights, strict=True)]]
            )
            ax.bar(
                x + (i - (len(series) - 1) / 2) * width, heights, width, yerr=whiskers, capsize=4, label=name
            )
        ax.set_xticks(x, labels, fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)

    bars(
        axes[0],
        [
            (label, [_get(e[key], "decode_tok_s", "median") for e in entries], None)
            for key, label in _REFERENCES
            if key in ("raw", "tg_edge")
        ],
        "Decode speed (median)",
        "tokens/s",
    )
    bars(
        axes[1],
        [
            (
                label,
                [e[key]["latency"]["p50_s"] * 1000 for e in entries],
                [e[key]["latency"]["p95_s"] * 1000 for e in entries],
            )
            for key, label in _REFERENCES[1:]
        ],
        "Per-segment latency (p50, whisker p95)",
        "ms",
    )
    bars(
        axes[2],
        [
            (name, [e["tg_edge"]["quality"][key] for e in entries], None)
            for name, key in (("chrF++", "chrf++"), ("BLEU", "bleu"))
        ],
        f"tg-edge quality {results['settings']['source']}→{results['settings']['target']} (FLORES devtest)",
        "score",
    )
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _memory(memory: dict[str, float] | None) -> str:
    if not memory:
        return "–"
    return (
        f"{memory['ratio']:.2f} ({memory['used_bytes'] / _MIB:.0f} / "
        f"({memory['model_bytes'] / _MIB:.0f} + {memory['kv_cache_bytes'] / _MIB:.0f}) MiB; "
        f"raw llama.cpp {memory['raw_ratio']:.2f})"
    )


def _get(ref: dict[str, Any], key: str, field: str) -> float | None:
    value = ref.get(key)
    return value.get(field) if isinstance(value, dict) else None


def _num(value: float | None, digits: int, scale: float = 1.0) -> str:
    return "–" if value is None else f"{value * scale:,.{digits}f}"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"
