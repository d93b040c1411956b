"""DeepL's glossary API v2: ``/v2/glossaries`` (create, list, get, delete), ``/v2/glossaries/{id}/entries``,
``/v2/glossary-language-pairs``, and the glossary a ``glossary_id`` names on ``/v2/translate`` and
``/v2/document`` (:func:`requested_terms`).

The official clients' ``create_glossary``, ``list_glossaries``, ``get_glossary_entries``,
``translate_text(..., glossary=)`` and ``delete_glossary`` work unchanged; glossaries live in the server's
:class:`~.glossaries.GlossaryStore`, apart per API key. The v2 routes show the glossaries with one
dictionary; :mod:`.deepl_multilingual` serves all of them (v3), and ``glossary_id`` takes either kind.
"""

from __future__ import annotations

from itertools import permutations
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import GlossaryError
from ..glossary import Glossary
from ..languages import Language, base_code
from .deepl_access import DeepL, api_of, authorized, language_of
from .errors import RequestError
from .glossaries import SHARED, GlossaryStore, StoredGlossary
from .parsing import optional_string

_NOT_FOUND = "Glossary not found."
_MULTILINGUAL = "This glossary has several dictionaries or none: use /v3/glossaries for it."


def add_routes(app: FastAPI, store: GlossaryStore) -> None:
    """Serve DeepL's glossary endpoints from ``app`` (after :func:`.deepl.add_routes`)."""
    app.state.glossaries = store
    common: dict[str, Any] = {"tags": ["deepl"]}
    app.add_api_route("/v2/glossaries", create, methods=["POST"], summary="Create a glossary", **common)
    app.add_api_route("/v2/glossaries", listing, methods=["GET"], summary="List glossaries", **common)
    app.add_api_route("/v2/glossaries/{glossary_id}", info, methods=["GET"], summary="A glossary", **common)
    app.add_api_route(
        "/v2/glossaries/{glossary_id}", delete, methods=["DELETE"], summary="Delete a glossary", **common
    )
    app.add_api_route(
        "/v2/glossaries/{glossary_id}/entries",
        entries,
        methods=["GET"],
        summary="A glossary's entries",
        **common,
    )
    app.add_api_route(
        "/v2/glossary-language-pairs",
        language_pairs,
        methods=["GET"],
        summary="Language pairs glossaries can be made for",
        **common,
    )


async def create(request: Request) -> Response:
    """``POST /v2/glossaries``: ``name``, ``source_lang``, ``target_lang``, ``entries`` (TSV or CSV)."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    name = optional_string(fields, "name")
    if not name:
        raise RequestError(400, "Parameter 'name' not specified.")
    glossary = dictionary_of(api, fields, "entries")
    try:
        stored = store_of(request).create(owner_of(owner), name, glossary)
    except GlossaryError as exc:
        raise RequestError(400, f"Invalid glossary: {exc}") from None
    return JSONResponse(stored.info(), status_code=201)


async def listing(request: Request) -> Response:
    """``GET /v2/glossaries``: this key's glossaries."""
    fields, owner = await authorized(api_of(request), request)
    owned = store_of(request).owned(owner_of(owner))
    return JSONResponse({"glossaries": [g.info() for g in owned if g.monolingual]})


async def info(request: Request, glossary_id: str) -> Response:
    """``GET /v2/glossaries/{id}``: one glossary's info."""
    return JSONResponse((await _find(request, glossary_id)).info())


async def delete(request: Request, glossary_id: str) -> Response:
    """``DELETE /v2/glossaries/{id}``."""
    fields, owner = await authorized(api_of(request), request)
    if not store_of(request).delete(owner_of(owner), glossary_id):
        raise RequestError(404, _NOT_FOUND)
    return Response(status_code=204)


async def entries(request: Request, glossary_id: str) -> Response:
    """``GET /v2/glossaries/{id}/entries``: the entries as TSV (DeepL's only format for reading them)."""
    stored = await _find(request, glossary_id)
    return Response(entries_tsv(stored.glossary), media_type="text/tab-separated-values; charset=utf-8")


async def language_pairs(request: Request) -> Response:
    """``GET /v2/glossary-language-pairs``: every pair of the loaded model's languages."""
    api = api_of(request)
    await authorized(api, request)
    codes = sorted({base_code(language) for language in api.service.translation.languages()})
    pairs = [{"source_lang": s, "target_lang": t} for s, t in permutations(codes, 2)]
    return JSONResponse({"supported_languages": pairs})


def requested_terms(
    request: Request,
    fields: dict[str, Any],
    owner: bytes | None,
    source: Language | None,
    target: Language,
) -> Glossary | None:
    """The glossary a translation request names with ``glossary_id`` (or the first of ``glossary_ids``),
    among those of its key (``owner``), checked against the request's languages; ``None`` when it names
    none."""
    glossary_id = fields.get("glossary_id") or fields.get("glossary_ids")
    if isinstance(glossary_id, list):
        if len(glossary_id) > 1:
            raise RequestError(400, "This server applies one glossary per request.")
        glossary_id = glossary_id[0] if glossary_id else None
    if not glossary_id:
        return None
    if not isinstance(glossary_id, str):
        raise RequestError(400, "Parameter 'glossary_id' must be a string.")
    if source is None:
        raise RequestError(400, "Use of a glossary requires the source_lang parameter to be specified.")
    stored = store_of(request).get(owner_of(owner), glossary_id.split(",")[0].strip())
    if stored is None:
        raise RequestError(404, _NOT_FOUND)
    terms = stored.dictionary(base_code(source), base_code(target))
    if terms is None:
        raise RequestError(
            400,
            f"The glossary has no dictionary for {base_code(source)} to {base_code(target)} "
            "(the source_lang and target_lang of the request).",
        )
    return terms


def dictionary_of(api: DeepL, fields: dict[str, Any], where: str) -> Glossary:
    """The dictionary a request's ``fields`` give: ``source_lang``, ``target_lang`` (stored as base codes),
    ``entries`` in ``entries_format`` (TSV or CSV); errors name ``where`` the entries came from."""
    source, target = pair_of(api, fields)
    entries_format = (optional_string(fields, "entries_format") or "tsv").lower()
    if entries_format not in ("tsv", "csv"):
        raise RequestError(400, "Value for 'entries_format' not supported (tsv or csv).")
    text = optional_string(fields, "entries")
    if not text:
        raise RequestError(400, f"Parameter '{where}' not specified.")
    try:
        parsed = Glossary.from_text(
            _without_pair_columns(text, entries_format), where, tsv=entries_format == "tsv"
        )
    except GlossaryError as exc:
        raise RequestError(400, f"Invalid glossary: {exc}") from None
    return Glossary(parsed.entries, (), source, target)


def pair_of(api: DeepL, fields: dict[str, Any]) -> tuple[str, str]:
    """The base codes of the request's ``source_lang`` and ``target_lang``, both required (glossaries are
    for languages, not their variants)."""
    codes = []
    for field in ("source_lang", "target_lang"):
        code = optional_string(fields, field)
        if not code:
            raise RequestError(400, f"Parameter '{field}' not specified.")
        codes.append(base_code(language_of(api, code, field)))
    return codes[0], codes[1]


def entries_tsv(dictionary: Glossary) -> str:
    """A dictionary's entries as DeepL gives them back: ``source<TAB>target`` lines."""
    return "\n".join(f"{source}\t{target}" for source, target in dictionary.entries)


async def _find(request: Request, glossary_id: str) -> StoredGlossary:
    fields, owner = await authorized(api_of(request), request)
    stored = store_of(request).get(owner_of(owner), glossary_id)
    if stored is None:
        raise RequestError(404, _NOT_FOUND)
    if not stored.monolingual:
        raise RequestError(400, _MULTILINGUAL)
    return stored


def store_of(request: Request) -> GlossaryStore:
    """The glossary store of the app serving ``request``."""
    return request.app.state.glossaries  # type: ignore[no-any-return]


def owner_of(owner: bytes | None) -> str:
    """Whose glossaries a request sees: its accepted API key's digest, or everyone's where keys are off."""
    return SHARED if owner is None else owner.hex()[:32]


def _without_pair_columns(text: str, entries_format: str) -> str:
    """DeepL's CSV entries may carry two more columns (source and target language); they go."""
    if entries_format != "csv":
        return text
    import csv
    import io

    rows = csv.reader(io.StringIO(text))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow(row[:2] if len(row) == 4 else row)
    return out.getvalue()
