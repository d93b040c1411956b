"""What every API of one server shares: its settings, its admission, its translator and its file store."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field

from .admission import Admission
from .filestore import FileStore
from .settings import ServerSettings
from .translation import TranslationService


@dataclass(frozen=True)
class Service:
    """The shared state of one server, on ``app.state.service``; :meth:`close` it when done."""

    settings: ServerSettings
    admission: Admission
    translation: TranslationService
    files: FileStore
    started: float = field(default_factory=time.time)

    def close(self, wait: bool = True) -> None:
        """Drop queued work and wait for running translations, so the translator can be closed safely."""
        self.admission.close(wait=wait)
        if self.settings.data_dir is None:  # a temporary store: nothing promised beyond this server
            shutil.rmtree(self.files.root.parent, ignore_errors=True)
