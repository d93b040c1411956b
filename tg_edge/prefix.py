"""The shared prompt prefix: evaluated once into a sequence of its own, its cells copied into every sequence
whose prompt starts the same way (the same instruction or few-shot examples)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .engine import Engine
from .errors import TgEdgeError
from .slots import PLACEHOLDER, Slot, common_length


class SharedPrefix:
    """The tokens the prefix sequence ``seq`` holds, and the running job whose prompt will replace them.

    ``generation`` changes whenever the cells are dropped: jobs started from an older prefix still hold
    copies of its cells (see :meth:`cells_in_use`)."""

    def __init__(self, engine: Engine, seq: int) -> None:
        self.engine = engine
        self.seq = seq
        self.tokens: list[int] = []
        self.generation = 0
        self.candidate: Slot | None = None
        """A running job whose whole prompt becomes the prefix once evaluated (a new kind of prompt)."""

    def reset(self) -> None:
        """Empty the whole cache: no prefix, none being evaluated, and a new generation of prefix cells."""
        self.engine.reset()
        self.tokens, self.candidate = [], None
        self.generation += 1

    def drop(self) -> None:
        """Free the prefix's own cells (jobs started from it keep their copies)."""
        self.engine.drop_sequence(self.seq)
        self.tokens = []
        self.generation += 1

    def evaluate_common(self, prompts: Sequence[Sequence[int]], wanted: Callable[[], bool]) -> int:
        """Make the prompts' common start (all but their last tokens) the prefix, evaluated a batch at a time
        so a long one is no wall for cancelling (``wanted()`` false: stop and empty the cache); returns the
        tokens evaluated. A failed evaluation leaves the cache empty: the jobs evaluate their prompts whole."""
        if not prompts or not self.engine.can_share_prefix:
            return 0
        common = min(min(len(p) for p in prompts) - 1, len(prompts[0]))
        for other in prompts[1:]:
            common = min(common, common_length(prompts[0], other))
        step = self.engine.n_batch
        try:
            for start in range(0, common, step):
                if not wanted():
                    self.engine.reset()
                    return start
                self.engine.evaluate(prompts[0][start : min(start + step, common)], seq=self.seq, pos=start)
        except TgEdgeError:
            self.engine.reset()
            return 0
        self.tokens = list(prompts[0][:common])
        return max(common, 0)

    def shared_length(self, prompt: Sequence[int]) -> int:
        """How many of ``prompt``'s tokens a job can copy from the prefix instead of evaluating them."""
        if not self.engine.can_share_prefix or prompt[:1] == (
            PLACEHOLDER,
        ):  # a prefilled prompt's placeholders
            return 0
        # The last prompt token is always evaluated: its logits give the first new token.
        return min(common_length(self.tokens, prompt), len(prompt) - 1)

    def better_coming(self, prompt: Sequence[int], shared: int) -> bool:
        """Whether the candidate being evaluated would give ``prompt`` more than the ``shared`` tokens it gets now."""
        return self.candidate is not None and common_length(self.candidate.task.prompt, prompt) > shared

    def start(self, slot: Slot, shared: int) -> None:
        """Copy the shared cells into a starting job's sequence; a prompt unlike the prefix becomes the next
        candidate, one that shares only part of it trims the prefix to what prompts have in common."""
        if shared:
            self.engine.copy_sequence(self.seq, slot.seq, shared)
        if not self.engine.can_share_prefix:
            return
        if not self.tokens or shared * 2 < len(self.tokens):
            if self.candidate is None:
                self.candidate = slot
        elif shared < len(self.tokens):
            self.engine.drop_sequence(self.seq, shared)
            del self.tokens[shared:]

    def adopt(self, slot: Slot) -> None:
        """The candidate's whole prompt is in the cache now: make it the prefix later prompts start from."""
        self.drop()
        self.engine.copy_sequence(slot.seq, self.seq, len(slot.task.prompt))
        self.tokens = list(slot.task.prompt)
        self.candidate = None

    def forget(self, slot: Slot) -> None:
        """``slot`` ended: it can no longer become the prefix."""
        if slot is self.candidate:
            self.candidate = None

    def cells_in_use(self, running: Sequence[Slot]) -> int:
        """An upper bound of the KV cells the prefix and the running jobs can occupy when they finish."""
        held = {self.generation: len(self.tokens)}
        total = 0
        for slot in running:
            total += len(slot.task.prompt) - slot.reused + slot.task.max_tokens
            held[slot.prefix_generation] = max(held.get(slot.prefix_generation, 0), slot.reused)
        return total + sum(held.values())
