"""``GET /v1/docs``: the API reference (Swagger UI), and its files, behind Jupyter's login.

The page and every file it loads come from this server: Swagger UI's files from the
``swagger-ui-py`` package, the page's own from ``jupyter_qiskit_runtime/static``. Its Content
Security Policy lets it load nothing from elsewhere. See ``jupyter_qiskit_runtime/api_docs.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from jupyter_server.utils import url_path_join
from tornado import web

from ..api_docs import (
    DOCS_PATH,
    PAGE_FILES,
    PAGE_FILES_DIR,
    PAGE_FILES_FOLDER,
    SWAGGER_UI_FILES,
    SWAGGER_UI_FOLDER,
    render_page,
    swagger_ui_dir,
)
from .base import AUTH_RESOURCE, RuntimeHandler

#: What the page may load and where it may send requests: this server only. Swagger UI sets
#: inline styles and shows icons as data: URLs.
PAGE_POLICY = (
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
)


def api_links(base_url: str) -> dict[str, str]:
    """The API reference page and the OpenAPI document, as paths on this server (for ``GET
    /v1``)."""
    api = url_path_join(base_url, "qiskit-runtime", "v1")
    return {"docs": url_path_join(api, "docs"), "openapi": url_path_join(api, "openapi.json")}


class ApiDocsHandler(RuntimeHandler):
    """The API reference page. A browser without a Jupyter login is sent to the login page."""

    @property
    def content_security_policy(self) -> str:
        """Jupyter's policy (or the administrator's), then this page's: this server only."""
        jupyter = JupyterHandler.content_security_policy.fget(self)  # type: ignore[attr-defined]
        if "Content-Security-Policy" in self.settings.get("headers", {}):
            return str(jupyter)
        return "; ".join([jupyter, *PAGE_POLICY])

    def get_login_url(self) -> str:
        """Jupyter's login page, as for any Jupyter page (the API itself answers 403)."""
        return str(JupyterHandler.get_login_url(self))

    @web.authenticated
    @authorized
    def get(self) -> None:
        """The page; it also sets Jupyter's ``_xsrf`` cookie that its requests send back."""
        self.xsrf_token  # noqa: B018 (reading it sets the cookie)
        page = render_page(
            url_path_join(self.base_url, "qiskit-runtime", DOCS_PATH),
            api_links(self.base_url)["openapi"],
        )
        self.set_header("Cache-Control", "no-cache")
        self.finish(page, set_content_type="text/html; charset=utf-8")


class _AssetHandler(ExtensionHandlerMixin, JupyterHandler, web.StaticFileHandler):
    """A file the page loads, for a logged-in user only (the rest of the API's rules)."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str, **_runtime: Any) -> None:  # type: ignore[override]
        """Serve from ``directory()``; the runtime's objects, given to every route, are unused."""
        ExtensionHandlerMixin.initialize(self, name=name)
        web.StaticFileHandler.initialize(self, path=str(self.directory()))

    @classmethod
    def directory(cls) -> Path:
        """Where the files are."""
        raise NotImplementedError

    def get_login_url(self) -> str:
        """No redirect for a file: 403, as the API answers."""
        if not self.current_user:
            raise web.HTTPError(403)
        return str(super().get_login_url())

    @web.authenticated
    @authorized
    async def get(self, path: str, include_body: bool = True) -> None:  # type: ignore[override]
        """The file; cached for good when asked with the page's ``?v=`` version."""
        await web.StaticFileHandler.get(self, path, include_body)


class SwaggerUIAssetHandler(_AssetHandler):
    """Swagger UI's files."""

    @classmethod
    def directory(cls) -> Path:
        """The ``swagger-ui-py`` package's files."""
        return swagger_ui_dir()


class PageAssetHandler(_AssetHandler):
    """The page's own script and style sheet."""

    @classmethod
    def directory(cls) -> Path:
        """``jupyter_qiskit_runtime/static``."""
        return PAGE_FILES_DIR


def _choice(names: tuple[str, ...]) -> str:
    return "(" + "|".join(name.replace(".", r"\.") for name in names) + ")"


default_handlers = [
    (rf"{DOCS_PATH}/?", ApiDocsHandler),
    (rf"{DOCS_PATH}/{SWAGGER_UI_FOLDER}/{_choice(SWAGGER_UI_FILES)}", SwaggerUIAssetHandler),
    (rf"{DOCS_PATH}/{PAGE_FILES_FOLDER}/{_choice(PAGE_FILES)}", PageAssetHandler),
]
