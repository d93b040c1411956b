"""``tg-edge bench``: latency, throughput, memory and quality per model file, next to two reference points.

Modules: :mod:`.runner` (the run), :mod:`.tgedge` and :mod:`.reference` (the three measurements, each run
in a fresh process by :mod:`.worker`), :mod:`.modelfile`, :mod:`.machine`, :mod:`.quality` and :mod:`.report`;
the memory-bandwidth probe is :func:`tg_edge.speed.measure_bandwidth`, which doctor uses too.
Nothing here is imported by ``tg_edge`` itself.
"""
