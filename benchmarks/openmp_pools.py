"""What another thread's llama.cpp (OpenMP) pool costs a Translator in the same process, side by side.

    python benchmarks/openmp_pools.py --count 16

llama.cpp's CPU backend keeps an OpenMP pool of worker threads for every thread that has decoded, as long as
that thread lives; once the pools hold more threads than the machine has cores, OpenMP stops spinning between
parallel regions and every decoding thread slows down. tg-edge decodes bare-Engine work on threads that end
(``tg_edge.engine.on_own_thread``) and lets an idle Translator's decoding thread go (``Scheduler.IDLE_SECONDS``).
One loaded Translator translates the same FLORES sentences (guard off: the same work each time) in turn:

- ``alone``;
- ``another Translator idle, its thread kept``: a second Translator translated a sentence and kept its
  decoding thread (``IDLE_SECONDS`` patched to forever: tg-edge before this change);
- ``another Translator idle``: the same, with the thread gone after ``IDLE_SECONDS`` (tg-edge now);
- ``a pool left on this thread``: after a decode on the calling (main) thread itself, what ``Engine.logits``
  did before it moved to a thread of its own; the pool stays as long as the thread lives.

Prints seconds and the ratio to ``alone``, and the machine's usable CPUs.
"""

from __future__ import annotations

import argparse
import time

from tg_edge import TranslationOptions, Translator, scheduler
from tg_edge.bench.flores import load_flores
from tg_edge.engine import BatchToken, Engine
from tg_edge.machine import usable_cpus

OFF = TranslationOptions(check_language=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("-m", "--model", default=None)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads per Translator")
    args = parser.parse_args()

    sources = load_flores("en", args.count)
    rows: list[tuple[str, float]] = []
    idle = scheduler.IDLE_SECONDS
    with (
        Translator(args.model, threads=args.threads) as translator,
        Translator(args.model, threads=args.threads) as other,
    ):

        def timed(label: str) -> None:
            started = time.perf_counter()
            translator.translate_many(sources, source="en", target="de", options=OFF)
            rows.append((label, time.perf_counter() - started))
            print(f"{label}: {rows[-1][1]:.1f} s", flush=True)

        translator.translate_many(sources[:2], source="en", target="de", options=OFF)  # warm up
        timed("alone")
        scheduler.IDLE_SECONDS = 1e9
        other.translate("Good night.", source="en", target="de", options=OFF)
        timed("another Translator idle, its thread kept")
        scheduler.IDLE_SECONDS = idle
        other.translate("Good night.", source="en", target="de", options=OFF)  # wakes it: now it waits 0.5 s
        time.sleep(3 * idle)
        timed("another Translator idle")
        with Engine(translator.model_path, n_ctx=256, threads=translator.threads) as bare:
            bare.decode([BatchToken(bare.bos_token, 0, (0,), True)])  # a decode on this (the main) thread
        timed("a pool left on this thread")

    base = rows[0][1]
    print(
        f"\n{args.count} FLORES sentences en→de, {usable_cpus().usable} usable CPUs, threads per Translator: "
        f"{translator.threads}\n"
    )
    print("| case | seconds | × alone |")
    print("|---|--:|--:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.1f} | {seconds / base:.2f} |")


if __name__ == "__main__":
    main()
