"""The Translator: text in, translated text out, through segment → prompt → engine → reassemble."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from .cancel import Cancellation, check
from .documents import (
    IN_CHUNKS,
    Chunking,
    DocumentTranslation,
    render_documents,
    translate_segments,
)
from .errors import TranslationIncomplete
from .glossary import Glossary
from .guards import OnDone, SegmentResult
from .image_translation import image_prompt, refuse_without_image_prompt, translate_image
from .images import ImageLike, read_image
from .languages import (
    Language,
    detect_source,
    is_auto,
    refuse_auto_for_images,
    resolve_language,
    same_language,
)
from .models import find_projector
from .options import TranslationOptions
from .results import (
    ImageTranslation,
    Translation,
    TranslationStream,
    assemble,
    check_strict,
    incomplete_message,
    log_problems,
    unchanged,
    whole_stream,
)
from .runtime import Runtime, TranslatorStats
from .streaming import stream_units
from .units import texts_done, translate_units

if TYPE_CHECKING:
    from .formats import Document
    from .generation import Generation
    from .languages import Detection
    from .projector import ImagePrompt
    from .slots import Job

__all__ = [  # the result and option types live in their own modules; importable from here as before
    "ImageTranslation",
    "LanguageLike",
    "SegmentResult",
    "Translation",
    "TranslationOptions",
    "TranslationStream",
    "Translator",
    "translate",
]


LanguageLike = Language | str

log = logging.getLogger("tg_edge")


class Translator:
    """A translation model loaded once, ready to translate many texts.

    ``model`` is a path to a GGUF file or a short name (see :func:`tg_edge.available_models`);
    ``None`` uses ``TG_EDGE_MODEL`` or the demo model. ``options`` are the defaults of every call;
    each call can pass its own.

    Languages are a :class:`Language` or a code (``en``, ``pt-BR``, ``Bavarian``); the source may be
    ``"auto"`` to detect it from the text. The TranslateGemma profile accepts its model's 55+ language
    table; the chat and few-shot profiles any language with a known BCP-47 / ISO 639 code.

    ``gpu_layers``: layers offloaded to the GPU; ``None`` or ``"auto"`` offloads as many as fit its free
    memory (none without a GPU backend), -1 all of them. ``mmproj``: the vision projector GGUF for
    :meth:`translate_image` [default: the one beside the model file], loaded on first use. ``kv_type``:
    the KV cache's element type, ``"f16"`` or ``"q8_0"`` (half the memory, for long documents).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        threads: int | None = None,
        gpu_layers: int | str | None = None,
        n_ctx: int = 4096,
        parallel: int | None = None,
        prompt_profile: str | None = None,
        options: TranslationOptions | None = None,
        mmproj: str | os.PathLike[str] | None = None,
        kv_type: str = "f16",
    ) -> None:
        self._runtime = Runtime(
            model,
            threads=threads,
            gpu_layers=gpu_layers,
            n_ctx=n_ctx,
            parallel=parallel,
            prompt_profile=prompt_profile,
            mmproj=mmproj,
            kv_type=kv_type,
        )
        self.model_path: Path = self._runtime.model_path
        self.options = options or TranslationOptions()
        self.parallel = self._runtime.parallel
        self.profile = self._runtime.profile
        self._engine, self._scheduler, self._prompts = (
            self._runtime.engine,
            self._runtime.scheduler,
            self._runtime.prompts,
        )
        log.info(
            "loaded %s (prompt profile %s, %d threads, %d parallel sequences)",
            self.model_path,
            self.profile,
            self._engine.threads,
            self.parallel,
        )

    @property
    def threads(self) -> int:
        """The CPU threads decoding now: fixed when a count was given, else following the machine's load."""
        return self._engine.threads

    @property
    def reads_images(self) -> bool:
        """Whether :meth:`translate_image` can work: an image prompt and a vision projector (not loaded here)."""
        return self._prompts.reads_images and (
            self._runtime.mmproj is not None or find_projector(self.model_path) is not None
        )

    @property
    def stats(self) -> TranslatorStats:
        """What this translator uses (threads, memory) and the work it has done so far: decode steps, prompt
        tokens evaluated and reused, tokens generated, retries (see :class:`TranslatorStats`)."""
        return self._runtime.stats()

    def language(self, language: LanguageLike) -> Language:
        """``language`` as this model accepts it: a code resolved once, a :class:`Language` checked against
        the table of this model's prompt profile. Raises :class:`LanguageError` naming close matches."""
        return resolve_language(language, any_language=self._prompts.any_language)

    def translate(
        self,
        text: str,
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
    ) -> Translation:
        """Translate ``text`` from ``source`` (or ``"auto"``) to ``target``.

        When the source language (given or detected) is the target language, the text comes back byte for
        byte without the model (so do documents, streams and batches; see :func:`~tg_edge.languages.same_language`).
        """
        return self.translate_many([text], source=source, target=target, options=options)[0]

    def translate_many(
        self,
        texts: Sequence[str],
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
        cancel: Cancellation | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[Translation]:
        """Translate several texts at once, results in input order; ``progress(n)`` hears of texts as they finish.

        Their segments are decoded together as parallel sequences; concurrent calls from
        several threads share the model and are batched together (this is the server's path).
        With ``source="auto"`` the language is detected from all texts together. Once ``cancel``
        is cancelled (from any thread), decoding stops at the next step and
        :class:`~tg_edge.errors.Cancelled` is raised.
        """
        options = options or self.options
        check(cancel)
        src, tgt, detected = self._languages(source, target, texts)
        if same_language(src, tgt):
            return [unchanged(text, src, tgt, self.profile, options, detected) for text in texts]
        started = time.perf_counter()
        split = [self._runtime.split(text, src, options) for text in texts]
        units = [piece.text for pieces in split for piece in pieces if piece.translate]
        on_unit = texts_done([sum(p.translate for p in pieces) for pieces in split], progress)
        results = iter(
            translate_units(self._runtime, self._submit, units, src, tgt, options, cancel, on_unit)
        )
        seconds = time.perf_counter() - started
        translations = []
        for pieces in split:
            mine = [next(results) for piece in pieces if piece.translate]
            translations.append(assemble(pieces, mine, src, tgt, self.profile, options, seconds, detected))
        log_problems(translations)
        check_strict(translations, options)
        return translations

    def translate_stream(
        self,
        text: str,
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
    ) -> TranslationStream:
        """Translate piece by piece as tokens come: ``for piece in stream: ...``, then ``stream.result``."""
        options = options or self.options
        src, tgt, detected = self._languages(source, target, [text])
        if same_language(src, tgt):
            return TranslationStream(whole_stream(unchanged(text, src, tgt, self.profile, options, detected)))
        return TranslationStream(self._run(text, src, tgt, options, detected))

    def translate_documents(
        self,
        documents: Sequence[Document],
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
        chunking: Chunking = IN_CHUNKS,
        cancel: Cancellation | None = None,
    ) -> list[DocumentTranslation]:
        """Translate documents read by :mod:`tg_edge.formats` and render each back into its format.

        Segments go to the model a chunk at a time; ``chunking`` holds a job's sizes, outcomes known already,
        cache and callbacks (see :class:`~tg_edge.documents.Chunking`), ``cancel`` stops the work (see
        :meth:`translate_many`). With ``options.strict`` a suspect segment
        raises :class:`TranslationIncomplete` after all documents are translated; the error's
        ``documents`` hold them. Documents without text come back as they are, whatever the languages: with
        ``auto`` there is nothing to detect either, and their ``source`` is then the target.
        """
        options = options or self.options
        texts = [segment.text for document in documents for segment in document.segments]
        if not texts and is_auto(source):  # no model step follows: the skeleton is rendered as it is
            src = tgt = self.language(target)
            return render_documents(documents, [], source=src, target=tgt, detected=None)
        src, tgt, detected = self._languages(source, target, texts)
        unstrict = replace(options, strict=False)
        outcomes = translate_segments(
            texts,
            lambda todo: self.translate_many(
                todo, source=src, target=tgt, options=unstrict, cancel=cancel, progress=chunking.on_segment
            ),
            key=(src.code, tgt.code + (f"+{terms.key}" if (terms := options.terms(src, tgt)) else "")),
            chunking=chunking,
        )
        check(cancel)
        results = render_documents(documents, outcomes, source=src, target=tgt, detected=detected)
        flags = [flag for result in results for _, flag in result.flags]
        if options.strict and flags:
            error = TranslationIncomplete(incomplete_message(len(flags), len(texts), flags[0].problem))
            error.documents = results
            raise error
        return results

    def translate_image(
        self,
        image: ImageLike,
        *,
        source: LanguageLike,
        target: LanguageLike,
        options: TranslationOptions | None = None,
        name: str | None = None,
    ) -> ImageTranslation:
        """Translate the text in ``image`` (a file path or the file's bytes; ``name`` labels bytes in errors)
        from ``source`` to ``target`` with the model's vision projector. The source language must be given:
        there is no text to detect it from."""
        options = options or self.options
        src, tgt = self._image_languages(source, target)
        return translate_image(self._runtime, read_image(image, name=name), src, tgt, options)

    def render_image_prompt(self, *, source: LanguageLike, target: LanguageLike) -> str:
        """The exact prompt text this model gets for an image, the image marker where the image goes."""
        src, tgt = self._image_languages(source, target)
        return self._prompts.render_image(src, tgt).text

    def _image_prompt(self, image: ImageLike, source: Language, target: Language) -> ImagePrompt:
        """The chunks this model gets for ``image`` (for tests); close it after use."""
        return image_prompt(self._runtime, image, source, target)

    def render_prompt(self, text: str, *, source: LanguageLike, target: LanguageLike) -> str:
        """The exact prompt this model gets for one unit of ``text`` (for checking and debugging)."""
        src, tgt, _ = self._languages(source, target, [text])
        return self._prompts.render(text, src, tgt).text

    def prompt_tokens(self, text: str, *, source: LanguageLike, target: LanguageLike) -> list[int]:
        """The tokens the model gets for one unit of ``text``: :meth:`render_prompt`'s text with exactly one BOS."""
        src, tgt, _ = self._languages(source, target, [text])
        return self._runtime.prompt_tokens(self._prompts.render(text, src, tgt))

    def close(self) -> None:
        """Free the model now rather than at garbage collection."""
        self._runtime.close()

    def __enter__(self) -> Translator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _languages(
        self, source: LanguageLike, target: LanguageLike, texts: Sequence[str]
    ) -> tuple[Language, Language, Detection | None]:
        """The call's languages, resolved once; ``auto`` is detected from ``texts`` (all of them together)."""
        tgt = self.language(target)
        if not is_auto(source):
            return self.language(source), tgt, None
        detected = detect_source(texts)
        log.info(
            "detected source language %s (%s), confidence %.2f",
            detected.language.name,
            detected.language.code,
            detected.confidence,
        )
        return self.language(detected.language), tgt, detected

    def _image_languages(self, source: LanguageLike, target: LanguageLike) -> tuple[Language, Language]:
        refuse_auto_for_images(source)
        refuse_without_image_prompt(self._runtime)
        return self.language(source), self.language(target)

    def _run(
        self,
        text: str,
        source: Language,
        target: Language,
        options: TranslationOptions,
        detected: Detection | None,
    ) -> Generator[str, None, Translation]:
        """Submit every unit at once, then stream them in order: later units decode while earlier ones print."""
        started = time.perf_counter()
        terms = options.terms(source, target)
        pieces = self._runtime.split(text, source, options)
        jobs = self._submit(
            [piece.text for piece in pieces if piece.translate],
            source,
            target,
            options,
            stream=True,
            terms=terms,
        )
        results = yield from stream_units(pieces, jobs, source, target, options, terms)
        seconds = time.perf_counter() - started
        translation = assemble(pieces, results, source, target, self.profile, options, seconds, detected)
        log_problems([translation])
        check_strict([translation], options)
        return translation

    def _submit(
        self,
        units: Sequence[str],
        source: Language,
        target: Language,
        options: TranslationOptions,
        *,
        stream: bool = False,
        again: Sequence[bool] | None = None,
        on_done: Sequence[OnDone[Generation]] | None = None,
        abandon_copies: bool = False,
        terms: Glossary | None = None,
        place_terms: Sequence[bool] | None = None,
    ) -> list[Job]:
        """Every unit to the scheduler in one submission (see :meth:`Runtime.submit_units`)."""
        return self._runtime.submit_units(
            units,
            source,
            target,
            options,
            stream=stream,
            again=again,
            on_done=on_done,
            abandon_copies=abandon_copies,
            terms=terms,
            place_terms=place_terms,
        )


def translate(
    text: str, *, source: LanguageLike, target: LanguageLike, model: str | os.PathLike[str] | None = None
) -> str:
    """Translate once with a freshly loaded model; keep a :class:`Translator` to translate many texts."""
    with Translator(model) as translator:
        return translator.translate(text, source=source, target=target).text
