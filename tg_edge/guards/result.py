"""One unit of source text and its translation, as the guards kept it."""

from __future__ import annotations

from dataclasses import dataclass

from ..generation import Generation, Stop
from .problems import Problem


@dataclass(frozen=True)
class SegmentResult:
    """One unit of source text and its translation."""

    source: str
    text: str
    stop: Stop
    prompt_tokens: int
    new_tokens: int
    reused_tokens: int
    seconds: float
    """From submission to the last token (segments decoded together overlap in time)."""
    prompt_seconds: float = 0.0
    """Time llama.cpp spent on batches carrying this segment's own prompt tokens."""
    first_token_seconds: float = 0.0
    problem: Problem | None = None
    """What the guards still find wrong with the output kept after retrying (see :mod:`tg_edge.guards`), or
    ``None`` when it looks whole."""
    attempts: int = 1
    """How many times the unit (or its pieces, split finer) was translated."""

    @property
    def problem_message(self) -> str | None:
        """Why this segment's output is suspect, in words (:attr:`Problem.message`), or ``None``."""
        return self.problem.message if self.problem is not None else None

    @classmethod
    def from_generation(cls, source: str, generation: Generation) -> SegmentResult:
        """The unchecked result of one decode of ``source``."""
        return cls(
            source=source,
            text=generation.text.strip(),
            stop=generation.stop,
            prompt_tokens=generation.n_prompt,
            new_tokens=generation.n_new,
            reused_tokens=generation.n_reused,
            seconds=generation.seconds,
            prompt_seconds=generation.prompt_s,
            first_token_seconds=generation.first_token_s,
        )
