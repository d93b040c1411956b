"""A scheduler job's two halves: the caller's :class:`Job` handle and the decoding thread's :class:`Slot`.

As in llama.cpp's server, what was asked (an immutable :class:`Task`) is kept apart from the state of the
sequence that runs it (a :class:`Slot` with an explicit :class:`SlotState`). The handle and the decoding
thread meet in one :class:`Outcome`: the thread writes pieces and the end into it, the handle reads them.
"""

from __future__ import annotations

import codecs
import itertools
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from .errors import TgEdgeError
from .steering import Steer

if TYPE_CHECKING:
    import numpy as np

    from .engine import Engine
    from .generation import Generation

Abandon = Callable[[str], bool]
"""A test on a job's text so far (after each new token): ``True`` ends it, as :attr:`Stop.ABANDONED`."""
Prefill = Callable[[int], int]
"""Evaluates a prompt the scheduler cannot tokenize (one holding an image) into the sequence it is given, from
position 0, with logits for its last token; returns the next position."""
PLACEHOLDER = -1
"""The token a prefilled prompt is counted in: only how many positions it takes matters."""


@dataclass(frozen=True)
class Task:
    """What a caller asked the scheduler for; never changed once submitted."""

    prompt: tuple[int, ...]
    max_tokens: int
    stop_at_newline: bool = False
    prefill: Prefill | None = None
    abandon: Abandon | None = None
    steer: Steer | None = None
    on_done: Callable[[Job], None] | None = None
    """Called with the job once it has ended (in the decoding thread), unless an error ended it."""
    submitted: float = field(default_factory=time.perf_counter)

    @property
    def prefilled(self) -> bool:
        return self.prefill is not None


class Outcome:
    """Where the decoding thread delivers a job's pieces and its end, and the caller finds them."""

    def __init__(self, stream: bool) -> None:
        self._pieces: queue.SimpleQueue[str | None] | None = queue.SimpleQueue() if stream else None
        self._done = threading.Event()
        self._end: Generation | BaseException | None = None
        self._cancelled = False

    # -- decoding thread --
    def emit(self, piece: str) -> None:
        if piece and self._pieces is not None:
            self._pieces.put(piece)

    def resolve(self, end: Generation | BaseException) -> None:
        self._end = end
        if self._pieces is not None:
            self._pieces.put(None)
        self._done.set()

    # -- caller --
    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None) -> Generation:
        if not self._done.wait(timeout):
            raise TimeoutError("the generation did not finish in time")
        end = self._end
        if isinstance(end, BaseException):
            raise end
        if end is None:  # resolve() always sets an end before the event: nothing else gets here
            raise TgEdgeError("the generation ended without a result")
        return end

    @property
    def streams(self) -> bool:
        """Whether the caller reads the pieces as they come (they cannot be taken back then)."""
        return self._pieces is not None

    def stream(self) -> Iterator[str]:
        if self._pieces is None:
            raise ValueError("submit with stream=True to read pieces")
        while (piece := self._pieces.get()) is not None:
            yield piece


class Job:
    """The caller's handle on a prompt submitted to the :class:`~tg_edge.scheduler.Scheduler`:
    :meth:`result` waits for its :class:`~tg_edge.scheduler.Generation`."""

    def __init__(self, task: Task, outcome: Outcome) -> None:
        self.task = task
        self._outcome = outcome

    def result(self, timeout: float | None = None) -> Generation:
        """Wait for the generation; re-raises the error that ended it, if any."""
        return self._outcome.wait(timeout)

    def pieces(self) -> Iterator[str]:
        """The text as it forms (only for jobs submitted with ``stream=True``); ends when the job does."""
        return self._outcome.stream()

    def cancel(self) -> None:
        """Stop decoding this prompt at the next step and free its sequence."""
        self._outcome.cancel()

    @property
    def cancelled(self) -> bool:
        return self._outcome.cancelled

    @property
    def done(self) -> bool:
        return self._outcome.done


@dataclass(eq=False)
class Request:
    """A job as the decoding thread keeps it until it runs: the handle, its outcome, its submission."""

    job: Job
    outcome: Outcome
    group: int = 0
    """The submission it came in (set when the decoding thread receives it)."""

    @property
    def task(self) -> Task:
        return self.job.task

    @property
    def cancelled(self) -> bool:
        return self.outcome.cancelled


class SlotState(Enum):
    """Where a running job's sequence is."""

    PROMPTING = "prompting"  # its prompt tokens are being evaluated, a batch's room at a time
    DECODING = "decoding"  # one new token a step
    FINISHED = "finished"  # ended; its sequence is free again


class Slot:
    """The decoding thread's state of one running job: its sequence, positions and the text so far."""

    def __init__(self, request: Request, seq: int, *, shared: int, prefix_generation: int) -> None:
        self.request = request
        self.task = request.task
        self.seq = seq
        self.state = SlotState.PROMPTING
        self.reused = self.pos = shared
        """Prompt tokens taken from the shared prefix (their cells copied, not evaluated)."""
        self.prefix_generation = prefix_generation
        """Which prefix its reused cells came from (see :meth:`Scheduler._cells_in_use`)."""
        self.pending = list(self.task.prompt[shared:])
        self.next_token: int | None = None
        self.out: list[int] = []
        self.text: list[str] = []
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.first_token_at: float | None = None
        self.prompt_s = 0.0

    def emit(self, piece: str) -> None:
        if piece:
            self.text.append(piece)
            self.request.outcome.emit(piece)

    def take_prompt(self, room: int) -> list[int]:
        """Up to ``room`` of the prompt tokens not yet evaluated, now handed to a batch at ``pos``."""
        chunk, self.pending = self.pending[:room], self.pending[room:]
        self.pos += len(chunk)
        return chunk

    def steered(self, engine: Engine, logits: np.ndarray, greedy: int) -> int:
        """The task's steer's choice of token; where that ends the output, the steer may first take back the
        tail written so far and redo it from an earlier step (see :mod:`tg_edge.steering`). A streamed job's
        pieces are out already: it is never taken back."""
        steer = self.task.steer
        if steer is None:
            return greedy
        token = steer(logits, greedy, "".join(self.text))
        ends = engine.is_end_of_generation(token) or (
            self.task.stop_at_newline and b"\n" in engine.token_bytes(token)
        )
        redo = steer.redo("".join(self.text)) if ends and not self.request.outcome.streams else None
        if redo is None:
            return token
        keep, first = redo
        start = self.pos - (len(self.out) - keep)
        if not engine.drop_sequence(self.seq, start):
            return token  # the cache cannot take positions back: end as the model chose
        self.pos = start
        del self.out[keep:]
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.text = [self.decoder.decode(b"".join(engine.token_bytes(t) for t in self.out))]
        return first

    def decoding(self, token: int) -> None:
        """``token`` is the input of the next step."""
        self.next_token = token
        self.state = SlotState.DECODING


@dataclass
class DecodeCounts:
    """Work a scheduler has done so far: tokens and seconds that add up across calls."""

    prompt_evaluated: int = 0
    """Prompt tokens evaluated (the shared prefix once, each prompt's own tokens, prefilled positions)."""
    prompt_reused: int = 0
    """Prompt tokens taken from the shared prefix's cells instead of evaluated."""
    generated: int = 0
    """New tokens of the jobs that ended."""
    batch_tokens: int = 0
    """Tokens handed to ``llama_decode`` in all (prompt and new ones)."""
    decode_seconds: float = 0.0
    """Seconds spent in ``llama_decode``."""


def new_request(task: Task, stream: bool) -> Request:
    outcome = Outcome(stream)
    return Request(Job(task, outcome), outcome)


def end(request: Request, end: Generation | BaseException) -> None:
    """Deliver a job's end to its caller, then run its completion callback."""
    request.outcome.resolve(end)
    if request.task.on_done is not None:
        request.task.on_done(request.job)


def common_length(a: Sequence[int], b: Sequence[int]) -> int:
    """How many tokens ``a`` and ``b`` start with in common."""
    return sum(1 for _ in itertools.takewhile(lambda pair: pair[0] == pair[1], zip(a, b, strict=False)))


def repeating_tail(
    tokens: Sequence[int], *, min_span: int = 32, min_repeats: int = 4, max_period: int = 64
) -> bool:
    """True when the tokens end in one pattern repeated back to back (a decoding loop).

    A loop needs at least ``min_repeats`` copies of its pattern covering ``min_span`` tokens,
    so short legitimate repetitions ("very, very, very") pass.
    """
    n = len(tokens)
    for period in range(1, min(max_period, n // min_repeats) + 1):
        span = period * max(min_repeats, -(-min_span // period))
        if span <= n and all(tokens[n - i] == tokens[n - i - period] for i in range(1, span - period + 1)):
            return True
    return False
