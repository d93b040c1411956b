"""What every API of one server shares: its settings, its admission and its translator."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .admission import Admission
from .settings import ServerSettings
from .translation import TranslationService


@dataclass(frozen=True)
class Service:
    """The shared state of one server, on ``app.state.service``; :meth:`close` it when done."""

    settings: ServerSettings
    admission: Admission
    translation: TranslationService
    started: float = field(default_factory=time.time)

    def close(self, wait: bool = True) -> None:
        """Drop queued work and wait for running translations, so the translator can be closed safely."""
        self.admission.close(wait=wait)
