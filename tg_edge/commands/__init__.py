"""The ``tg-edge`` commands, one module each (``translate`` one module per mode); :mod:`tg_edge.cli` gathers them."""
