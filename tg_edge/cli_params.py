"""Click parameter types shared by several commands."""

from __future__ import annotations

import click


class GpuLayers(click.ParamType):
    """``--gpu-layers``: ``auto`` (as many layers as fit the GPU's free memory), -1 (all) or a count."""

    name = "N|auto"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | str:
        if isinstance(value, int) or value == "auto":
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return "auto"
        try:
            number = int(text)
        except ValueError:
            self.fail(f"{value!r} is neither a number of layers nor auto", param, ctx)
        if number < -1:
            self.fail(f"{number} layers: give a count, -1 for all, or auto", param, ctx)
        return number


GPU_LAYERS = GpuLayers()
GPU_LAYERS_HELP = ("Layers to offload to the GPU: a count, -1 for all, or auto for as many as fit its free memory "
                   "[default: auto with a GPU backend, else 0].")
