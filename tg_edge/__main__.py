"""``python -m tg_edge`` runs the CLI."""

from .cli import main

main(prog_name="tg-edge")
