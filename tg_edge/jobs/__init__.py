"""File jobs: many files translated in their formats, with progress bars, a cache, journals and resume.

- :mod:`~tg_edge.jobs.options`: :class:`JobOptions` and :func:`check_job`, the one check of a job's options
  every entry point makes before a model loads;
- :mod:`~tg_edge.jobs.planning`: which files of the inputs go where, and which are passed over;
- :mod:`~tg_edge.jobs.filejob`: :class:`FileJob`, documents read whole and written atomically;
- :mod:`~tg_edge.jobs.text` and :mod:`~tg_edge.jobs.records`: plain text and JSON Lines streamed a block at a
  time (the record path is the one the Ray dataset job shares); :mod:`~tg_edge.jobs.images`: the text in images;
- :mod:`~tg_edge.jobs.journal`: journals and partial outputs beside an output, what ``--resume`` reads;
- :mod:`~tg_edge.jobs.report`: what a job did, its summary and its strict exit.
"""

from .filejob import FileJob
from .options import JobOptions, check_job
from .planning import JobPlan, names_directory, plan, plan_job
from .records import RecordOutcome, TranslatedRecords, translate_records
from .report import Flagged, FlaggedGroup, JobReport, PassedOver, Unfinished, check_strict

__all__ = [
    "FileJob",
    "Flagged",
    "FlaggedGroup",
    "JobOptions",
    "JobPlan",
    "JobReport",
    "PassedOver",
    "RecordOutcome",
    "TranslatedRecords",
    "Unfinished",
    "check_job",
    "check_strict",
    "names_directory",
    "plan",
    "plan_job",
    "translate_records",
]
