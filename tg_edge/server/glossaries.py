"""Glossaries a server keeps for its clients: on disk under the server's data directory, one folder per
API key (by the key's digest, never the key) when keys are required, within limits on count and size.

DeepL's glossary API (:mod:`.deepl_glossaries`) creates, lists and deletes them; a translation request
names one by id. LibreTranslate's ``/translate`` takes its terms inline (:func:`inline_terms`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import GlossaryError
from ..glossary import Glossary
from ..models.home import home_dir

SHARED = "everyone"
"""The owner of every glossary when the server requires no API key."""
_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class StoredGlossary:
    """One kept glossary: DeepL's glossary info and its terms."""

    glossary_id: str
    name: str
    source: str
    target: str
    created: str
    glossary: Glossary

    def info(self) -> dict[str, Any]:
        """DeepL's glossary info object."""
        return {
            "glossary_id": self.glossary_id,
            "name": self.name,
            "ready": True,
            "source_lang": self.source,
            "target_lang": self.target,
            "creation_time": self.created,
            "entry_count": len(self.glossary.entries),
        }


class GlossaryStore:
    """Glossaries on disk in ``root`` (default: ``TG_EDGE_HOME/glossaries``), created when first needed.

    At most ``max_count`` glossaries per owner and ``max_entries`` entries per glossary; more is a
    :class:`GlossaryError` naming the limit.
    """

    def __init__(self, root: Path | None = None, *, max_count: int = 100, max_entries: int = 10_000) -> None:
        self._root = root
        self.max_count = max_count
        self.max_entries = max_entries
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self._root if self._root is not None else home_dir() / "glossaries"

    def check_size(self, glossary: Glossary) -> None:
        """:class:`GlossaryError` when ``glossary`` has more entries than the server keeps or applies."""
        if len(glossary) > self.max_entries:
            raise GlossaryError(
                f"the glossary has {len(glossary)} entries, more than this server's limit of {self.max_entries}"
            )

    def create(self, owner: str, name: str, glossary: Glossary) -> StoredGlossary:
        """Keep ``glossary`` (its ``source``/``target`` set) for ``owner`` under a new id."""
        self.check_size(glossary)
        with self._lock:
            if len(self._ids(owner)) >= self.max_count:
                raise GlossaryError(
                    f"this server keeps at most {self.max_count} glossaries per key; delete one first"
                )
            created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            stored = StoredGlossary(
                str(uuid.uuid4()), name, glossary.source or "", glossary.target or "", created, glossary
            )
            folder = self.root / owner
            folder.mkdir(parents=True, exist_ok=True)
            record = {**stored.info(), "entries": [list(entry) for entry in glossary.entries]}
            temporary = folder / f".{stored.glossary_id}.tmp"
            temporary.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
            os.replace(temporary, folder / f"{stored.glossary_id}.json")
            return stored

    def get(self, owner: str, glossary_id: str) -> StoredGlossary | None:
        """The glossary ``glossary_id`` of ``owner``, or ``None``."""
        if not _ID.fullmatch(glossary_id):
            return None
        try:
            record = json.loads((self.root / owner / f"{glossary_id}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        entries = tuple((source, target) for source, target in record["entries"])
        glossary = Glossary(entries, (), record["source_lang"], record["target_lang"])
        return StoredGlossary(
            glossary_id,
            record["name"],
            record["source_lang"],
            record["target_lang"],
            record["creation_time"],
            glossary,
        )

    def owned(self, owner: str) -> list[StoredGlossary]:
        """``owner``'s glossaries, oldest first."""
        found = [self.get(owner, glossary_id) for glossary_id in self._ids(owner)]
        return sorted((g for g in found if g is not None), key=lambda g: g.created)

    def delete(self, owner: str, glossary_id: str) -> bool:
        """Delete the glossary; whether there was one."""
        if not _ID.fullmatch(glossary_id):
            return False
        with self._lock:
            try:
                (self.root / owner / f"{glossary_id}.json").unlink()
            except FileNotFoundError:
                return False
            return True

    def _ids(self, owner: str) -> list[str]:
        folder = self.root / owner
        if not folder.is_dir():
            return []
        return [path.stem for path in folder.glob("*.json") if _ID.fullmatch(path.stem)]


def inline_terms(glossary: object, keep: object, store: GlossaryStore) -> Glossary | None:
    """The terms a request gives inline: ``glossary`` as ``{source: target}`` or a list of pairs (``[s, t]``
    or ``{"source": s, "target": t}``), ``keep`` as a term or a list of them; :class:`GlossaryError` for
    anything else or more than the server's limit."""
    pairs: list[tuple[str, str]] = []
    if isinstance(glossary, dict):
        pairs = [(k, v) for k, v in glossary.items()]
    elif isinstance(glossary, list):
        for item in glossary:
            if isinstance(item, dict):
                item = [item.get("source"), item.get("target")]
            if not isinstance(item, list) or len(item) != 2:
                raise GlossaryError(
                    "glossary must be an object of source: target terms or a list of [source, target]"
                )
            pairs.append((item[0], item[1]))
    elif isinstance(glossary, str) and glossary.strip():
        try:
            return inline_terms(json.loads(glossary), keep, store)
        except ValueError:
            raise GlossaryError("glossary must be a JSON object of source: target terms") from None
    elif glossary not in (None, ""):
        raise GlossaryError(
            "glossary must be an object of source: target terms or a list of [source, target]"
        )
    terms = [keep] if isinstance(keep, str) else keep if isinstance(keep, list) else None
    if terms is None and keep is not None:
        raise GlossaryError("keep must be a term or a list of terms")
    if not all(isinstance(value, str) for pair in pairs for value in pair) or not all(
        isinstance(term, str) for term in terms or []
    ):
        raise GlossaryError("glossary terms and terms to keep must be strings")
    found = Glossary.from_dict(pairs, keep=[t for t in terms or [] if t.strip()])
    store.check_size(found)
    return found or None
