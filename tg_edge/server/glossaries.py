"""Glossaries a server keeps for its clients: on disk under the server's data directory, one folder per
API key (by the key's digest, never the key) when keys are required, within limits on count and size.

A kept glossary is DeepL's multilingual one: a name and dictionaries, one per language pair (base codes),
each a :class:`~tg_edge.glossary.Glossary` with its ``source``/``target`` set. A v2 glossary is one with a
single dictionary; records written before dictionaries existed are read as that. DeepL's glossary APIs
(:mod:`.deepl_glossaries`, :mod:`.deepl_multilingual`) manage them; a translation request names one by id.
LibreTranslate's ``/translate`` takes its terms inline (:func:`inline_terms`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
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
    """One kept glossary: its id, name, creation time and dictionaries (one per language pair)."""

    glossary_id: str
    name: str
    created: str
    dictionaries: tuple[Glossary, ...]

    @property
    def monolingual(self) -> bool:
        """Whether DeepL's v2 API can show it: exactly one dictionary."""
        return len(self.dictionaries) == 1

    @property
    def glossary(self) -> Glossary:
        """The only dictionary of a :attr:`monolingual` glossary."""
        (only,) = self.dictionaries
        return only

    def info(self) -> dict[str, Any]:
        """DeepL's v2 glossary info object (for a :attr:`monolingual` glossary)."""
        return {
            "glossary_id": self.glossary_id,
            "name": self.name,
            "ready": True,
            "source_lang": self.glossary.source,
            "target_lang": self.glossary.target,
            "creation_time": self.created,
            "entry_count": len(self.glossary.entries),
        }

    def dictionary(self, source: str, target: str) -> Glossary | None:
        """The dictionary for the pair ``source`` → ``target`` (base codes), or ``None``."""
        return next((d for d in self.dictionaries if (d.source, d.target) == (source, target)), None)

    def renamed(self, name: str) -> StoredGlossary:
        """This glossary under ``name``."""
        return replace(self, name=name)

    def merged(self, dictionaries: Iterable[Glossary]) -> StoredGlossary:
        """This glossary with ``dictionaries`` added: entries for a pair it has join that dictionary (a
        source term it holds takes the new translation), other pairs become new dictionaries."""
        result = self
        for added in dictionaries:
            kept = result.dictionary(added.source or "", added.target or "")
            if kept is not None:
                terms = {source.casefold(): (source, target) for source, target in kept.entries}
                terms.update((source.casefold(), (source, target)) for source, target in added.entries)
                added = replace(kept, entries=tuple(terms.values()))
            result = result.replaced(added)
        return result

    def replaced(self, dictionary: Glossary) -> StoredGlossary:
        """This glossary with ``dictionary`` in place of the one for its pair (or added, when it has none)."""
        pair = (dictionary.source, dictionary.target)
        if self.dictionary(dictionary.source or "", dictionary.target or "") is None:
            return replace(self, dictionaries=(*self.dictionaries, dictionary))
        return replace(
            self,
            dictionaries=tuple(dictionary if (d.source, d.target) == pair else d for d in self.dictionaries),
        )

    def without(self, source: str, target: str) -> StoredGlossary:
        """This glossary without its dictionary for ``source`` → ``target``."""
        kept = tuple(d for d in self.dictionaries if (d.source, d.target) != (source, target))
        return replace(self, dictionaries=kept)


class GlossaryStore:
    """Glossaries on disk in ``root`` (default: ``TG_EDGE_HOME/glossaries``), created when first needed.

    At most ``max_count`` glossaries per owner and ``max_entries`` entries per glossary (all its dictionaries
    together); more is a :class:`GlossaryError` naming the limit.
    """

    def __init__(self, root: Path | None = None, *, max_count: int = 100, max_entries: int = 10_000) -> None:
        self._root = root
        self.max_count = max_count
        self.max_entries = max_entries
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        return self._root if self._root is not None else home_dir() / "glossaries"

    def check_size(self, *glossaries: Glossary) -> None:
        """:class:`GlossaryError` when ``glossaries`` together have more entries than the server keeps or
        applies."""
        count = sum(len(glossary) for glossary in glossaries)
        if count > self.max_entries:
            raise GlossaryError(
                f"the glossary has {count} entries, more than this server's limit of {self.max_entries}"
            )

    def create(self, owner: str, name: str, *dictionaries: Glossary) -> StoredGlossary:
        """Keep a glossary of ``dictionaries`` (each with its ``source``/``target`` set, no pair twice) for
        ``owner`` under a new id."""
        pairs = [(d.source, d.target) for d in dictionaries]
        if len(set(pairs)) != len(pairs):
            raise GlossaryError("the glossary has two dictionaries for one language pair")
        self.check_size(*dictionaries)
        with self._lock:
            if len(self._ids(owner)) >= self.max_count:
                raise GlossaryError(
                    f"this server keeps at most {self.max_count} glossaries per key; delete one first"
                )
            created = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            stored = StoredGlossary(str(uuid.uuid4()), name, created, tuple(dictionaries))
            self._write(owner, stored)
            return stored

    def update(
        self, owner: str, glossary_id: str, change: Callable[[StoredGlossary], StoredGlossary]
    ) -> StoredGlossary | None:
        """Keep ``change(glossary)`` in place of the glossary ``glossary_id`` of ``owner`` (within the size
        limit); the changed glossary, or ``None`` when there is no such glossary."""
        with self._lock:
            stored = self.get(owner, glossary_id)
            if stored is None:
                return None
            changed = change(stored)
            self.check_size(*changed.dictionaries)
            self._write(owner, changed)
            return changed

    def get(self, owner: str, glossary_id: str) -> StoredGlossary | None:
        """The glossary ``glossary_id`` of ``owner``, or ``None`` (also for an unreadable record)."""
        if not _ID.fullmatch(glossary_id):
            return None
        try:
            record = json.loads((self.root / owner / f"{glossary_id}.json").read_text(encoding="utf-8"))
            return _from_record(glossary_id, record)
        except (OSError, ValueError, KeyError, TypeError, GlossaryError):
            return None

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

    def _write(self, owner: str, stored: StoredGlossary) -> None:
        folder = self.root / owner
        folder.mkdir(parents=True, exist_ok=True)
        record = {
            "glossary_id": stored.glossary_id,
            "name": stored.name,
            "creation_time": stored.created,
            "dictionaries": [
                {"source_lang": d.source, "target_lang": d.target, "entries": [list(e) for e in d.entries]}
                for d in stored.dictionaries
            ],
        }
        temporary = folder / f".{stored.glossary_id}.tmp"
        temporary.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, folder / f"{stored.glossary_id}.json")

    def _ids(self, owner: str) -> list[str]:
        folder = self.root / owner
        if not folder.is_dir():
            return []
        return [path.stem for path in folder.glob("*.json") if _ID.fullmatch(path.stem)]


def _from_record(glossary_id: str, record: dict[str, Any]) -> StoredGlossary:
    """A glossary from its record on disk; a record of a v2 glossary (``source_lang``, ``target_lang`` and
    ``entries`` at the top, as written before dictionaries existed) is one dictionary."""
    dictionaries = record.get("dictionaries", [record])
    return StoredGlossary(
        glossary_id,
        str(record["name"]),
        str(record["creation_time"]),
        tuple(
            Glossary(
                tuple((str(source), str(target)) for source, target in d["entries"]),
                (),
                str(d["source_lang"]),
                str(d["target_lang"]),
            )
            for d in dictionaries
        ),
    )


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
