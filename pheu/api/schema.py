"""The error answers of every operation, added to the OpenAPI schema (a drf-spectacular postprocessing hook).

The API answers errors in two forms (``pheu.api.errors``): ``{"detail": "…", "code": "…"}`` about the whole
request, and ``{"field": ["message", …]}`` about its fields (``non_field_errors`` for the input as a whole;
a nested object or list of objects nests its own field errors). Which statuses each operation documents:

- 400 bad input (body, filters, page) — every operation; either form.
- 401 no or a wrong token — every operation that needs a user.
- 403 the user may not — every operation that needs a user; either form (a refused field names it).
- 404 no such record, or not one the user sees (not a 403: it does not say the record exists), or no such
  page of a list — every operation.
- 409 the record is still used by others (archive it instead) — every ``DELETE``.
- 415 a body in a media type the operation does not read — every operation that takes a body.
- 429 too many requests — the token endpoint (guessing passwords is slowed per client address).

An answer an operation documents itself is kept.
"""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "description": "An error about the whole request.",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in the user's language."},
        "code": {"type": "string", "description": "A machine-readable code (invalid, forbidden, in_use, …)."},
    },
    "required": ["detail"],
}
FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Field name → messages (`non_field_errors` for the input as a whole). A nested object nests its "
        "own field errors; a list of them gives one entry per item."
    ),
    "additionalProperties": {"anyOf": [{"type": "array", "items": {}}, {"type": "object"}]},
}
INPUT_ERROR = {
    "description": "Either form: an error about the whole request, or errors per field.",
    "anyOf": [{"$ref": "#/components/schemas/Error"}, {"$ref": "#/components/schemas/FieldErrors"}],
}

ANSWERS = {
    "400": ("InputError", "Bad input: the errors per field, or about the whole request."),
    "401": ("Error", "No API token, or one that is not valid."),
    "403": ("InputError", "The user may not do this."),
    "404": ("Error", "No such record (or not one the user may see), or no such page."),
    "409": ("Error", "The record is still used by others: archive it instead."),
    "415": ("Error", "The body is in a media type this operation does not read."),
    "429": ("Error", "Too many requests: try again later."),
}
THROTTLED = {("/api/v1/auth/token/", "post")}


def _answer(component: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Add the error answers (see the module's docstring) to every operation of ``result``."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update({"Error": ERROR, "FieldErrors": FIELD_ERRORS, "InputError": INPUT_ERROR})
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            codes = ["400", "404"]
            if operation.get("security"):
                codes += ["401", "403"]
            if method == "delete":
                codes.append("409")
            if "requestBody" in operation:
                codes.append("415")
            if (path, method) in THROTTLED:
                codes.append("429")
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, _answer(*ANSWERS[code]))
            operation["responses"] = dict(sorted(responses.items()))
    return result
