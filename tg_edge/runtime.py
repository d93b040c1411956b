"""What a Translator runs on: the llama.cpp engine, its scheduler, the prompt profile and the vision projector.

Internal: nothing here is public API, and no llama.cpp object leaves through the Translator. Benchmarks that
time the decode path every translation takes (``tg_edge.bench.tgedge``) load a :class:`Runtime` themselves.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from .errors import ImagesUnsupported, ProjectorError, TgEdgeError
from .languages import Language, resolve_language
from .models import find_projector, resolve_model
from .prompts import Prompt, detect_profile, make_profile
from .slots import default_parallel

if TYPE_CHECKING:
    from .engine import Engine
    from .projector import Projector
    from .prompts import PromptProfile
    from .scheduler import Scheduler

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
        from .engine import Engine, gpu_available  # llama.cpp loads only when a model does
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
