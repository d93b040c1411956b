"""What one greedy decode gives back: its text, why it stopped (:class:`Stop`), and its counts and times.

Apart from the scheduler, which imports llama.cpp through the engine, so that the guards read a stop without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Stop(str, Enum):
    """Why a generation stopped (a ``str``: compares and serialises as its value)."""

    EOS = "eos"  # the model ended its turn (EOS, <end_of_turn>, ...)
    NEWLINE = "newline"  # a one-line prompt reached the end of its line
    LENGTH = "length"  # the max_tokens bound was hit: the output may be cut
    LOOP = "loop"  # the repetition guard stopped a looping output
    ABANDONED = "abandoned"  # the caller's test on the text so far said it is not worth finishing
    CANCELLED = "cancelled"  # the caller gave up on it

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Generation:
    """What one greedy decode produced, why it stopped, and how long its parts took."""

    text: str
    tokens: tuple[int, ...]
    """The new tokens (without the end-of-generation token)."""
    n_prompt: int
    n_new: int
    n_reused: int
    """Prompt tokens taken from the cache instead of evaluated."""
    stop: Stop
    first_token_s: float
    """Seconds from submission to the first new token."""
    prompt_s: float
    """Seconds of ``llama_decode`` in the batches that carried this prompt's own tokens."""
    seconds: float
