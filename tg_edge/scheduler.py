"""Continuous batching: many prompts decoded greedily together, as parallel sequences of one engine.

One worker thread owns the engine. Each step it puts one token of every decoding sequence and
as many prompt tokens of newly admitted ones as fit into a single ``llama_decode`` batch, so
weights are read once for all of them. A finished sequence frees its slot for the next waiting
prompt at once. Prompts that start alike (the same instruction or few-shot examples) share
that prefix: it is evaluated once, held by a sequence of its own, and its cache cells are
shared by every sequence started from it.
"""

from __future__ import annotations

import codecs
import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from .engine import BatchToken, Engine
from .errors import TgEdgeError
from .steering import Steer

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

IDLE_SECONDS = 0.5
"""How long the decoding thread waits for work before it ends (see :meth:`Scheduler._leave_if_idle`)."""


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


Abandon = Callable[[str], bool]
"""A test on a job's text so far (after each new token): ``True`` ends it, as :attr:`Stop.ABANDONED`."""
Prefill = Callable[[int], int]
"""Evaluates a prompt the scheduler cannot tokenize (one holding an image) into the sequence it is given, from
position 0, with logits for its last token; returns the next position."""


class Job:
    """A prompt submitted to the :class:`Scheduler`; :meth:`result` waits for its :class:`Generation`."""

    def __init__(
        self,
        prompt: Sequence[int],
        max_tokens: int,
        stop_at_newline: bool,
        stream: bool,
        prefill: Prefill | None = None,
        on_done: Callable[[Job], None] | None = None,
        abandon: Abandon | None = None,
        steer: Steer | None = None,
    ) -> None:
        self.prompt = list(prompt)
        self.on_done = on_done
        self.abandon = abandon
        self.steer = steer
        self.stream = stream
        self.prefill = prefill
        self.max_tokens = max_tokens
        self.stop_at_newline = stop_at_newline
        self._pieces: queue.SimpleQueue[str | None] | None = queue.SimpleQueue() if stream else None
        self._done = threading.Event()
        self._generation: Generation | None = None
        self._error: BaseException | None = None
        self._cancelled = False
        # worker-side state
        self.submitted = time.perf_counter()
        self.seq = -1
        self.pos = 0
        self.reused = 0
        self.generation_of_prefix = -1
        self.group = 0
        self.pending: list[int] = []
        self.next_token: int | None = None
        self.out: list[int] = []
        self.text: list[str] = []
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.first_token_at: float | None = None
        self.prompt_s = 0.0

    def result(self, timeout: float | None = None) -> Generation:
        """Wait for the generation; re-raises the error that ended it, if any."""
        if not self._done.wait(timeout):
            raise TimeoutError("the generation did not finish in time")
        if self._error is not None:
            raise self._error
        assert self._generation is not None
        return self._generation

    def pieces(self) -> Iterator[str]:
        """The text as it forms (only for jobs submitted with ``stream=True``); ends when the job does."""
        if self._pieces is None:
            raise ValueError("submit with stream=True to read pieces")
        while (piece := self._pieces.get()) is not None:
            yield piece

    def cancel(self) -> None:
        """Stop decoding this prompt at the next step and free its sequence."""
        self._cancelled = True

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def _emit(self, piece: str) -> None:
        if piece:
            self.text.append(piece)
            if self._pieces is not None:
                self._pieces.put(piece)

    def _resolve(self, generation: Generation | None, error: BaseException | None = None) -> None:
        self._generation, self._error = generation, error
        if self._pieces is not None:
            self._pieces.put(None)
        self._done.set()
        if self.on_done is not None:
            self.on_done(self)


class _Command:
    """Work for the worker thread between jobs (clearing the cache, stopping)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.done = threading.Event()


class Scheduler:
    """Decodes submitted prompts greedily, up to ``parallel`` at a time, in one worker thread.

    The engine needs ``n_seq_max >= parallel + 1``: one more sequence holds the shared prefix.
    Thread-safe: any thread may submit; each job's result comes back through its :class:`Job`.
    """

    def __init__(self, engine: Engine, *, parallel: int) -> None:
        if not 1 <= parallel < engine.n_seq_max:
            raise ValueError(f"parallel must be 1..{engine.n_seq_max - 1} for this engine, not {parallel}")
        self.engine = engine
        self.parallel = parallel
        self._prefix_seq = parallel  # the sequence that holds the shared prefix
        self._inbox: queue.SimpleQueue[list[Job] | _Command] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._crashed: TgEdgeError | None = None  # why the worker thread stopped, if it did
        # worker-side state
        self._waiting: deque[Job | _Command] = deque()
        self._active: list[Job] = []
        self._free = list(range(parallel - 1, -1, -1))
        self._prefix: list[int] = []
        self._prefix_generation = 0
        self._prefix_job: Job | None = None  # its prompt becomes the prefix once evaluated
        self._groups = itertools.count(1)
        self._group = 0  # the submission whose jobs were last admitted
        self.peak_active = 0
        """The most sequences decoded together so far (how much batching the load allowed)."""
        self.steps = 0
        """``llama_decode`` calls so far: a measure of work that, unlike seconds, other load cannot change."""

    # -- caller side ----------------------------------------------------------------------

    def submit(
        self, prompt: Sequence[int], *, max_tokens: int, stop_at_newline: bool = False, stream: bool = False
    ) -> Job:
        """Queue ``prompt`` for greedy decoding of up to ``max_tokens`` new tokens."""
        return self.submit_many(
            [prompt], max_tokens=[max_tokens], stop_at_newline=stop_at_newline, stream=stream
        )[0]

    def submit_many(
        self,
        prompts: Sequence[Sequence[int]],
        *,
        max_tokens: Sequence[int],
        stop_at_newline: bool = False,
        stream: bool = False,
        on_done: Sequence[Callable[[Job], None]] | None = None,
        abandon: Sequence[Abandon | None] | None = None,
        steer: Sequence[Steer | None] | None = None,
    ) -> list[Job]:
        """Queue several prompts at once: the worker sees all of them in the same step, so which prompts
        share a batch depends on the input alone, not on how fast this thread hands them over.

        ``on_done`` holds a callback per prompt, called with its job once it has ended (in the decoding
        thread, before the next step, unless an error ended it): jobs it submits join at a step fixed by the
        input too. ``abandon`` holds a test per prompt (or ``None``) on its text so far; see :data:`Abandon`;
        ``steer`` a choice of token per prompt (or ``None``) instead of the greedy one (see :mod:`tg_edge.steering`)."""
        jobs = []
        callbacks = on_done if on_done is not None else [None] * len(prompts)
        tests = abandon if abandon is not None else [None] * len(prompts)
        steers = steer if steer is not None else [None] * len(prompts)
        for prompt, most, callback, test, steering in zip(
            prompts, max_tokens, callbacks, tests, steers, strict=True
        ):
            if not prompt:
                raise ValueError("prompt must not be empty")
            if most < 1:
                raise ValueError("max_tokens must be at least 1")
            if len(prompt) + most > self.engine.n_ctx:
                raise TgEdgeError(
                    f"prompt of {len(prompt)} tokens plus up to {most} new tokens does not fit the "
                    f"context of {self.engine.n_ctx} tokens; use a larger --ctx or shorter segments"
                )
            jobs.append(
                Job(prompt, most, stop_at_newline, stream, on_done=callback, abandon=test, steer=steering)
            )
        if jobs:
            self._send(jobs)
        return jobs

    def submit_prefilled(self, prefill: Prefill, n_pos: int, *, max_tokens: int, stream: bool = False) -> Job:
        """Queue a prompt of ``n_pos`` positions that ``prefill`` evaluates itself (in the decoding thread, when
        a sequence is free); decoding then goes on as for any prompt. Such prompts share no prefix."""
        if n_pos < 1 or max_tokens < 1:
            raise ValueError("a prefilled prompt needs at least one position and one new token")
        if n_pos + max_tokens > self.engine.n_ctx:
            raise TgEdgeError(
                f"a prompt of {n_pos} positions plus up to {max_tokens} new tokens does not fit the "
                f"context of {self.engine.n_ctx} tokens; use a larger --ctx"
            )
        job = Job([-1] * n_pos, max_tokens, False, stream, prefill)  # placeholders: only their count is used
        self._send([job])
        return job

    def generate(
        self, prompt: Sequence[int], *, max_tokens: int, stop_at_newline: bool = False
    ) -> Generation:
        """Submit one prompt and wait for it."""
        return self.submit(prompt, max_tokens=max_tokens, stop_at_newline=stop_at_newline).result()

    def clear_cache(self) -> None:
        """Forget every cached prompt (after the running jobs), so the next prompt is evaluated whole."""
        command = _Command("clear")
        self._send(command)
        command.done.wait()

    def close(self) -> None:
        """Cancel what is queued or running and stop the worker thread."""
        if self._closed:
            return
        self._closed = True
        with self._start_lock:
            thread = self._thread
            if thread is not None:
                self._inbox.put(_Command("stop"))
        if thread is not None:
            thread.join()

    def _send(self, item: list[Job] | _Command) -> None:
        if self._closed:
            raise TgEdgeError("this model was closed; create a new Translator to translate again")
        if self._crashed is not None:
            raise self._crashed
        with self._start_lock:  # the worker leaves only under this lock, and only with an empty inbox
            self._inbox.put(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tg-edge-decoder", daemon=True)
                self._thread.start()
            thread = self._thread
        if self._crashed is not None and not thread.is_alive():  # it stopped while this was sent
            self._fail_everything(self._crashed)

    # -- worker side ----------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._serve()
        except BaseException as exc:  # a bug here must fail the callers, not leave them waiting forever
            log.exception("the decoding thread stopped")
            self._crashed = TgEdgeError(f"tg-edge's decoding thread stopped: {type(exc).__name__}: {exc}")
            self._fail_everything(self._crashed)

    def _fail_everything(self, error: TgEdgeError) -> None:
        """End every job that is running, waiting or still in the inbox with ``error``."""
        while True:
            try:
                self._receive(self._inbox.get(block=False))
            except queue.Empty:
                break
        for item in [*self._active, *self._waiting]:
            if isinstance(item, Job):
                item._resolve(None, error)  # noqa: SLF001
            else:
                item.done.set()
        self._active.clear()
        self._waiting.clear()

    def _serve(self) -> None:
        while True:
            block = not self._active and not self._waiting  # idle: wait for work, a while
            while True:
                try:
                    item = self._inbox.get(block=block, timeout=IDLE_SECONDS if block else None)
                except queue.Empty:
                    if block and self._leave_if_idle():
                        return
                    break
                block = False
                if isinstance(item, _Command) and item.name == "stop":
                    self._shut_down(item)
                    return
                self._receive(item)
            self._admit()
            if self._active:
                self._step()

    def _leave_if_idle(self) -> bool:
        """End the worker thread when nothing came for a while; the next submission starts another. OpenMP
        keeps a pool of threads for every thread that has decoded, and a process whose pools outnumber its
        cores decodes everywhere at a fraction of the speed (see :func:`tg_edge.engine.on_own_thread`): an idle
        Translator must not slow down another one."""
        with self._start_lock:
            if not self._inbox.empty():
                return False
            self._thread = None
            return True

    def _receive(self, item: list[Job] | _Command) -> None:
        if isinstance(item, list):
            group = next(self._groups)
            for job in item:
                job.group = group
            self._waiting.extend(item)
        else:
            self._waiting.append(item)

    def _shut_down(self, command: _Command) -> None:
        self._fail_everything(TgEdgeError("the translator was closed before this text was translated"))
        command.done.set()

    def _admit(self) -> None:
        """Move waiting jobs into free sequences, while their tokens fit the cache."""
        while self._waiting:
            item = self._waiting[0]
            if isinstance(item, Job) and item.group != self._group and not self._active:
                self._begin_group(item.group)
            if isinstance(item, _Command):  # clear: once nothing runs
                if self._active:
                    return
                self.engine.reset()
                self._prefix, self._prefix_job = [], None
                self._prefix_generation += 1
                self._waiting.popleft()
                item.done.set()
                continue
            if item._cancelled:  # noqa: SLF001
                self._waiting.popleft()
                self._finish(item, Stop.CANCELLED)
                continue
            if not self._free:
                return
            shared = self._shared_length(item.prompt)
            pending = self._prefix_job
            if pending is not None and _common_length(pending.prompt, item.prompt) > shared:
                return  # a better prefix is being evaluated right now: start from it next step
            if self._cells_in_use() + len(item.prompt) - shared + item.max_tokens > self.engine.n_ctx:
                if self._active or not self._prefix:
                    return
                self._drop_prefix()  # nothing runs: the prefix is all that stands in the way
                continue
            self._waiting.popleft()
            self._start(item, shared)

    def _begin_group(self, group: int) -> None:
        """A submission that finds the engine idle starts from an empty cache and evaluates its prompts'
        common prefix alone, so its outputs depend on its own prompts only, never on what ran before
        (cache layout and batch shapes change the last bits of the logits, and near-ties flip)."""
        self._group = group
        prompts = [
            job.prompt
            for job in self._waiting
            if isinstance(job, Job)
            and job.group == group
            and not job._cancelled  # noqa: SLF001 - the scheduler owns its jobs' state
            and job.prefill is None
        ]
        self.engine.reset()
        self._prefix, self._prefix_job = [], None
        self._prefix_generation += 1
        if not prompts:
            return
        common = min(min(len(p) for p in prompts) - 1, len(prompts[0]))
        for other in prompts[1:]:
            common = min(common, _common_length(prompts[0], other))
        if self.engine.can_share_prefix and common > 0:
            jobs = [job for job in self._waiting if isinstance(job, Job) and job.group == group]
            step = self.engine.n_batch
            try:
                for start in range(
                    0, common, step
                ):  # a batch at a time: a long prefix is no wall for cancel()
                    if all(job._cancelled for job in jobs):  # noqa: SLF001 - nobody waits for it any more
                        self.engine.reset()
                        return
                    self.engine.evaluate(
                        prompts[0][start : min(start + step, common)], seq=self._prefix_seq, pos=start
                    )
            except TgEdgeError:  # the jobs evaluate their prompts whole instead
                self.engine.reset()
                return
            self._prefix = list(prompts[0][:common])

    def _start(self, job: Job, shared: int) -> None:
        job.seq = self._free.pop()
        if job.prefill is not None:
            self._prefill(job, job.prefill)
            return
        if shared:
            self.engine.copy_sequence(self._prefix_seq, job.seq, shared)
        job.reused = job.pos = shared
        job.pending = job.prompt[shared:]
        job.generation_of_prefix = self._prefix_generation
        if self.engine.can_share_prefix:
            if not self._prefix or shared * 2 < len(self._prefix):
                if self._prefix_job is None:
                    self._prefix_job = job  # a new kind of prompt: its own will be the next prefix
            elif shared < len(self._prefix):
                self.engine.drop_sequence(self._prefix_seq, shared)  # keep only what prompts have in common
                del self._prefix[shared:]
        self._active.append(job)
        self.peak_active = max(self.peak_active, len(self._active))

    def _prefill(self, job: Job, prefill: Prefill) -> None:
        """Let the job evaluate its own prompt into its sequence, then take its first token."""
        job.generation_of_prefix = self._prefix_generation
        self._active.append(job)
        self.peak_active = max(self.peak_active, len(self._active))
        started = time.perf_counter()
        try:
            job.pos = prefill(job.seq)
        except TgEdgeError as exc:
            self._release(job)
            job._resolve(None, exc)  # noqa: SLF001
            return
        job.prompt_s = time.perf_counter() - started
        self._accept(job, self.engine.greedy_tokens()[-1])

    def _shared_length(self, prompt: list[int]) -> int:
        if not self.engine.can_share_prefix or prompt[:1] == [-1]:  # a prefilled prompt's placeholders
            return 0
        # The last prompt token is always evaluated: its logits give the first new token.
        return min(_common_length(self._prefix, prompt), len(prompt) - 1)

    def _cells_in_use(self) -> int:
        """An upper bound of the KV cells the prefix and running jobs can occupy when they finish."""
        held = {self._prefix_generation: len(self._prefix)}
        total = 0
        for job in self._active:
            own = len(job.prompt) - job.reused + job.max_tokens
            total += own
            generation = job.generation_of_prefix
            held[generation] = max(held.get(generation, 0), job.reused)
        return total + sum(held.values())

    def _drop_prefix(self) -> None:
        self.engine.drop_sequence(self._prefix_seq)
        self._prefix = []
        self._prefix_generation += 1

    def _step(self) -> None:
        """One ``llama_decode``: the next token of every decoding job, then prompt tokens while room is left."""
        for job in [j for j in self._active if j._cancelled]:  # noqa: SLF001
            self._finish(job, Stop.CANCELLED)
        batch: list[BatchToken] = []
        readers: list[Job] = []  # the jobs whose logits rows the batch produces, in batch order
        for job in self._active:
            if job.next_token is not None:
                batch.append(BatchToken(job.next_token, job.pos, (job.seq,), True))
                job.pos += 1
                readers.append(job)
        prompting: list[Job] = []
        for job in self._active:
            room = self.engine.n_batch - len(batch)
            if room == 0:
                break
            if job.next_token is None and job.pending:
                chunk, job.pending = job.pending[:room], job.pending[room:]
                done = not job.pending
                batch.extend(
                    BatchToken(token, job.pos + i, (job.seq,), done and i == len(chunk) - 1)
                    for i, token in enumerate(chunk)
                )
                job.pos += len(chunk)
                prompting.append(job)
                if done:
                    readers.append(job)
        if not batch:
            return
        started = time.perf_counter()
        try:
            self.engine.decode(batch)
        except TgEdgeError as exc:
            self._fail_all(exc)
            return
        took = time.perf_counter() - started
        self.steps += 1
        for job in prompting:
            job.prompt_s += took
            if job is self._prefix_job and not job.pending:
                self._adopt_prefix(job)
        for row, (job, token) in enumerate(zip(readers, self.engine.greedy_tokens(), strict=True)):
            if job.steer is not None:
                token = self._steered(job, self.engine.output_logits(row), token)
            self._accept(job, token)

    def _steered(self, job: Job, logits: np.ndarray, greedy: int) -> int:
        """The job's steer's choice of token; where that ends the output, the steer may first take back the
        tail of what was written and redo it from an earlier step (see :mod:`tg_edge.steering`). A streamed
        job's pieces are out already: it is never taken back."""
        assert job.steer is not None
        token = job.steer(logits, greedy, "".join(job.text))
        ends = self.engine.is_end_of_generation(token) or (
            job.stop_at_newline and b"\n" in self.engine.token_bytes(token)
        )
        if not ends or job.stream:
            return token
        redo = job.steer.redo("".join(job.text))
        if redo is None:
            return token
        keep, first = redo
        start = job.pos - (len(job.out) - keep)
        if not self.engine.drop_sequence(job.seq, start):
            return token  # the cache cannot take positions back: end as the model chose
        job.pos = start
        del job.out[keep:]
        job.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        job.text = [job.decoder.decode(b"".join(self.engine.token_bytes(t) for t in job.out))]
        return first

    def _adopt_prefix(self, job: Job) -> None:
        """The job's whole prompt is in the cache now: make it the prefix later prompts start from."""
        self._drop_prefix()
        self.engine.copy_sequence(job.seq, self._prefix_seq, len(job.prompt))
        self._prefix = list(job.prompt)
        self._prefix_job = None

    def _accept(self, job: Job, token: int) -> None:
        """Take the job's next greedy token and decide whether it goes on."""
        if job.first_token_at is None:
            job.first_token_at = time.perf_counter()
        job.next_token = None
        if self.engine.is_end_of_generation(token):
            self._finish(job, Stop.EOS)
            return
        job.out.append(token)
        piece = job.decoder.decode(self.engine.token_bytes(token))
        if job.stop_at_newline and "\n" in piece:
            job._emit(piece.split("\n", 1)[0])  # noqa: SLF001
            self._finish(job, Stop.NEWLINE)
            return
        job._emit(piece)  # noqa: SLF001
        if repeating_tail(job.out):
            self._finish(job, Stop.LOOP)
        elif job.abandon is not None and piece and job.abandon("".join(job.text)):
            self._finish(job, Stop.ABANDONED)
        elif len(job.out) >= job.max_tokens:
            self._finish(job, Stop.LENGTH)
        else:
            job.next_token = token

    def _finish(self, job: Job, stop: Stop) -> None:
        if stop not in (Stop.NEWLINE, Stop.CANCELLED):
            job._emit(job.decoder.decode(b"", final=True))  # noqa: SLF001
        self._release(job)
        now = time.perf_counter()
        job._resolve(  # noqa: SLF001
            Generation(
                text="".join(job.text),
                tokens=tuple(job.out),
                n_prompt=len(job.prompt),
                n_new=len(job.out),
                n_reused=job.reused,
                stop=stop,
                first_token_s=(job.first_token_at or now) - job.submitted,
                prompt_s=job.prompt_s,
                seconds=now - job.submitted,
            )
        )

    def _release(self, job: Job) -> None:
        if job in self._active:
            self._active.remove(job)
            self.engine.drop_sequence(job.seq)
            self._free.append(job.seq)
            if job is self._prefix_job:
                self._prefix_job = None

    def _fail_all(self, error: TgEdgeError) -> None:
        """A failed decode leaves the cache in an unknown state: fail the running jobs and start clean."""
        for job in list(self._active):
            self._release(job)
            job._resolve(None, error)  # noqa: SLF001
        self.engine.reset()
        self._prefix, self._prefix_job = [], None
        self._prefix_generation += 1


def _common_length(a: Sequence[int], b: Sequence[int]) -> int:
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
