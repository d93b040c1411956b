"""DeepL's glossary API v3, the multilingual one: a glossary is a name and dictionaries, one per language
pair. ``/v3/glossaries`` (create, list), ``/v3/glossaries/{id}`` (get, rename or add entries, delete),
``/v3/glossaries/{id}/entries`` (one dictionary's entries) and ``/v3/glossaries/{id}/dictionaries``
(replace or delete one dictionary).

The official clients' ``create_multilingual_glossary``, ``list_multilingual_glossaries``,
``get_multilingual_glossary``, ``get_multilingual_glossary_entries``,
``update_multilingual_glossary_name``/``_dictionary``, ``replace_multilingual_glossary_dictionary``,
``delete_multilingual_glossary_dictionary`` and ``delete_multilingual_glossary`` work unchanged. The
glossaries are the v2 API's (:mod:`.deepl_glossaries`): v3 lists those too, and a translation's
``glossary_id`` takes either kind, applying the dictionary for the request's pair.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import GlossaryError
from ..glossary import Glossary
from .deepl import error_body
from .deepl_access import DeepL, api_of, authorized
from .deepl_glossaries import delete, dictionary_of, entries_tsv, owner_of, pair_of, store_of
from .errors import ErrorShapes, RequestError
from .glossaries import StoredGlossary
from .parsing import optional_string

_NOT_FOUND = "Glossary not found."
_NO_DICTIONARY = "Glossary dictionary not found for this language pair."


def add_routes(app: FastAPI, errors: ErrorShapes) -> None:
    """Serve DeepL's v3 glossary endpoints from ``app`` (after :func:`.deepl_glossaries.add_routes`, whose
    store they share); errors under ``/v3`` take DeepL's shape."""
    errors.add("/v3", error_body)
    common: dict[str, Any] = {"tags": ["deepl"]}
    one = "/v3/glossaries/{glossary_id}"
    app.add_api_route(
        "/v3/glossaries", create, methods=["POST"], summary="Create a multilingual glossary", **common
    )
    app.add_api_route("/v3/glossaries", listing, methods=["GET"], summary="List glossaries (v3)", **common)
    app.add_api_route(one, info, methods=["GET"], summary="A glossary (v3)", **common)
    app.add_api_route(one, update, methods=["PATCH"], summary="Rename a glossary or add entries", **common)
    # v2's: a glossary is the same stored thing under either version.
    app.add_api_route(one, delete, methods=["DELETE"], summary="Delete a glossary (v3)", **common)
    app.add_api_route(
        f"{one}/entries", entries, methods=["GET"], summary="One dictionary's entries (v3)", **common
    )
    app.add_api_route(
        f"{one}/dictionaries", replace_dictionary, methods=["PUT"], summary="Replace a dictionary", **common
    )
    app.add_api_route(
        f"{one}/dictionaries", delete_dictionary, methods=["DELETE"], summary="Delete a dictionary", **common
    )


async def create(request: Request) -> Response:
    """``POST /v3/glossaries``: ``name`` and ``dictionaries`` (each ``source_lang``, ``target_lang``,
    ``entries``, ``entries_format``)."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    name = _name(fields)
    if name is None:
        raise RequestError(400, "Parameter 'name' not specified.")
    dictionaries = _dictionaries(api, fields)
    if not dictionaries:
        raise RequestError(400, "Parameter 'dictionaries' not specified.")
    try:
        stored = store_of(request).create(owner_of(owner), name, *dictionaries)
    except GlossaryError as exc:
        raise RequestError(400, f"Invalid glossary: {exc}") from None
    return JSONResponse(_info(stored), status_code=201)


async def listing(request: Request) -> Response:
    """``GET /v3/glossaries``: this key's glossaries, those made through v2 included."""
    fields, owner = await authorized(api_of(request), request)
    return JSONResponse({"glossaries": [_info(g) for g in store_of(request).owned(owner_of(owner))]})


async def info(request: Request, glossary_id: str) -> Response:
    """``GET /v3/glossaries/{id}``: the glossary's name and dictionaries (pairs and entry counts)."""
    fields, owner = await authorized(api_of(request), request)
    return JSONResponse(_info(_found(request, owner, glossary_id)))


async def update(request: Request, glossary_id: str) -> Response:
    """``PATCH /v3/glossaries/{id}``: a new ``name``, and/or ``dictionaries`` whose entries join the
    glossary's (a term it holds takes the new translation; a new pair becomes a dictionary)."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    name = _name(fields)
    dictionaries = _dictionaries(api, fields)
    if name is None and not dictionaries:
        raise RequestError(400, "Parameter 'name' or 'dictionaries' not specified.")

    def change(stored: StoredGlossary) -> StoredGlossary:
        return stored.merged(dictionaries).renamed(name or stored.name)

    return JSONResponse(_info(_changed(request, owner, glossary_id, change)))


async def entries(request: Request, glossary_id: str) -> Response:
    """``GET /v3/glossaries/{id}/entries?source_lang=&target_lang=``: that dictionary's entries as TSV,
    wrapped in DeepL's JSON."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    source, target = pair_of(api, fields)
    dictionary = _found(request, owner, glossary_id).dictionary(source, target)
    if dictionary is None:
        raise RequestError(404, _NO_DICTIONARY)
    listed = {"source_lang": source, "target_lang": target, "entries": entries_tsv(dictionary)}
    return JSONResponse({"dictionaries": [{**listed, "entries_format": "tsv"}]})


async def replace_dictionary(request: Request, glossary_id: str) -> Response:
    """``PUT /v3/glossaries/{id}/dictionaries``: ``source_lang``, ``target_lang``, ``entries``,
    ``entries_format``; the dictionary for that pair becomes these entries (created: 201)."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    dictionary = dictionary_of(api, fields, "entries")
    pair = (dictionary.source or "", dictionary.target or "")
    existed = _found(request, owner, glossary_id).dictionary(*pair) is not None
    _changed(request, owner, glossary_id, lambda stored: stored.replaced(dictionary))
    return JSONResponse(_dictionary_info(dictionary), status_code=200 if existed else 201)


async def delete_dictionary(request: Request, glossary_id: str) -> Response:
    """``DELETE /v3/glossaries/{id}/dictionaries?source_lang=&target_lang=``."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    source, target = pair_of(api, fields)
    if _found(request, owner, glossary_id).dictionary(source, target) is None:
        raise RequestError(404, _NO_DICTIONARY)
    _changed(request, owner, glossary_id, lambda stored: stored.without(source, target))
    return Response(status_code=204)


# -- helpers ----------------------------------------------------------------------------------------------


def _info(stored: StoredGlossary) -> dict[str, Any]:
    """DeepL's v3 glossary info object."""
    return {
        "glossary_id": stored.glossary_id,
        "name": stored.name,
        "dictionaries": [_dictionary_info(d) for d in stored.dictionaries],
        "creation_time": stored.created,
    }


def _dictionary_info(dictionary: Glossary) -> dict[str, Any]:
    return {
        "source_lang": dictionary.source,
        "target_lang": dictionary.target,
        "entry_count": len(dictionary.entries),
    }


def _found(request: Request, owner: bytes | None, glossary_id: str) -> StoredGlossary:
    stored = store_of(request).get(owner_of(owner), glossary_id)
    if stored is None:
        raise RequestError(404, _NOT_FOUND)
    return stored


def _changed(
    request: Request,
    owner: bytes | None,
    glossary_id: str,
    change: Callable[[StoredGlossary], StoredGlossary],
) -> StoredGlossary:
    """The glossary after ``change``, kept; 404 when there is none, 400 when it grows past the limit."""
    try:
        changed = store_of(request).update(owner_of(owner), glossary_id, change)
    except GlossaryError as exc:
        raise RequestError(400, f"Invalid glossary: {exc}") from None
    if changed is None:
        raise RequestError(404, _NOT_FOUND)
    return changed


def _name(fields: dict[str, Any]) -> str | None:
    """The request's non-blank ``name``, or ``None``."""
    name = optional_string(fields, "name")
    return name if name and name.strip() else None


def _dictionaries(api: DeepL, fields: dict[str, Any]) -> list[Glossary]:
    """The dictionaries a request's ``dictionaries`` array gives (none when it has no such field)."""
    given = fields.get("dictionaries")
    if given is None:
        return []
    if not isinstance(given, list) or not all(isinstance(item, dict) for item in given):
        raise RequestError(400, "Parameter 'dictionaries' must be an array of objects.")
    return [dictionary_of(api, item, f"dictionaries[{i}].entries") for i, item in enumerate(given)]
