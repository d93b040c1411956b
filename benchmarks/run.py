"""Run the tg-edge benchmark from a checkout: ``python benchmarks/run.py [OPTIONS]`` is ``tg-edge bench [OPTIONS]``.

Needs tg-edge installed with the bench extra (``pip install -e ".[bench,demo]"``); see benchmarks/README.md.
"""

import sys

from tg_edge.cli import main

if __name__ == "__main__":
    main(["bench", *sys.argv[1:]], prog_name="python benchmarks/run.py")
