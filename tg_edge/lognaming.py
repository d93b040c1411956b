"""Warnings that name the file they are about, while a job of many files translates one of them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def naming_in_warnings(path: Path, logger: logging.Logger) -> Iterator[None]:
    """While ``path`` is translated, this thread's warnings on ``logger`` begin with its name: the Translator's
    warnings count segments, and in a job of many files the reader would be left guessing whose."""
    naming = _FileInWarnings(str(path))
    logger.addFilter(naming)
    try:
        yield
    finally:
        logger.removeFilter(naming)


class _FileInWarnings(logging.Filter):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.thread = threading.get_ident()  # other threads (a server's requests) log about their own work

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread == self.thread and record.levelno >= logging.WARNING:
            message = record.getMessage()
            if not message.startswith(self.path):  # a reader's warning may name the file already
                record.msg, record.args = f"{self.path}: {message}", None
        return True
