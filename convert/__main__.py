"""``python -m tg_edge.convert CHECKPOINT --quant q8_0,q4_k_m --out DIR``."""

from .cli import run

run()
