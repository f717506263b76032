"""The OpenAPI 3.1 document of the API, served at ``v1/openapi.json``.

The routes come from ``routes.py`` (``ROUTES``); schemas come from the pydantic models in
``models``; every error answers ``ErrorBody``. ``openapi_document`` adds the server's actual base
URL. Importing this package imports pydantic, so the handler imports it only when the document
is first asked for.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import cache
from http.client import responses as reasons
from typing import Any

from jupyter_server.utils import url_path_join
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .. import models as m
from .._version import __version__
from .parameters import PATH_SCHEMAS, STRING_SCHEMA, Query
from .routes import (
    ERROR_MEANINGS,
    PATH_PARAMETERS,
    REF_TEMPLATE,
    ROUTES,
    Body,
    Operation,
)

__all__ = ["ROUTES", "SECURITY_SCHEMES", "Operation", "Query", "openapi_document"]

#: Schemes the server accepts; any one of them authenticates a request.
SECURITY_SCHEMES: dict[str, Any] = {
    "jupyterToken": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Authorization: token <Jupyter token>` (or a Jupyter login cookie, "
        "with Jupyter's XSRF check for other methods than GET).",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A token from `POST /iam/identity/token`, or a Jupyter token.",
    },
    "apikey": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "`Authorization: apikey <runtime API key or Jupyter token>`: the "
        "official client's fallback when it has no bearer token.",
    },
}


def _body_content(body: Body, schemas: Mapping[type[BaseModel], dict[str, Any]]) -> Any:
    if isinstance(body, type):
        return {"application/json": {"schema": schemas[body]}}
    if body == "text":
        return {"text/plain": {"schema": {"type": "string"}}}
    if body == "openapi":
        return {"application/json": {"schema": {"type": "object"}}}
    return None


def _operation(
    path: str, op: Operation, schemas: Mapping[type[BaseModel], dict[str, Any]]
) -> dict[str, Any]:
    error = {"application/json": {"schema": schemas[m.ErrorBody]}}
    answers: dict[str, Any] = {}
    for status, body in op.responses.items():
        answer: dict[str, Any] = {"description": reasons.get(status, "Success")}
        content = _body_content(body, schemas)
        if content is not None:
            answer["content"] = content
        if status == 201 and op.location:
            answer["headers"] = {"Location": {"description": op.location, "schema": STRING_SCHEMA}}
        if 200 <= status < 300 and op.links:
            answer["links"] = {
                target: {"operationId": target, "parameters": dict(parameters)}
                for target, parameters in op.links.items()
            }
        answers[str(status)] = answer
    codes = sorted({*op.errors, *(() if op.public else (403,))})
    for status in codes:
        answers[str(status)] = {"description": ERROR_MEANINGS[status], "content": error}
    answers["default"] = {"description": "Any other error, in the same shape.", "content": error}
    parameters = [
        {"name": name, "in": "path", "required": True, "description": PATH_PARAMETERS[name],
         "schema": dict(PATH_SCHEMAS[name])}
        for name in re.findall(r"{(\w+)}", path)
    ] + [q.to_openapi() for q in op.query]  # fmt: skip
    result: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "responses": answers,
    }
    if op.description:
        result["description"] = op.description
    if parameters:
        result["parameters"] = parameters
    if op.request is not None:
        media = "application/x-www-form-urlencoded" if op.form else "application/json"
        result["requestBody"] = {
            "required": True,
            "content": {media: {"schema": schemas[op.request]}},
        }
    if op.public:
        result["security"] = []
    return result


def _models() -> list[type[BaseModel]]:
    """Every model the routes use, the error body first, without repeats."""
    found: dict[type[BaseModel], None] = {m.ErrorBody: None}
    for operations in ROUTES.values():
        for op in operations:
            bodies = [op.request, *op.responses.values()]
            found.update((b, None) for b in bodies if isinstance(b, type))
    return list(found)


@cache
def _document() -> dict[str, Any]:
    """The document without its ``servers``; built once."""
    refs, top = models_json_schema(
        [(model, "validation") for model in _models()], ref_template=REF_TEMPLATE
    )
    schemas: dict[type[BaseModel], dict[str, Any]] = {
        model: ref for (model, _mode), ref in refs.items() if issubclass(model, BaseModel)
    }
    paths = {
        path: {op.method.lower(): _operation(path, op, schemas) for op in operations}
        for path, operations in ROUTES.items()
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Qiskit Runtime API (jupyter-qiskit-runtime)",
            "version": __version__,
            "description": "IBM's Qiskit Runtime REST API, served by a Jupyter Server extension "
            "and run on local simulators. The official client's `Service-CRN` and "
            "`IBM-API-Version` headers are accepted and not needed.",
        },
        "tags": [
            {"name": "service", "description": "The server itself."},
            {"name": "credentials", "description": "Bearer tokens and runtime API keys."},
            {"name": "backends", "description": "Virtual backends `<metadata>@<executor>`."},
            {"name": "jobs", "description": "Programs run on backends, per user."},
            {"name": "sessions", "description": "Sessions and batches."},
        ],
        "paths": paths,
        "components": {"schemas": top.get("$defs", {}), "securitySchemes": SECURITY_SCHEMES},
        "security": [{name: []} for name in SECURITY_SCHEMES],
    }


def openapi_document(base_url: str = "/") -> dict[str, Any]:
    """The OpenAPI document, its server at ``{base_url}qiskit-runtime``."""
    document = copy.deepcopy(_document())
    document["servers"] = [
        {
            "url": url_path_join(base_url, "qiskit-runtime"),
            "description": "This Jupyter server (paths relative to its base URL).",
        }
    ]
    return document
