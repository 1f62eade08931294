"""Validate JSON bodies against GitHub's official OpenAPI description (api.github.com, OpenAPI 3.0.3).

The description (``octokit-openapi/api.github.com.json.gz`` of the shared recordings) is located via
the environment variable ``PERFTRUST_GITHUB_OPENAPI`` or, by default, ``../shared/data/github-recorded/``
beside the repository checkout; it is parsed once per process (a fraction of a second) and cached.  When it
cannot be found, :func:`openapi_available` is False and tests should skip with :data:`SKIP_REASON`::

    pytestmark = pytest.mark.skipif(not openapi_available(), reason=SKIP_REASON)

``validate_response("GET", "/repos/o/r/issues", 200, body)`` finds the operation (concrete paths are
matched against the templates, most literal segments first; ``/repositories/{id}/...`` is treated as
``/repos/{owner}/{repo}/...``), takes the documented schema of that status and validates with
``openapi_schema_validator.OAS30Validator`` (``nullable`` honoured, ``$ref`` resolved inside the
document, formats checked).  Errors raise :class:`ResponseValidationError` (an AssertionError) listing
every violation with its JSON path.

Allowances for known differences between the description and what api.github.com really returns
(each one observed in recorded traffic; see :data:`ALLOWANCES`; kept minimal):

* ``nullable: true`` next to an ``enum`` admits null (GitHub's reading of OpenAPI 3.0; the validator's
  strict reading rejects it) - e.g. ``issue.state_reason`` and ``start_side`` are null in real traffic.
* ``pull-request-simple`` / ``pull-request``: ``head.repo`` is null when the fork was deleted
  (the description says it is always a repository).
* ``pull-request-simple``: ``labels[].description`` is null for labels without description (as
  ``pull-request`` already documents).
* ``commit``: ``author`` / ``committer`` are null when the commit's email is not linked to an
  account (the description puts ``nullable`` next to a ``oneOf``, which has no effect there).
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import re
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Final

from openapi_schema_validator import OAS30Validator, oas30_format_checker
from referencing import Registry
from referencing.jsonschema import DRAFT4

__all__ = [
    "ALLOWANCES",
    "ENV_VAR",
    "SKIP_REASON",
    "ResponseValidationError",
    "find_operation",
    "load_openapi",
    "openapi_available",
    "openapi_path",
    "schema_for",
    "schema_pointer",
    "validate_response",
    "validate_schema",
]

ENV_VAR: Final = "PERFTRUST_GITHUB_OPENAPI"
_RELATIVE: Final = Path("shared/data/github-recorded/octokit-openapi/api.github.com.json.gz")
_DOC_URI: Final = "urn:github:api.github.com.json"

# (JSON pointer of a schema made nullable, what real responses do); plus nullable enums admit null.
ALLOWANCES: Final[tuple[tuple[str, str], ...]] = (
    ("/components/schemas/pull-request-simple/properties/head/properties/repo", "null: head fork deleted"),
    ("/components/schemas/pull-request/properties/head/properties/repo", "null: head fork deleted"),
    (
        "/components/schemas/pull-request-simple/properties/labels/items/properties/description",
        "null: label without description",
    ),
    ("/components/schemas/commit/properties/author", "null: author email not linked to an account"),
    ("/components/schemas/commit/properties/committer", "null: committer email not linked to an account"),
)


def _candidates() -> Iterator[Path]:
    checkout = Path(__file__).resolve().parents[2]  # <checkout>/tests/support/openapi.py
    yield checkout.parent / _RELATIVE  # <checkout>/../shared/... (CI layout)
    yield checkout / _RELATIVE


def openapi_path() -> Path | None:
    """Where the description is, or None (the env var, when set, wins even if the file is missing)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env) if Path(env).is_file() else None
    return next((p for p in _candidates() if p.is_file()), None)


SKIP_REASON: Final = (
    f"GitHub's OpenAPI description not found: set {ENV_VAR} to api.github.com.json(.gz) or put the shared "
    f"recordings at ../{_RELATIVE} beside the checkout"
)


def openapi_available() -> bool:
    return openapi_path() is not None


_lock = threading.Lock()
_state: dict[str, Any] = {}


def load_openapi() -> dict[str, Any]:
    """The parsed description with :data:`ALLOWANCES` applied (cached; FileNotFoundError when absent)."""
    with _lock:
        doc = _state.get("doc")
        if doc is None:
            path = openapi_path()
            if path is None:
                raise FileNotFoundError(SKIP_REASON)
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            doc = json.loads(raw)
            _apply_allowances(doc)
            _state["doc"] = doc
            _state["registry"] = Registry().with_resource(_DOC_URI, DRAFT4.create_resource(doc))
        result: dict[str, Any] = doc
        return result


def _null_or(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null (a null-only branch: OAS 3.0 ``nullable`` plus ``enum: [null]``)."""
    return {"anyOf": [copy.deepcopy(schema), {"type": "object", "nullable": True, "enum": [None]}]}


def _apply_allowances(doc: dict[str, Any]) -> None:
    for pointer, _why in ALLOWANCES:
        parent_pointer, _, key = pointer.rpartition("/")
        parent = _resolve(doc, parent_pointer)
        parent[key] = _null_or(parent[key])
    stack: list[Any] = [doc["components"]["schemas"]]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if (
                node.get("nullable") is True
                and isinstance(node.get("enum"), list)
                and None not in node["enum"]
            ):
                node["enum"] = [*node["enum"], None]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


class ResponseValidationError(AssertionError):
    """A body does not match the documented schema; ``errors`` lists ``path: message`` strings."""

    def __init__(self, where: str, errors: list[str]) -> None:
        shown = "\n  ".join(errors[:20]) + (
            f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        )
        super().__init__(f"{where}: {len(errors)} schema violation(s)\n  {shown}")
        self.errors = errors


@cache
def _path_patterns() -> tuple[tuple[re.Pattern[str], str, int], ...]:
    doc = load_openapi()
    patterns = []
    for template in doc["paths"]:
        regex = "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
        literal = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
        patterns.append((re.compile(regex), template, literal))
    patterns.sort(key=lambda p: (-p[2], p[1]))
    return tuple(patterns)


def find_operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """``(template, operation object)`` for a template or concrete path (query string ignored)."""
    doc = load_openapi()
    path = path.split("?", 1)[0].rstrip("/") or "/"
    if m := re.fullmatch(r"/repositories/\d+(/.*)?", path):
        path = "/repos/{owner}/{repo}" + (m.group(1) or "")
    verb = method.lower()
    if path in doc["paths"] and verb in doc["paths"][path]:
        return path, doc["paths"][path][verb]
    for pattern, template, _ in _path_patterns():
        if pattern.fullmatch(path) and verb in doc["paths"][template]:
            return template, doc["paths"][template][verb]
    raise KeyError(f"no documented operation for {method} {path}")


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def schema_pointer(method: str, path: str, status: int) -> str | None:
    """JSON pointer (inside the description) of the schema documented for that response; None if bodiless."""
    doc = load_openapi()
    template, operation = find_operation(method, path)
    responses = operation["responses"]
    key = str(status) if str(status) in responses else "default"
    if key not in responses:
        raise KeyError(f"{method} {template} does not document status {status} (has {sorted(responses)})")
    pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{key}"
    response = responses[key]
    while "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        response = _resolve(doc, pointer)
    content = response.get("content") or {}
    media_type = "application/json" if "application/json" in content else next(iter(content), None)
    if media_type is None or "schema" not in content[media_type]:
        return None
    return f"{pointer}/content/{_escape(media_type)}/schema"


def schema_for(method: str, path: str, status: int) -> dict[str, Any] | None:
    """The schema documented for that response (``$ref``s left in place), or None if it has no body."""
    pointer = schema_pointer(method, path, status)
    return None if pointer is None else _resolve(load_openapi(), pointer)


def _resolve(doc: dict[str, Any], pointer: str) -> dict[str, Any]:
    node: Any = doc
    for part in pointer.removeprefix("#").removeprefix("/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    result: dict[str, Any] = node
    return result


def _validate(pointer: str, body: Any, where: str) -> None:
    """Validate against the schema at ``pointer``; refs inside it resolve within the whole document."""
    load_openapi()
    registry: Registry[Any] = _state["registry"]
    validator = OAS30Validator(
        {"$ref": f"{_DOC_URI}#{pointer}"}, registry=registry, format_checker=oas30_format_checker
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise ResponseValidationError(where, [_describe(e) for e in errors])


def _describe(error: Any) -> str:  # a jsonschema ValidationError (jsonschema ships no stubs)
    path = "$" + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in error.absolute_path)
    detail = error.message if len(error.message) < 300 else error.message[:300] + "..."
    if error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)) * -1)
        detail += f" (e.g. {best.message[:200]})"
    return f"{path}: {detail}"


def validate_response(method: str, path: str, status: int, body: Any) -> None:
    """Raise :class:`ResponseValidationError` unless ``body`` matches the documented response schema.

    ``path`` is a template (``/repos/{owner}/{repo}/issues``) or a concrete path.  A status documented
    without a body (304, 204) requires ``body`` to be None or empty.
    """
    pointer = schema_pointer(method, path, status)
    where = f"{method} {path} -> {status}"
    if pointer is None:
        if body not in (None, b"", ""):
            raise ResponseValidationError(where, ["$: the documented response has no body"])
        return
    _validate(pointer, body, where)


def validate_schema(name: str, body: Any) -> None:
    """Validate ``body`` against ``#/components/schemas/<name>`` (e.g. ``basic-error``)."""
    _validate(f"/components/schemas/{_escape(name)}", body, f"schema {name}")
