"""``tg-edge doctor``: what this machine and this llama.cpp build can run, and which models fit it."""

from __future__ import annotations

from importlib import metadata
from typing import Any

from . import __version__
from .fit import GIB, Budget
from .machine import backend_libraries, cpu_model, devices, gpu_available, machine, system_info
from .speed import SENTENCE_TOKENS


def diagnose(*, n_ctx: int = 4096) -> dict[str, Any]:
    """Everything doctor reports, as JSON-ready data."""
    from .models import home_dir, hub_cache_dir, installed_models, offline_mode
    from .models.fits import catalog_fits, default_context, installed_fits, speed_here

    build = _llama_build()
    here = machine(probe_gpus=bool(build["loaded"]))
    gpu = bool(build.get("gpu_offload")) and bool(here.gpus)
    ctx = default_context(gpu=gpu, n_ctx=n_ctx)
    budget = here.budget if gpu else Budget(here.ram_available)
    facts = speed_here(here)
    installed = installed_models()
    rows = [
        (item.entry.name, item.quant, item.size, item.fit, item.speed)
        for item in catalog_fits(budget, ctx, installed=installed, facts=facts)
    ]
    rows += installed_fits(installed, budget, ctx, facts)
    cpus = here.cpus
    return {
        "tg_edge": __version__,
        "llama_cpp_python": _version("llama_cpp_python"),
        "llama_cpp": build,
        "cpu": {
            "model": cpu_model(),
            "logical_cpus": cpus.logical,
            "affinity_cpus": cpus.affinity,
            "quota_cpus": cpus.quota,
            "quota_file": cpus.quota_source or None,
            "usable_cpus": cpus.usable,
            "why": cpus.why(),
            "threads": cpus.usable,
            "memory_bandwidth": facts.bandwidth,
        },
        "memory": {
            "ram_total": here.ram_total,
            "ram_available": here.ram_available,
            "ram_limit_file": here.ram_limit or None,
            "gpus": [
                {
                    "name": g.name,
                    "description": g.description,
                    "backend": g.backend,
                    "free": g.free_bytes,
                    "total": g.total_bytes,
                }
                for g in here.gpus
            ],
        },
        "store": {
            "home": str(home_dir()),
            "hf_cache": str(hub_cache_dir()),
            "offline": offline_mode(),
            "installed": [
                {"name": m.name, "quant": m.quant, "size": m.size, "path": str(m.path)} for m in installed
            ],
        },
        "fit": {
            "n_ctx": ctx.n_ctx,
            "parallel": ctx.n_seq - 1,
            "usable_ram": budget.usable_ram,
            "usable_gpu_memory": budget.usable_vram,
            "models": [
                {
                    "name": name,
                    "quant": quant,
                    "fits": fitted.fits,
                    "how": fitted.placement.how if fitted.fits else None,
                    "gpu_layers": fitted.placement.gpu_layers,
                    "layers": size.n_layer,
                    "ram_bytes": fitted.placement.ram_bytes,
                    "gpu_bytes": fitted.placement.vram_bytes,
                    "weight_bytes": size.weight_bytes,
                    "estimated": size.estimated,
                    "tokens_per_s": speed.tokens_per_s if speed else None,
                    "seconds_per_sentence": speed.seconds_per_sentence if speed else None,
                    "speed_bound": speed.bound if speed else None,
                }
                for name, quant, size, fitted, speed in rows
            ],
        },
    }


def render(report: dict[str, Any]) -> str:
    """The report as text for a terminal."""
    build, cpu, memory = report["llama_cpp"], report["cpu"], report["memory"]
    store, fit = report["store"], report["fit"]
    lines = [
        f"tg-edge {report['tg_edge']}, llama-cpp-python {report['llama_cpp_python'] or 'not installed'}",
        "",
    ]
    lines.append("llama.cpp build")
    if not build["loaded"]:
        lines.append(f"  cannot load llama.cpp: {build['error']}")
    backends = ", ".join(build["backends"]) or "none found"
    if build.get("gpu_offload") is False:
        backends += "  (no GPU backend: README's GPU section tells how to build one in)"
    lines.append(f"  backends:     {backends}")
    if build["loaded"]:
        lines.append(f"  GPU offload:  {'yes' if build['gpu_offload'] else 'no'}")
        lines.append(f"  CPU features: {' '.join(build['cpu_features']) or 'none reported'}")
        for device in build["devices"]:
            memory_text = (
                f", {_gib(device['free'])} free of {_gib(device['total'])}" if device["kind"] != "CPU" else ""
            )
            lines.append(
                f"  device:       {device['name']} ({device['kind']}, {device['description']}{memory_text})"
            )
    lines += [
        "",
        "CPU",
        f"  {cpu['model']}",
        f"  this process may use {cpu['why']}",
        f"  tg-edge uses {cpu['threads']} thread{'s' if cpu['threads'] != 1 else ''} (--threads to change)",
        f"  memory bandwidth: {cpu['memory_bandwidth'] / 1e9:.1f} GB/s (numpy copy, measured once and kept)",
        "",
        "Memory",
        f"  RAM: {_gib(memory['ram_total'])} total, {_gib(memory['ram_available'])} available"
        + (f" (a cgroup memory limit: {memory['ram_limit_file']})" if memory["ram_limit_file"] else ""),
    ]
    for gpu in memory["gpus"]:
        lines.append(
            f"  GPU: {gpu['description'] or gpu['name']} ({gpu['backend']}): "
            f"{_gib(gpu['free'])} free of {_gib(gpu['total'])}"
        )
    if not memory["gpus"]:
        lines.append("  GPU: none that llama.cpp can use")
    lines += [
        "",
        "Model store",
        f"  tg-edge home: {store['home']}",
        f"  HF cache:     {store['hf_cache']}{'  (offline mode)' if store['offline'] else ''}",
    ]
    for model in store["installed"]:
        lines.append(f"  installed:    {model['name']} ({model['quant']}, {model['size'] / 1e9:.2f} GB)")
    if not store["installed"]:
        lines.append("  installed:    none (`tg-edge models pull NAME` downloads one)")
    usable = f"{_gib(fit['usable_ram'])} RAM"
    if fit["usable_gpu_memory"]:
        usable += f" + {_gib(fit['usable_gpu_memory'])} GPU memory"
    lines += [
        "",
        f"Which models fit (context {fit['n_ctx']} tokens, {fit['parallel']} parallel sequences; "
        f"{usable} usable)",
    ]
    rows = [("MODEL", "QUANT", "FITS", "HOW", "RAM", "GPU", "TOK/S", "S/SENTENCE", "")]
    for item in fit["models"]:
        how = {"cpu": "CPU only", "gpu": "all layers on GPU", None: "-"}.get(
            item["how"], f"{item['gpu_layers']}/{item['layers']} layers on GPU"
        )
        rows.append(
            (
                item["name"],
                item["quant"],
                "yes" if item["fits"] else "no",
                how,
                _gib(item["ram_bytes"]),
                _gib(item["gpu_bytes"]) if item["gpu_bytes"] else "-",
                f"{item['tokens_per_s']:.1f}" if item["fits"] else "-",
                f"{item['seconds_per_sentence']:.1f}" if item["fits"] else "-",
                "estimate" if item["estimated"] else "from the file",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += [
        "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.append(
        "  Estimates come from the catalog's file sizes and the published architectures; "
        "RAM and GPU memory include the KV cache and llama.cpp's compute buffers."
    )
    lines.append(
        "  TOK/S: estimated single-stream decode speed, the slower of streaming the weights at the measured "
        f"bandwidth and the CPUs' arithmetic; S/SENTENCE: {SENTENCE_TOKENS} tokens at that speed."
    )
    return "\n".join(lines) + "\n"


def cpu_features(system_info: str) -> list[str]:
    """The CPU features llama.cpp's ``llama_print_system_info`` reports as used (``AVX2 = 1``)."""
    features: list[str] = []
    section = ""
    for part in system_info.split("|"):
        name, _, value = part.partition("=")
        if ":" in name:
            section, _, name = name.partition(":")
        if section.strip() == "CPU" and value.strip() == "1":
            features.append(name.strip())
    return features


def _llama_build() -> dict[str, Any]:
    """What the llama.cpp build offers: backends, CPU features, GPU offload, devices; or why it cannot load."""
    backends = list(backend_libraries())
    try:
        info = system_info()
    except (
        ImportError,
        OSError,
    ) as exc:  # a broken or missing llama-cpp-python: doctor still reports the rest
        return {"loaded": False, "error": str(exc), "backends": backends}
    found = devices()
    # A build that links its backends statically has no library file per backend: its devices name them.
    backends += [name for name in dict.fromkeys(d.backend for d in found) if name and name not in backends]
    return {
        "loaded": True,
        "backends": backends,
        "gpu_offload": gpu_available(),
        "system_info": info,
        "cpu_features": cpu_features(info),
        "devices": [
            {
                "name": d.name,
                "description": d.description,
                "kind": d.kind,
                "backend": d.backend,
                "free": d.free_bytes,
                "total": d.total_bytes,
            }
            for d in found
        ],
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _gib(size: int) -> str:
    return f"{size / GIB:.1f} GiB"
