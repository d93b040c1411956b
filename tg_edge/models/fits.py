"""Which catalog models, in which quant, fit a memory budget; and the largest of a family that does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import ModelError
from ..fit import Budget, Context, Fit, ModelSize, estimate_size, fit, gib, quant_bytes, size_from_header
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

    @property
    def name(self) -> str:
        return f"{self.entry.name}:{self.quant}"

    @property
    def estimated(self) -> bool:
        """Sizes from the catalog and the published architecture, not from a downloaded file's header."""
        return self.size.estimated


def default_context(*, gpu: bool, n_ctx: int = 4096) -> Context:
    """The context a Translator creates by default: ``n_ctx`` cells, its default parallel sequences plus one."""
    from ..translator import default_parallel

    return Context(n_ctx=n_ctx, n_seq=default_parallel(n_ctx, gpu=gpu) + 1)


def catalog_fits(
    budget: Budget,
    ctx: Context,
    *,
    installed: Sequence[InstalledModel] = (),
    entries: Sequence[CatalogEntry] = CATALOG,
) -> list[CatalogFit]:
    """Every catalog model's usual quants against ``budget``: from the file's header where it is ``installed``,
    else estimated from the catalog's size and the published architecture."""
    out = []
    for entry in entries:
        for quant in entry.quants:
            size = _size(entry, quant, installed)
            if size is not None:
                out.append(CatalogFit(entry, quant, size, fit(size, ctx, budget)))
    return out


def installed_fits(
    installed: Sequence[InstalledModel], budget: Budget, ctx: Context
) -> list[tuple[str, str, ModelSize, Fit]]:
    """Name, quant, sizes and fit of each installed file outside the catalog (the demo model, hand-placed files)."""
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
        out.append((model.name, model.quant, size, fit(size, ctx, budget)))
    return out


def fitting_quants(fits: Sequence[CatalogFit]) -> dict[str, list[str]]:
    """For each catalog name, the quants of ``fits`` that fit."""
    quants: dict[str, list[str]] = {}
    for item in fits:
        quants.setdefault(item.entry.name, [])
        if item.fit.fits:
            quants[item.entry.name].append(item.quant)
    return quants


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
    say: Callable[[str], None] = lambda message: None,
) -> CatalogFit:
    """The largest model of family ``name`` whose ``quant`` (its default when ``None``) fits ``budget``; ``say``
    tells why. :class:`ModelError` when none fits."""
    members = [entry for entry in family(name) if entry.arch is not None]
    if not members:
        raise ModelError(f"{name!r} is no model family of the catalog")
    fits = [
        item
        for entry in members
        for item in catalog_fits(budget, ctx, installed=installed, entries=[entry])
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
    chosen = fitting[-1]
    larger = fits[fits.index(chosen) + 1 :]
    why = (
        f"Picked {chosen.name}, the largest {name} model that fits this machine: "
        f"{chosen.fit.placement.describe()}, {chosen.fit.need}"
    )
    if larger:
        why += f"; {larger[0].name} would need {larger[0].fit.need}"
    usable = f"{gib(budget.usable_ram)} RAM" + (
        f" + {gib(budget.usable_vram)} GPU memory" if budget.usable_vram else ""
    )
    say(f"{why} ({usable} usable{'; estimated from published sizes' if chosen.estimated else ''})")
    return chosen


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
