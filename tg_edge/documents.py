"""Translating documents (tg_edge.formats): the one path file jobs and the server share.

A document's segments are translated in chunks through :meth:`Translator.translate_many`; a caller
can hand in segments already done (a resumed job), a cache of identical segments, and a callback
that sees each finished chunk (a journal, a progress bar). Each document is then rendered back
into its format.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .formats import Document
    from .languages import Detection, Language
    from .translator import Translation

CHUNK_SEGMENTS = 64
"""Segments handed to the model at once by default (and journaled together)."""
CHUNK_CHARS = 12_000
"""A chunk also ends once it holds this many characters (about 150 sentences: enough to keep parallel
decoding busy, few enough that progress and a journal move every minute or so)."""


@dataclass(frozen=True)
class Flag:
    """A unit of text whose kept translation a guard still finds suspect."""

    source: str
    problem: str
    attempts: int


@dataclass(frozen=True)
class SegmentOutcome:
    """A document segment's translation and its units still suspect after retrying."""

    text: str
    flags: tuple[Flag, ...] = ()

    @classmethod
    def of(cls, translation: Translation) -> SegmentOutcome:
        flags = tuple(
            Flag(s.source, s.problem_message, s.attempts) for s in translation.segments if s.problem_message
        )
        return cls(translation.text, flags)


@dataclass(frozen=True)
class DocumentTranslation:
    """A translated document: the rendered output and each segment's outcome, in order."""

    rendered: str | bytes
    source: Language
    target: Language
    outcomes: tuple[SegmentOutcome, ...]
    detected: Detection | None = None
    """The detected source language when the source was ``auto``."""

    @property
    def flags(self) -> list[tuple[int, Flag]]:
        """(segment index, flag) for every suspect unit."""
        return [(i, flag) for i, outcome in enumerate(self.outcomes) for flag in outcome.flags]


class OutcomeCache:
    """The most recent outcomes by (source, target, text), so a repeated segment is translated once."""

    def __init__(self, size: int = 200_000) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str, str], SegmentOutcome] = OrderedDict()

    def get(self, key: tuple[str, str, str]) -> SegmentOutcome | None:
        outcome = self._entries.get(key)
        if outcome is not None:
            self._entries.move_to_end(key)
        return outcome

    def put(self, key: tuple[str, str, str], outcome: SegmentOutcome) -> None:
        self._entries[key] = outcome
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


ChunkCallback = Callable[[list[int], list[SegmentOutcome], int], None]
"""Called after each chunk with the flat segment indices, their outcomes and how many went to the model."""


@dataclass(frozen=True)
class Chunking:
    """A job's hold on a document call: how many segments (and characters) go to the model at once, the
    outcomes known already by flat segment index (a resumed job), a cache of identical segments across calls,
    and who hears of each finished chunk (a journal) and of each segment as it finishes (a progress bar)."""

    segments: int = CHUNK_SEGMENTS
    chars: int = CHUNK_CHARS
    done: Mapping[int, SegmentOutcome] | None = None
    cache: OutcomeCache | None = None
    on_chunk: ChunkCallback | None = None
    on_segment: Callable[[int], None] | None = None


IN_CHUNKS = Chunking()
"""The default: chunks of the default sizes, nothing known before, no cache, nobody told."""


def translate_segments(
    texts: Sequence[str],
    translate_many: Callable[[list[str]], list[Translation]],
    *,
    key: tuple[str, str],
    chunking: Chunking = IN_CHUNKS,
) -> list[SegmentOutcome]:
    """Outcomes for ``texts`` in order: ``chunking.done`` ones kept, the rest translated a chunk at a time.

    Within a chunk each distinct text goes to the model once; with a ``chunking.cache``, texts seen before
    (under the same language pair ``key``) are not translated again.
    """
    cache, on_chunk = chunking.cache, chunking.on_chunk
    outcomes: list[SegmentOutcome | None] = [None] * len(texts)
    for index, outcome in (chunking.done or {}).items():
        if 0 <= index < len(texts):
            outcomes[index] = outcome
            if (
                cache is not None
            ):  # as an uninterrupted run would have them: a resumed job gives the same bytes
                cache.put((*key, texts[index]), outcome)
    pending = [i for i, o in enumerate(outcomes) if o is None]
    for chunk in _pack(pending, [len(texts[i]) for i in pending], chunking.segments, chunking.chars):
        known: dict[str, SegmentOutcome] = {}
        for i in chunk:
            hit = cache.get((*key, texts[i])) if cache is not None else None
            if hit is not None:
                known[texts[i]] = hit
        todo = list(dict.fromkeys(texts[i] for i in chunk if texts[i] not in known))
        for text, translation in zip(todo, translate_many(todo) if todo else [], strict=True):
            known[text] = SegmentOutcome.of(translation)
            if cache is not None:
                cache.put((*key, text), known[text])
        for i in chunk:
            outcomes[i] = known[texts[i]]
        if on_chunk is not None:
            on_chunk(chunk, [known[texts[i]] for i in chunk], len(todo))
    return outcomes  # type: ignore[return-value]  # every index is filled by now


def render_documents(
    documents: Sequence[Document],
    outcomes: Sequence[SegmentOutcome],
    *,
    source: Language,
    target: Language,
    detected: Detection | None,
) -> list[DocumentTranslation]:
    """Each document rendered with its share of ``outcomes`` (the documents' segments, in order)."""
    results = []
    flat = iter(outcomes)
    for document in documents:
        mine = tuple(next(flat) for _ in document.segments)
        results.append(
            DocumentTranslation(document.render([o.text for o in mine]), source, target, mine, detected)
        )
    return results


def _pack(items: list[int], sizes: list[int], most: int, chars: int) -> Iterator[list[int]]:
    """``items`` in order, in chunks of at most ``most`` items that end once they reach ``chars`` characters."""
    chunk: list[int] = []
    held = 0
    for item, size in zip(items, sizes, strict=True):
        chunk.append(item)
        held += size
        if len(chunk) >= most or held >= chars:
            yield chunk
            chunk, held = [], 0
    if chunk:
        yield chunk
