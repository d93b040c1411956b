"""``tg-edge bench``: latency, throughput, memory and quality per model file, next to two reference points.

Modules: :mod:`.runner` (the run), :mod:`.tgedge` and :mod:`.reference` (the three measurements, each run
in a fresh process by :mod:`.worker`), :mod:`.modelfile`, :mod:`.machine`, :mod:`.bandwidth`,
:mod:`.quality` and :mod:`.report`. Nothing here is imported by ``tg_edge`` itself.
"""
