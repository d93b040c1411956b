"""Continuous batching: many prompts decoded greedily together, as parallel sequences of one engine.

One worker thread owns the engine. Each step it puts one token of every decoding sequence and
as many prompt tokens of newly admitted ones as fit into a single ``llama_decode`` batch, so
weights are read once for all of them. A finished sequence frees its slot for the next waiting
prompt at once. Prompts that start alike (the same instruction or few-shot examples) share
that prefix: it is evaluated once, held by a sequence of its own, and its cache cells are
shared by every sequence started from it.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from .engine import BatchToken, Engine
from .errors import TgEdgeError
from .generation import Generation as Generation  # re-exported: where the scheduler's callers look
from .generation import Stop as Stop
from .prefix import SharedPrefix
from .slots import (
    PLACEHOLDER,
    Abandon,
    DecodeCounts,
    Prefill,
    Request,
    Slot,
    SlotState,
    Task,
    end,
    new_request,
    repeating_tail,
)
from .slots import (
    Job as Job,  # the handle submit returns: importable from here
)
from .steering import Steer

log = logging.getLogger(__name__)

IDLE_SECONDS = 0.5
"""How long the decoding thread waits for work before it ends (see :meth:`Scheduler._leave_if_idle`)."""


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
        self._inbox: queue.SimpleQueue[list[Request] | _Command] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._closed = False
        self._crashed: TgEdgeError | None = None  # why the worker thread stopped, if it did
        # worker-side state
        self._waiting: deque[Request | _Command] = deque()
        self._active: list[Slot] = []
        self._free = list(range(parallel - 1, -1, -1))
        self._prefix = SharedPrefix(engine, seq=parallel)  # one more sequence than the jobs'
        self._groups = itertools.count(1)
        self._group = 0  # the submission whose jobs were last admitted
        self.peak_active = 0
        """The most sequences decoded together so far (how much batching the load allowed)."""
        self.steps = 0
        """``llama_decode`` calls so far: a measure of work that, unlike seconds, other load cannot change."""
        self.counts = DecodeCounts()
        """Tokens and seconds of the work done so far (see :class:`DecodeCounts`)."""

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
        requests = []
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
            self._check_fits(len(prompt), most, f"prompt of {len(prompt)} tokens", "or shorter segments")
            task = Task(tuple(prompt), most, stop_at_newline, abandon=test, steer=steering, on_done=callback)
            requests.append(new_request(task, stream))
        if requests:
            self._send(requests)
        return [request.job for request in requests]

    def submit_prefilled(self, prefill: Prefill, n_pos: int, *, max_tokens: int, stream: bool = False) -> Job:
        """Queue a prompt of ``n_pos`` positions that ``prefill`` evaluates itself (in the decoding thread, when
        a sequence is free); decoding then goes on as for any prompt. Such prompts share no prefix."""
        if n_pos < 1 or max_tokens < 1:
            raise ValueError("a prefilled prompt needs at least one position and one new token")
        self._check_fits(n_pos, max_tokens, f"a prompt of {n_pos} positions")
        request = new_request(Task((PLACEHOLDER,) * n_pos, max_tokens, prefill=prefill), stream)
        self._send([request])
        return request.job

    def _check_fits(self, n_prompt: int, max_tokens: int, what: str, advice: str = "") -> None:
        if n_prompt + max_tokens > self.engine.n_ctx:
            raise TgEdgeError(
                f"{what} plus up to {max_tokens} new tokens does not fit the context of {self.engine.n_ctx} "
                f"tokens; use a larger --ctx" + (f" {advice}" if advice else "")
            )

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

    def _send(self, item: list[Request] | _Command) -> None:
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
        for slot in self._active:
            end(slot.request, error)
        for item in self._waiting:
            if isinstance(item, Request):
                end(item, error)
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

    def _receive(self, item: list[Request] | _Command) -> None:
        if isinstance(item, list):
            group = next(self._groups)
            for request in item:
                request.group = group
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
            if isinstance(item, Request) and item.group != self._group and not self._active:
                self._begin_group(item.group)
            if isinstance(item, _Command):  # clear: once nothing runs
                if self._active:
                    return
                self._prefix.reset()
                self._waiting.popleft()
                item.done.set()
                continue
            if item.cancelled:
                self._waiting.popleft()
                end(item, self._generation(item.task, Stop.CANCELLED))
                continue
            if not self._free:
                return
            prompt = item.task.prompt
            shared = self._prefix.shared_length(prompt)
            if self._prefix.better_coming(prompt, shared):
                return  # a better prefix is being evaluated right now: start from it next step
            needed = len(prompt) - shared + item.task.max_tokens
            if self._prefix.cells_in_use(self._active) + needed > self.engine.n_ctx:
                if self._active or not self._prefix.tokens:
                    return
                self._prefix.drop()  # nothing runs: the prefix is all that stands in the way
                continue
            self._waiting.popleft()
            self._start(item, shared)

    def _begin_group(self, group: int) -> None:
        """A submission that finds the engine idle starts from an empty cache and evaluates its prompts'
        common prefix alone, so its outputs depend on its own prompts only, never on what ran before
        (cache layout and batch shapes change the last bits of the logits, and near-ties flip)."""
        self._group = group
        mine = [item for item in self._waiting if isinstance(item, Request) and item.group == group]
        prompts = [r.task.prompt for r in mine if not r.cancelled and not r.task.prefilled]
        self._prefix.reset()
        self.counts.prompt_evaluated += self._prefix.evaluate_common(
            prompts, lambda: not all(request.cancelled for request in mine)
        )

    def _start(self, request: Request, shared: int) -> None:
        slot = Slot(request, self._free.pop(), shared=shared, prefix_generation=self._prefix.generation)
        self._active.append(slot)
        self.peak_active = max(self.peak_active, len(self._active))
        if request.task.prefill is not None:
            self._prefill(slot, request.task.prefill)
            return
        self._prefix.start(slot, shared)
        self.counts.prompt_reused += shared

    def _prefill(self, slot: Slot, prefill: Prefill) -> None:
        """Let the job evaluate its own prompt into its sequence, then take its first token."""
        started = time.perf_counter()
        try:
            slot.pos = prefill(slot.seq)
        except TgEdgeError as exc:
            self._release(slot)
            end(slot.request, exc)
            return
        slot.pending.clear()
        slot.prompt_s = time.perf_counter() - started
        self.counts.prompt_evaluated += len(slot.task.prompt)
        self._accept(slot, self.engine.greedy_tokens()[-1])

    def _step(self) -> None:
        """One ``llama_decode``: the next token of every decoding job, then prompt tokens while room is left."""
        for slot in [s for s in self._active if s.request.cancelled]:
            self._finish(slot, Stop.CANCELLED)
        batch: list[BatchToken] = []
        readers: list[Slot] = []  # the slots whose logits rows the batch produces, in batch order
        for slot in self._active:
            if slot.state is SlotState.DECODING and slot.next_token is not None:
                batch.append(BatchToken(slot.next_token, slot.pos, (slot.seq,), True))
                slot.pos += 1
                readers.append(slot)
        prompting: list[Slot] = []
        for slot in self._active:
            room = self.engine.n_batch - len(batch)
            if room == 0:
                break
            if slot.state is SlotState.PROMPTING and slot.pending:
                start = slot.pos
                chunk = slot.take_prompt(room)
                done = not slot.pending
                batch.extend(
                    BatchToken(token, start + i, (slot.seq,), done and i == len(chunk) - 1)
                    for i, token in enumerate(chunk)
                )
                self.counts.prompt_evaluated += len(chunk)
                prompting.append(slot)
                if done:
                    readers.append(slot)
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
        self.counts.batch_tokens += len(batch)
        self.counts.decode_seconds += took
        for slot in prompting:
            slot.prompt_s += took
            if slot is self._prefix.candidate and not slot.pending:
                self._prefix.adopt(slot)
        for row, (slot, token) in enumerate(zip(readers, self.engine.greedy_tokens(), strict=True)):
            if slot.task.steer is not None:
                token = slot.steered(self.engine, self.engine.output_logits(row), token)
            self._accept(slot, token)

    def _accept(self, slot: Slot, token: int) -> None:
        """Take the job's next greedy token and decide whether it goes on."""
        if slot.first_token_at is None:
            slot.first_token_at = time.perf_counter()
        slot.next_token = None
        if self.engine.is_end_of_generation(token):
            self._finish(slot, Stop.EOS)
            return
        slot.out.append(token)
        piece = slot.decoder.decode(self.engine.token_bytes(token))
        task = slot.task
        if task.stop_at_newline and "\n" in piece:
            slot.emit(piece.split("\n", 1)[0])
            self._finish(slot, Stop.NEWLINE)
            return
        slot.emit(piece)
        if repeating_tail(slot.out):
            self._finish(slot, Stop.LOOP)
        elif task.abandon is not None and piece and task.abandon("".join(slot.text)):
            self._finish(slot, Stop.ABANDONED)
        elif len(slot.out) >= task.max_tokens:
            self._finish(slot, Stop.LENGTH)
        else:
            slot.decoding(token)

    def _finish(self, slot: Slot, stop: Stop) -> None:
        if stop not in (Stop.NEWLINE, Stop.CANCELLED):
            slot.emit(slot.decoder.decode(b"", final=True))
        self._release(slot)
        self.counts.generated += len(slot.out)
        end(slot.request, self._generation(slot.task, stop, slot))

    @staticmethod
    def _generation(task: Task, stop: Stop, slot: Slot | None = None) -> Generation:
        """What a job ends with: ``slot``'s output, or nothing for one cancelled before it ran."""
        now = time.perf_counter()
        out = slot.out if slot else []
        return Generation(
            text="".join(slot.text) if slot else "",
            tokens=tuple(out),
            n_prompt=len(task.prompt),
            n_new=len(out),
            n_reused=slot.reused if slot else 0,
            stop=stop,
            first_token_s=((slot.first_token_at if slot else None) or now) - task.submitted,
            prompt_s=slot.prompt_s if slot else 0.0,
            seconds=now - task.submitted,
        )

    def _release(self, slot: Slot) -> None:
        if slot.state is not SlotState.FINISHED:
            slot.state = SlotState.FINISHED
            self._active.remove(slot)
            self.engine.drop_sequence(slot.seq)
            self._free.append(slot.seq)
            self._prefix.forget(slot)

    def _fail_all(self, error: TgEdgeError) -> None:
        """A failed decode leaves the cache in an unknown state: fail the running jobs and start clean."""
        for slot in list(self._active):
            self._release(slot)
            end(slot.request, error)
        self._prefix.reset()
