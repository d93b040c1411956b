"""Which catalog models, in which quant, fit a memory budget and how fast they would decode; and the largest of a
family that fits and decodes at a usable speed."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import ModelError
from ..fit import Budget, Context, Fit, ModelSize, estimate_size, fit, gib, quant_bytes, size_from_header
from ..machine import Machine
from ..speed import MIN_TOKENS_PER_S, DecodeSpeed, SpeedFacts, estimate_decode, speed_facts
from .catalog import CATALOG, CatalogEntry, family
from .spec import same_repo
from .store import InstalledModel


@dataclass(frozen=True)
class CatalogFit:
    """How one quant of a catalog model fits."""

    entry: CatalogEntry
    quant: str
    size: ModelSize
    fit: Fit
    speed: DecodeSpeed | None = None
    """Estimated single-stream decode speed as it fits (``None`` where the machine's speed was not given)."""

    @property
    def name(self) -> str:
        return f"{self.entry.name}:{self.quant}"

    @property
    def estimated(self) -> bool:
        """Sizes from the catalog and the published architecture, not from a downloaded file's header."""
        return self.size.estimated


def speed_here(here: Machine) -> SpeedFacts:
    """The facts decode speed depends on here: the memory bandwidth (measured once, kept in tg-edge's home) and
    the CPUs this process may use."""
    from .home import home_dir

    return speed_facts(here, home_dir())


def default_context(*, gpu: bool, n_ctx: int = 4096) -> Context:
    """The context a Translator creates by default: ``n_ctx`` cells, its default parallel sequences plus one."""
    from ..slots import default_parallel

    return Context(n_ctx=n_ctx, n_seq=default_parallel(n_ctx, gpu=gpu) + 1)


def catalog_fits(
    budget: Budget,
    ctx: Context,
    *,
    installed: Sequence[InstalledModel] = (),
    entries: Sequence[CatalogEntry] = CATALOG,
    facts: SpeedFacts | None = None,
) -> list[CatalogFit]:
    """Every catalog model's usual quants against ``budget``: from the file's header where it is ``installed``,
    else estimated from the catalog's size and the published architecture; with ``facts``, how fast each would
    decode as it fits."""
    out = []
    for entry in entries:
        for quant in entry.quants:
            size = _size(entry, quant, installed)
            if size is not None:
                out.append(_fitted(entry, quant, size, ctx, budget, facts))
    return out


def _fitted(
    entry: CatalogEntry, quant: str, size: ModelSize, ctx: Context, budget: Budget, facts: SpeedFacts | None
) -> CatalogFit:
    fitted = fit(size, ctx, budget)
    speed = estimate_decode(size, fitted.placement, facts, unified=budget.unified) if facts else None
    return CatalogFit(entry, quant, size, fitted, speed)


def installed_fits(
    installed: Sequence[InstalledModel], budget: Budget, ctx: Context, facts: SpeedFacts | None = None
) -> list[tuple[str, str, ModelSize, Fit, DecodeSpeed | None]]:
    """Name, quant, sizes, fit and (with ``facts``) decode speed of each installed file outside the catalog (the
    demo model, hand-placed files)."""
    from ..gguf_header import read_header
    from .catalog import catalog_entry_for_repo

    out = []
    for model in installed:
        if model.repo is not None and catalog_entry_for_repo(model.repo) is not None:
            continue  # the catalog rows show it
        try:
            size = size_from_header(read_header(model.path))
        except ModelError:
            continue
        fitted = fit(size, ctx, budget)
        speed = estimate_decode(size, fitted.placement, facts, unified=budget.unified) if facts else None
        out.append((model.name, model.quant, size, fitted, speed))
    return out


def fitting_quants(fits: Sequence[CatalogFit]) -> dict[str, list[str]]:
    """For each catalog name, the quants of ``fits`` that fit."""
    quants: dict[str, list[str]] = {}
    for item in fits:
        quants.setdefault(item.entry.name, [])
        if item.fit.fits:
            quants[item.entry.name].append(item.quant)
    return quants


def speeds(fits: Sequence[CatalogFit]) -> dict[str, dict[str, DecodeSpeed]]:
    """For each catalog name, the estimated decode speed of each quant of ``fits`` that fits."""
    out: dict[str, dict[str, DecodeSpeed]] = {}
    for item in fits:
        if item.fit.fits and item.speed is not None:
            out.setdefault(item.entry.name, {})[item.quant] = item.speed
    return out


def fit_marks(fits: Sequence[CatalogFit]) -> dict[str, str]:
    """For each catalog name, the quants that fit (``Q4_K_M,Q5_K_M``), ``all`` or ``no``."""
    offered: dict[str, int] = {}
    for item in fits:
        offered[item.entry.name] = offered.get(item.entry.name, 0) + 1
    return {
        name: "all" if len(quants) == offered[name] else ",".join(quants) or "no"
        for name, quants in fitting_quants(fits).items()
    }


def pick_largest(
    name: str,
    quant: str | None,
    budget: Budget,
    ctx: Context,
    *,
    installed: Sequence[InstalledModel] = (),
    facts: SpeedFacts | None = None,
    min_speed: float = MIN_TOKENS_PER_S,
    say: Callable[[str], None] = lambda message: None,
) -> CatalogFit:
    """The largest model of family ``name`` whose ``quant`` (its default when ``None``) fits ``budget`` and, with
    ``facts``, decodes at ``min_speed`` tokens/s or faster; where none that fits is that fast, the fastest that
    fits. ``say`` tells why. :class:`ModelError` when none fits."""
    members = [entry for entry in family(name) if entry.arch is not None]
    if not members:
        raise ModelError(f"{name!r} is no model family of the catalog")
    fits = [
        item
        for entry in members
        for item in catalog_fits(budget, ctx, installed=installed, entries=[entry], facts=facts)
        if item.quant == (quant or entry.default_quant)
    ]
    if not fits:
        raise ModelError(f"no model of the {name} family comes in {quant}")
    fitting = [item for item in fits if item.fit.fits]
    if not fitting:
        smallest = fits[0]
        raise ModelError(
            f"no {name} model fits this machine: the smallest, {smallest.name}, needs "
            f"{gib(smallest.fit.placement.ram_bytes)} of RAM ({gib(budget.usable_ram)} usable)"
            + (
                f" and {gib(smallest.fit.placement.vram_bytes)} of GPU memory"
                if smallest.fit.placement.vram_bytes
                else ""
            )
        )
    fast = [item for item in fitting if _tokens_per_s(item) >= min_speed]
    chosen = fast[-1] if fast else max(fitting, key=_tokens_per_s)
    if facts is None:
        why = f"the largest {name} model that fits this machine"
    elif fast:
        why = f"the largest {name} model that fits this machine and decodes {min_speed:g} tok/s or faster"
    else:
        why = f"the fastest {name} model that fits this machine, though none decodes {min_speed:g} tok/s here"
    why = f"Picked {chosen.name}, {why}: {chosen.fit.placement.describe()}, {chosen.fit.need}"
    if chosen.speed is not None:
        why += f", about {chosen.speed.describe()}"
    larger = fits[fits.index(chosen) + 1 :]
    if larger and not larger[0].fit.fits:
        why += f"; {larger[0].name} would need {larger[0].fit.need}"
    elif larger and larger[0].speed is not None:
        why += f"; {larger[0].name} fits but would decode at about {larger[0].speed.describe()}"
    usable = f"{gib(budget.usable_ram)} RAM" + (
        f" + {gib(budget.usable_vram)} GPU memory" if budget.usable_vram else ""
    )
    say(f"{why} ({usable} usable{'; estimated from published sizes' if chosen.estimated else ''})")
    return chosen


def _tokens_per_s(item: CatalogFit) -> float:
    return item.speed.tokens_per_s if item.speed is not None else float("inf")


def _size(entry: CatalogEntry, quant: str, installed: Sequence[InstalledModel]) -> ModelSize | None:
    from ..gguf_header import read_header

    for model in installed:
        if same_repo(model.repo, entry.repo) and model.quant == quant:
            try:
                return size_from_header(read_header(model.path))
            except ModelError:
                break
    if entry.arch is None:
        return None
    return estimate_size(entry.arch, quant_bytes(int(entry.size_gb * 1e9), entry.default_quant, quant))
