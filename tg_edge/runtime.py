"""What a Translator runs on: the llama.cpp engine, its scheduler, the prompt profile and the vision projector.

Internal: nothing here is public API, and no llama.cpp object leaves through the Translator. Benchmarks that
time the decode path every translation takes (``tg_edge.bench.tgedge``) load a :class:`Runtime` themselves.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from .errors import ImagesUnsupported, ProjectorError, TgEdgeError
from .fit import default_parallel
from .glossary import writes_spaces
from .languages import Language, resolve_language
from .languages.check import copy_start
from .models import find_projector, resolve_model
from .prompts import FEWSHOT, Prompt, detect_profile, make_profile
from .segment import Piece, split_text
from .steering import TermSteer, term_steer

if TYPE_CHECKING:
    from .engine import Engine
    from .glossary import Glossary
    from .options import TranslationOptions
    from .projector import Projector
    from .prompts import PromptProfile
    from .scheduler import Scheduler
    from .slots import Job

log = logging.getLogger("tg_edge")


@dataclass(frozen=True)
class TranslatorStats:
    """What a :class:`~tg_edge.Translator` uses and what it has done so far (counters add up across calls;
    ``later.since(earlier)`` gives the work in between)."""

    threads: int
    """CPU threads decoding now (following the machine's load unless a count was given)."""
    parallel: int
    """Sequences decoded together at most."""
    n_ctx: int
    n_batch: int
    gpu_layers: int
    """Layers offloaded to a GPU."""
    kv_cache_bytes: int
    weight_buffers: Mapping[str, int]
    """Bytes of the model's weights by buffer (``CPU_Mapped``, ``CPU_REPACK``, a GPU's)."""
    logits_bytes: int
    """Bytes llama.cpp keeps for logits: a row of 32-bit floats per sequence."""
    decode_steps: int = 0
    """``llama_decode`` calls: a measure of work that, unlike seconds, other load cannot change."""
    batch_tokens: int = 0
    """Tokens handed to ``llama_decode`` (prompt and new ones)."""
    prompt_tokens_evaluated: int = 0
    prompt_tokens_reused: int = 0
    """Prompt tokens copied from a shared prefix instead of evaluated."""
    tokens_generated: int = 0
    decode_seconds: float = 0.0
    """Seconds spent in ``llama_decode``."""
    retries: int = 0
    """Units translated again because the guards found their output suspect."""
    peak_parallel: int = 0
    """The most sequences decoded together so far."""

    def since(self, earlier: TranslatorStats) -> TranslatorStats:
        """The counters' growth since ``earlier`` (the settings and ``peak_parallel`` as they are now)."""
        counters = {f.name for f in fields(self)[fields(self).index(_FIRST_COUNTER) :]} - {"peak_parallel"}
        return replace(self, **{name: getattr(self, name) - getattr(earlier, name) for name in counters})


_FIRST_COUNTER = next(f for f in fields(TranslatorStats) if f.name == "decode_steps")


class Runtime:
    """A loaded model: engine, scheduler and prompt profile; the vision projector loads on first use."""

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        gpu_layers: int | str | None = None,
        n_ctx: int = 4096,
        parallel: int | None = None,
        prompt_profile: str | None = None,
        mmproj: str | os.PathLike[str] | None = None,
        kv_type: str = "f16",
    ) -> None:
        from .engine import Engine  # llama.cpp loads only when a model does
        from .machine import gpu_available
        from .scheduler import Scheduler

        self.model_path: Path = resolve_model(model)
        self.mmproj = Path(mmproj) if mmproj is not None else None
        if self.mmproj is not None and not self.mmproj.is_file():
            raise ProjectorError(f"no vision projector file {self.mmproj}")
        self._projector: Projector | None = None
        self._projector_lock = threading.Lock()
        if parallel is not None and parallel < 1:
            raise ValueError("parallel must be at least 1")
        self.parallel = parallel or default_parallel(n_ctx, gpu=gpu_layers != 0 and gpu_available())
        self.engine: Engine = Engine(
            self.model_path,
            n_ctx=n_ctx,
            threads=threads,
            gpu_layers=gpu_layers,
            n_seq_max=self.parallel + 1,
            kv_type=kv_type,
        )
        self.scheduler: Scheduler = Scheduler(self.engine, parallel=self.parallel)
        self._retries = 0
        self._retries_lock = threading.Lock()
        try:
            self.profile = prompt_profile or detect_profile(self.engine.metadata)
            self.prompts: PromptProfile = make_profile(
                self.profile,
                self.engine.metadata,
                bos_token=self.engine.token_text(self.engine.bos_token),
                eos_token=self.engine.token_text(self.engine.eos_token),
            )
        except TgEdgeError:
            self.close()
            raise

    def language(self, language: Language | str) -> Language:
        """``language`` as this model's prompt profile accepts it (see :meth:`Translator.language`)."""
        return resolve_language(language, any_language=self.prompts.any_language)

    def prompt_tokens(self, prompt: Prompt) -> list[int]:
        """Tokens of a rendered prompt with exactly one BOS (templates that emit it get no second one)."""
        bos = self.engine.token_text(self.engine.bos_token)
        add_bos = self.engine.adds_bos and not prompt.text.startswith(bos)
        return self.engine.tokenize(prompt.text, add_bos=add_bos)

    def split(self, text: str, source: Language, options: TranslationOptions) -> list[Piece]:
        """``text`` cut into units within the segment budget and the skeleton around them (see
        :func:`tg_edge.segment.split_text`); sentences for the few-shot profile unless ``options.unit`` says."""
        unit = options.unit
        sentences = unit == "sentence" or (unit == "auto" and self.profile == FEWSHOT)
        return split_text(
            text,
            self.engine.count_tokens,
            options.max_segment_tokens,
            language=source.code,
            sentences=sentences,
        )

    def submit_units(
        self,
        units: Sequence[str],
        source: Language,
        target: Language,
        options: TranslationOptions,
        *,
        stream: bool = False,
        again: Sequence[bool] | None = None,
        on_done: Sequence[Callable[[Job], None]] | None = None,
        abandon_copies: bool = False,
        terms: Glossary | None = None,
        place_terms: Sequence[bool] | None = None,
    ) -> list[Job]:
        """Hand every unit to the scheduler in one piece (see :meth:`Scheduler.submit_many`); with
        ``abandon_copies``, an output that begins as a copy of its unit (or of the unit with its terms placed)
        is not decoded to its end (the guards take it for the copy it was writing; see
        :func:`tg_edge.languages.check.copy_start`). ``terms``' target terms are written into each unit
        before it is prompted (see :meth:`Glossary.place`), unless its ``place_terms`` is false."""
        prompts, budgets, steers, shown = [], [], [], []
        stop_at_newline = False
        for text, retry, place in zip(
            units, again or [False] * len(units), place_terms or [True] * len(units), strict=True
        ):
            placed = terms.place(text, source) if terms and place else text
            shown.append(placed)
            steers.append(self.steer(text, source, target, terms) if terms else None)
            prompt: Prompt = self.prompts.render(placed, source, target, again=retry)
            tokens = self.prompt_tokens(prompt)
            budget = int(self.engine.count_tokens(text) * options.output_ratio) + options.output_slack
            prompts.append(tokens)
            budgets.append(max(1, min(budget, self.engine.n_ctx - len(tokens))))
            stop_at_newline = prompt.stop_at_newline
        abandon = (
            [
                copy_start(text, placed, source=source.code, target=target.code)
                for text, placed in zip(units, shown, strict=True)
            ]
            if abandon_copies
            else None
        )
        return self.scheduler.submit_many(
            prompts,
            max_tokens=budgets,
            stop_at_newline=stop_at_newline,
            stream=stream,
            on_done=on_done,
            abandon=abandon,
            steer=steers if terms else None,
        )

    def steer(self, text: str, source: Language, target: Language, terms: Glossary) -> TermSteer | None:
        """What steers a unit's decoding toward its required terms (see :mod:`tg_edge.steering`)."""
        required = [(m.required, m.keep) for m in terms.matches(text, source)]
        return term_steer(
            required,
            lambda s: self.engine.tokenize(s, add_bos=False, special=False),
            spaced=writes_spaces(target),
        )

    def projector(self) -> Projector:
        """The vision projector, loaded on first use; :class:`ImagesUnsupported` when the model has none."""
        with self._projector_lock:
            if self._projector is None:
                from .projector import Projector

                path = self.mmproj or find_projector(self.model_path)
                if path is None:
                    raise ImagesUnsupported(
                        f"{self.model_path.name} has no vision projector beside it (an mmproj GGUF), so it cannot "
                        "read images: pass --mmproj FILE, or pull a model with one (tg-edge models pull "
                        "translategemma-4b fetches it)"
                    )
                self._projector = Projector(self.engine, path)
                log.info("loaded the vision projector %s", path)
            return self._projector

    def count_retries(self, retries: int) -> None:
        with self._retries_lock:
            self._retries += retries

    def stats(self) -> TranslatorStats:
        engine, scheduler, counts = self.engine, self.scheduler, self.scheduler.counts
        return TranslatorStats(
            threads=engine.threads,
            parallel=self.parallel,
            n_ctx=engine.n_ctx,
            n_batch=engine.n_batch,
            gpu_layers=engine.gpu_layers,
            kv_cache_bytes=engine.kv_cache_bytes,
            weight_buffers=MappingProxyType(dict(engine.weight_buffers)),
            logits_bytes=engine.n_seq_max * engine.n_vocab * 4,
            decode_steps=scheduler.steps,
            batch_tokens=counts.batch_tokens,
            prompt_tokens_evaluated=counts.prompt_evaluated,
            prompt_tokens_reused=counts.prompt_reused,
            tokens_generated=counts.generated,
            decode_seconds=counts.decode_seconds,
            retries=self._retries,
            peak_parallel=scheduler.peak_active,
        )

    def close(self) -> None:
        """Free the model now rather than at garbage collection."""
        self.scheduler.close()
        if self._projector is not None:
            self._projector.close()
        self.engine.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
