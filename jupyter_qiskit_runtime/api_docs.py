"""The API reference page: Swagger UI rendering the served OpenAPI document, with no CDN.

The extension serves it at ``{base_url}qiskit-runtime/v1/docs`` (``handlers/api_docs.py``), and
the documentation site builds a read-only copy of it (``docs/_ext``). Swagger UI's files come from
the ``swagger-ui-py`` package, which ships Swagger UI 5 (the first major version that renders
OpenAPI 3.1 documents); only the files the page loads are served. ``static/api-docs.js`` starts
it, with a request interceptor that sends Jupyter's XSRF token so that "Try it out" works with the
browser's Jupyter session.

This module imports neither Tornado nor the Swagger UI package: it only finds its files.
"""

from __future__ import annotations

import html
import importlib.util
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path

#: Where the API reference lives, relative to ``{base_url}qiskit-runtime``.
DOCS_PATH = "/v1/docs"
#: The folders under the page that hold the files it loads: Swagger UI's, and this package's.
SWAGGER_UI_FOLDER = "swagger-ui"
PAGE_FILES_FOLDER = "static"
#: The files of Swagger UI that the page loads, served under ``{DOCS_PATH}/swagger-ui/``.
SWAGGER_UI_FILES = (
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "favicon-16x16.png",
    "favicon-32x32.png",
    "LICENSE",
)
#: This package's own files of the page, served under ``{DOCS_PATH}/static/``.
PAGE_FILES = ("api-docs.js", "api-docs.css")
#: This package's directory of those files.
PAGE_FILES_DIR = Path(__file__).parent / "static"
#: The distribution that ships Swagger UI.
SWAGGER_UI_DISTRIBUTION = "swagger-ui-py"

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" sizes="32x32" href="{swagger}/favicon-32x32.png{version}">
<link rel="icon" type="image/png" sizes="16x16" href="{swagger}/favicon-16x16.png{version}">
<link rel="stylesheet" href="{swagger}/swagger-ui.css{version}">
<link rel="stylesheet" href="{static}/api-docs.css{version}">
</head>
<body>
<header class="qrt-docs-header">
<strong>jupyter-qiskit-runtime</strong> · {subtitle} ·
<a href="{openapi}">openapi.json</a>
</header>
<noscript>This page needs JavaScript to show the API. The OpenAPI document is at
<a href="{openapi}">openapi.json</a>.</noscript>
<div id="swagger-ui" data-openapi-url="{openapi}" data-try-it-out="{try_it_out}"></div>
<script src="{swagger}/swagger-ui-bundle.js{version}"></script>
<script src="{static}/api-docs.js{version}"></script>
</body>
</html>
"""


class SwaggerUINotInstalled(RuntimeError):
    """The package that ships Swagger UI is missing; the message says what to install."""


def swagger_ui_dir() -> Path:
    """The directory of Swagger UI's files, found without importing its package."""
    spec = importlib.util.find_spec("swagger_ui")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        static = Path(location) / "static"
        if (static / SWAGGER_UI_FILES[0]).is_file():
            return static
    raise SwaggerUINotInstalled(
        f"The API reference page needs Swagger UI from the {SWAGGER_UI_DISTRIBUTION} package: "
        f"pip install {SWAGGER_UI_DISTRIBUTION}"
    )


def assets_version() -> str:
    """A version string for the page's asset URLs: a new release is fetched anew, an unchanged
    one comes from the browser's cache."""
    from ._version import __version__

    try:
        swagger = package_version(SWAGGER_UI_DISTRIBUTION)
    except PackageNotFoundError:
        swagger = "missing"
    return f"{__version__}-{swagger}"


def page_files() -> list[tuple[str, Path]]:
    """Every file the page loads: its path relative to the page (``swagger-ui/...`` and
    ``static/...``), and the file."""
    swagger = swagger_ui_dir()
    return [(f"{SWAGGER_UI_FOLDER}/{name}", swagger / name) for name in SWAGGER_UI_FILES] + [
        (f"{PAGE_FILES_FOLDER}/{name}", PAGE_FILES_DIR / name) for name in PAGE_FILES
    ]


def render_page(
    page_url: str,
    openapi_url: str,
    *,
    try_it_out: bool = True,
    subtitle: str = "Qiskit Runtime REST API",
) -> str:
    """The page's HTML: Swagger UI for the document at ``openapi_url``, its files (``page_files``)
    loaded from under ``page_url`` (empty: relative to the page) and nowhere else, with this
    release's ``assets_version``. ``try_it_out`` false renders a read-only reference (for a site
    that has no server to ask)."""
    folder = f"{page_url.rstrip('/')}/" if page_url else ""
    return _PAGE.format(
        title=html.escape(f"{subtitle} · jupyter-qiskit-runtime"),
        subtitle=html.escape(subtitle),
        openapi=html.escape(openapi_url),
        swagger=html.escape(folder + SWAGGER_UI_FOLDER),
        static=html.escape(folder + PAGE_FILES_FOLDER),
        version=html.escape(f"?v={assets_version()}"),
        try_it_out="true" if try_it_out else "false",
    )
