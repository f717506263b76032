"""The API reference page (``v1/docs``) over HTTP: it and its files come from this server, need a
Jupyter login, and name no other host. tests/test_api_docs_browser.py shows it works in a browser.
"""

from __future__ import annotations

import json
import re
import urllib.parse

from jupyter_qiskit_runtime.api_docs import PAGE_FILES, SWAGGER_UI_FILES

from .http_helpers import API, get_json
from .servers import BASE_URL

DOCS = (*API, "docs")
#: Where every file the page loads must live.
DOCS_PREFIX = f"{BASE_URL}qiskit-runtime/v1/"
#: An address on another host, as a page or a script would name it.
EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]+", re.IGNORECASE)
#: What a style sheet loads: ``url(...)`` and ``@import``.
CSS_LOADS = re.compile(r"url\(\s*['\"]?([^'\")]*)|@import\s+['\"]?([^'\";]*)")


def _loaded_urls(page: str) -> list[str]:
    """Every ``src`` and ``href`` in the page."""
    return re.findall(r'(?:src|href)="([^"]+)"', page)


async def test_page_renders_the_served_document_with_files_of_this_server(jp_fetch) -> None:
    """The page is HTML that loads Swagger UI and its starter from under the API, points Swagger
    UI at ``v1/openapi.json``, allows loading from this server only, and sets the ``_xsrf``
    cookie its requests send back."""
    response = await jp_fetch(*DOCS)
    assert response.code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.body.decode()
    assert not EXTERNAL.search(page), EXTERNAL.findall(page)
    assert f'data-openapi-url="{DOCS_PREFIX}openapi.json"' in page
    urls = _loaded_urls(page)
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert [urllib.parse.urlsplit(s).path.rsplit("/", 1)[1] for s in scripts] == [
        "swagger-ui-bundle.js",
        "api-docs.js",
    ]
    assert urls and all(url.startswith(DOCS_PREFIX) for url in urls), urls
    policy = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'"):
        assert directive in policy, policy
    assert "_xsrf=" in response.headers.get("Set-Cookie", "")
    assert (await jp_fetch(*DOCS, "")).code == 200  # with a trailing slash too


async def test_every_file_the_page_loads_is_served_and_names_no_other_host(jp_fetch) -> None:
    """Each ``src`` and ``href`` answers 200 with its media type; the style sheets and the
    starter load nothing from elsewhere (the SVG namespace inside data: URLs is no address)."""
    page = (await jp_fetch(*DOCS)).body.decode()
    types = {".js": "javascript", ".css": "text/css", ".png": "image/png", ".json": "json"}
    for url in _loaded_urls(page):
        path = urllib.parse.urlsplit(url).path.removeprefix(BASE_URL)
        parts = urllib.parse.unquote(path).split("/")
        response = await jp_fetch(*parts)
        assert response.code == 200, url
        suffix = "." + path.rsplit(".", 1)[1]
        assert types[suffix] in response.headers["Content-Type"], (url, response.headers)
        text = response.body.decode(errors="replace")
        if suffix == ".css":  # only data: URLs (Swagger UI's icons) and files beside it
            loads = [a or b for a, b in CSS_LOADS.findall(text)]
            assert all(u.startswith("data:") or not EXTERNAL.match(u) for u in loads), loads
        elif "api-docs" in path:
            assert not EXTERNAL.search(text), (url, EXTERNAL.findall(text))
    bundle = (await jp_fetch(*DOCS, "swagger-ui", "swagger-ui-bundle.js")).body.decode()
    for cdn in ("unpkg.com", "jsdelivr", "cdnjs", "googleapis", "cloudflare"):
        assert cdn not in bundle


async def test_asset_urls_with_the_page_version_are_cached(jp_fetch) -> None:
    """The 1.5 MB bundle is fetched once per release: with ``?v=`` it may be cached for long."""
    page = (await jp_fetch(*DOCS)).body.decode()
    (bundle,) = [url for url in _loaded_urls(page) if "swagger-ui-bundle" in url]
    version = urllib.parse.parse_qs(urllib.parse.urlsplit(bundle).query)["v"][0]
    response = await jp_fetch(*DOCS, "swagger-ui", "swagger-ui-bundle.js", params={"v": version})
    assert "max-age=" in response.headers["Cache-Control"]


async def test_page_and_files_need_a_jupyter_login(anon_fetch) -> None:
    """Without credentials the page sends a browser to Jupyter's login page, and every file,
    like the rest of the API, answers 403."""
    page = await anon_fetch(*DOCS, follow_redirects=False)
    assert page.code == 302
    location = page.headers["Location"]
    assert location.startswith(f"{BASE_URL}login?next=")
    assert urllib.parse.unquote(location.partition("next=")[2]) == f"{DOCS_PREFIX}docs"
    files = [("swagger-ui", name) for name in SWAGGER_UI_FILES]
    files += [("static", name) for name in PAGE_FILES]
    for folder, name in files:
        response = await anon_fetch(*DOCS, folder, name)
        assert response.code == 403, (folder, name, response.code)
    wrong = await anon_fetch(
        *DOCS, headers={"Authorization": "token not-the-token"}, follow_redirects=False
    )
    assert wrong.code == 302


async def test_only_the_files_the_page_loads_are_served(jp_fetch, anon_fetch, jp_serverapp):
    """Other files of the package, hidden names and paths out of the folder are JSON 404s."""
    token = jp_serverapp.identity_provider.token
    headers = {"Authorization": f"token {token}"}
    for parts in (
        ("swagger-ui", "swagger-editor-bundle.js"),
        ("swagger-ui", "index.html"),
        ("static", "api-docs.py"),
        ("static", "..", "..", "api_docs.py"),
        ("swagger-ui", "%2e%2e", "core.py"),
    ):
        response = await anon_fetch(*DOCS, *parts, headers=headers)
        assert response.code == 404, (parts, response.code)
        assert json.loads(response.body)["error"]["code"] in (404, 1404)


async def test_api_root_links_to_the_page_and_the_document(jp_fetch) -> None:
    """``GET /v1`` names the reference page and the OpenAPI document, as paths on this server."""
    info = await get_json(jp_fetch)
    assert info["links"] == {
        "docs": f"{DOCS_PREFIX}docs",
        "openapi": f"{DOCS_PREFIX}openapi.json",
    }
    document = await get_json(jp_fetch, "openapi.json")
    assert "get" in document["paths"]["/v1/docs"]
