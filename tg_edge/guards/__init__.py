"""Guards on every unit's output: the checks, the retry policy, and the runner that drives retries.

A unit's output is suspect when decoding stopped at the token limit (``length``) or on a loop (``loop``), when
it came back empty or without a single word of the source's (``empty``), when a sentence of it is not in the
target language or it copies the source (``wrong-language``: see :mod:`tg_edge.languages.check`), when its length is
far outside what the language pair usually gives (``ratio``: a part is probably missing or repeated), or when
it lacks a term its glossary requires or changes a term to keep (``terminology``: see :mod:`tg_edge.glossary`).
Each of these is one :class:`Problem`.

- :mod:`~tg_edge.guards.checks`: one function per check (a new check is one function there);
- :mod:`~tg_edge.guards.policy`: what to retry and how (cut finer, prompt again, keep the better output);
- :mod:`~tg_edge.guards.runner`: submits each unit's tries to the scheduler as their jobs finish;
- :mod:`~tg_edge.guards.result`: :class:`SegmentResult`, a unit and its translation with its problem.
"""

from .checks import (
    MIN_RATIO_CHARS,
    RATIO_HIGH,
    RATIO_LOW,
    check,
    check_image,
    is_empty,
    length_ratio,
)
from .policy import (
    MAX_DEPTH,
    Policy,
    Request,
    Steps,
    check_printed,
    keep_source,
    retry_steps,
    translate_then_retry,
    trim_repetition,
    whole_copy,
)
from .problems import Problem, severity
from .result import SegmentResult
from .runner import OnDone, Submit, UnitRun, start_units

__all__ = [
    "MAX_DEPTH",
    "MIN_RATIO_CHARS",
    "RATIO_HIGH",
    "RATIO_LOW",
    "OnDone",
    "Policy",
    "Problem",
    "Request",
    "SegmentResult",
    "Steps",
    "Submit",
    "UnitRun",
    "check",
    "check_image",
    "check_printed",
    "is_empty",
    "keep_source",
    "length_ratio",
    "retry_steps",
    "severity",
    "start_units",
    "translate_then_retry",
    "trim_repetition",
    "whole_copy",
]
