"""The error types tg-edge raises; the CLI maps each to a message and an exit code."""

from __future__ import annotations

from collections.abc import Sequence


class TgEdgeError(Exception):
    """Base class of every error tg-edge raises on purpose."""

    exit_code = 1


class LanguageError(TgEdgeError, ValueError):
    """An unknown or unsupported language code."""

    exit_code = 2


class DetectionError(LanguageError):
    """A text whose language cannot be told (no letters, nothing the language model knows)."""


class ModelError(TgEdgeError):
    """A model that cannot be found, read or loaded."""


class ProjectorError(ModelError):
    """Image translation without a usable vision projector: none found, or one made for another model."""

    exit_code = 2


class ImagesUnsupported(ProjectorError):
    """Image translation with a model that cannot read images: its prompt profile has no prompt for images, or
    it has no vision projector. A usage error, like every :class:`ProjectorError`."""


class InputError(TgEdgeError, ValueError):
    """Input text or a file that cannot be read (e.g. invalid UTF-8)."""


class OutputConflict(InputError):
    """An output that would replace one of its inputs: refused before any work, as a usage error."""

    exit_code = 2


class JobOptionsError(InputError):
    """File job options that cannot work together (``--resume`` without an output, a DOCX file to standard
    output, JSON Lines without ``--fields``): refused before any work, as a usage error."""

    exit_code = 2


class InputTooLarge(InputError):
    """A file that would unpack to far more than it holds (a "ZIP bomb"), refused before it is inflated."""


class TextLimitExceeded(InputError):
    """More translatable text (characters or segments) than the caller allows; found while reading."""


class Cancelled(TgEdgeError):
    """Work stopped because its caller gave up on it (a client that left, a timeout, a server stopping)."""


class PromptError(TgEdgeError):
    """A prompt that cannot be rendered (a broken chat template, an unknown profile)."""


class TranslationIncomplete(TgEdgeError):
    """A strict translation where a segment is still suspect after retrying (cut, looping, empty, ...).

    Raised once the whole call is done: ``translations`` (text calls) or ``documents`` (document calls)
    hold the complete results, so a caller can still write them.
    """

    exit_code = 3

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.translations: Sequence[object] = []
        self.documents: Sequence[object] = []
        self.report: object | None = None
        """A dataset job's report (:class:`tg_edge.distributed.DatasetReport`): its output is written."""


class BenchError(TgEdgeError):
    """A benchmark measurement that could not run to the end."""


class GlossaryError(TgEdgeError, ValueError):
    """A glossary or list of terms to keep that cannot be used: unreadable, empty, malformed (line named),
    contradictory, for another language pair, or over a server's limits."""

    exit_code = 2
