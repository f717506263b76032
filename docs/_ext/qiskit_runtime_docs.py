"""A Sphinx extension for this project's reference pages.

- ``.. qiskit-runtime-traits:: module.Class`` documents the configurable traits of a traitlets
  class (``config=True``): name, type, default and help, as ``py:attribute`` entries that other
  pages can link to.
- ``.. qiskit-runtime-routes::`` is a table of the REST API's operations, from the same
  ``ROUTES`` that the served OpenAPI document is built from.
- When an HTML build finishes, the interactive REST reference is written to ``rest-api/`` in the
  output: the OpenAPI document (``openapi_document()``) as ``openapi.json`` and the same Swagger
  UI page the extension serves at ``v1/docs``, with Swagger UI's files copied beside it, read-only
  (there is no server to try requests against).
- Napoleon reads the Google-style sections (``Args:``, ``Raises:``) of functions and classes,
  not attribute docstrings: ``#: The devices it simulates on: ...`` is a sentence, not a type.
- A notebook output that is a widget (the job panel) shows, instead of the widget's long text
  form, a line saying what Jupyter shows there: a static page has no kernel to drive a widget.
- ``index.html`` at the output's root leads to the root document, ``docs/index.html``.
- Then every HTML page is checked to load nothing from another host (no CDN): the site works
  offline. A page that does fails the build.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

#: Where the interactive REST reference goes, relative to the HTML output.
REST_DIR = "rest-api"
#: A tag that loads a resource from another host (``//host`` or ``http(s)://host``).
EXTERNAL_LOAD = re.compile(
    r"<(?:script|img|iframe|audio|video|source|embed)\b[^>]*\ssrc=[\"'](?:https?:)?//"
    r"|<link\b[^>]*\shref=[\"'](?:https?:)?//"
    r"|@import\s+url\([\"']?(?:https?:)?//",
    re.IGNORECASE,
)


def _rst_text(help_text: str) -> list[str]:
    """A trait's help as reStructuredText lines: Markdown-style `code` becomes ``code``."""
    text = " ".join(help_text.split())
    text = re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)
    return [text]


def _type_name(trait: Any) -> str:
    info = {
        "Int": "int",
        "Float": "float",
        "Unicode": "str",
        "Bool": "bool",
        "Dict": "dict",
        "List": "list",
        "Enum": "str",
    }
    return info.get(type(trait).__name__, type(trait).__name__)


class TraitsDirective(SphinxDirective):
    """The configurable traits of a class, each as a ``py:attribute``."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        path = self.arguments[0]
        module_name, _, class_name = path.rpartition(".")
        cls = getattr(importlib.import_module(module_name), class_name)
        lines: list[str] = []
        traits = cls.class_traits(config=True)
        # In the order the class defines them; those inherited from Jupyter's classes left out.
        for name in [name for name in cls.__dict__ if name in traits]:
            trait = traits[name]
            default = trait.default_value_repr()
            lines += [
                f".. py:attribute:: {class_name}.{name}",
                f"   :module: {module_name}",
                f"   :type: {_type_name(trait)}",
                f"   :value: {default}",
                "",
                *(f"   {line}" for line in _rst_text(trait.help or "")),
                "",
            ]
            if type(trait).__name__ == "Enum":
                choices = ", ".join(f"``{value}``" for value in trait.values)
                lines += [f"   One of {choices}.", ""]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source=path), self.content_offset, container)
        return list(container.children)


class RoutesDirective(SphinxDirective):
    """A table of every operation of the REST API: method, path, summary."""

    def run(self) -> list[nodes.Node]:
        from jupyter_qiskit_runtime.openapi import ROUTES

        table = nodes.table(classes=["qrt-routes"])
        group = nodes.tgroup(cols=3)
        table += group
        for width in (10, 35, 55):
            group += nodes.colspec(colwidth=width)
        head = nodes.thead()
        group += head
        head += self._row(["Method", "Path", "Summary"], header=True)
        body = nodes.tbody()
        group += body
        for path, operations in ROUTES.items():
            for op in operations:
                body += self._row([op.method, path, op.summary])
        return [table]

    @staticmethod
    def _row(cells: list[str], header: bool = False) -> nodes.row:
        row = nodes.row()
        for index, text in enumerate(cells):
            entry = nodes.entry()
            if index == 1 and not header:
                entry += nodes.paragraph("", "", nodes.literal(text, text))
            else:
                entry += nodes.paragraph(text=text)
            row += entry
        return row


#: The text form of an ipywidgets container, as a notebook keeps it beside the widget.
WIDGET_TEXT = re.compile(r"^(\w+)\(children=\(")
#: What a page says in place of a widget, by the widget's class.
WIDGET_NOTES = {
    "JobPanel": "In Jupyter, the job panel appears here: the live list of your jobs on the "
    "server, with their details (a static page cannot show widgets; see the job panel "
    "tutorial).",
}


def replace_widget_outputs(app: Sphinx, doctree: nodes.document) -> None:
    """At ``doctree-read``: a short note in place of each widget's text form."""
    for block in list(doctree.findall(nodes.literal_block)):
        if "output" not in block["classes"]:
            continue
        match = WIDGET_TEXT.match(block.astext())
        if match:
            name = match.group(1)
            note = WIDGET_NOTES.get(name, f"In Jupyter, a {name} widget appears here.")
            block.replace_self(nodes.paragraph("", "", nodes.emphasis(note, note)))


#: The kinds of object whose docstrings napoleon must leave as they are.
PLAIN_DOCSTRINGS = ("attribute", "data", "property")


def keep_plain_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Before napoleon: remember an attribute's docstring."""
    if what in PLAIN_DOCSTRINGS:
        app.env.temp_data.setdefault("qrt_plain_docstrings", {})[name] = list(lines)


def restore_plain_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """After napoleon: put the attribute's docstring back."""
    kept = app.env.temp_data.get("qrt_plain_docstrings", {}).pop(name, None)
    if what in PLAIN_DOCSTRINGS and kept is not None:
        lines[:] = kept


def write_rest_reference(app: Sphinx, exception: BaseException | None) -> None:
    """The OpenAPI document and Swagger UI in ``rest-api/`` of the HTML output."""
    if exception is not None or app.builder.format != "html":
        return
    from jupyter_qiskit_runtime.api_docs import page_files, render_page
    from jupyter_qiskit_runtime.openapi import openapi_document

    target = Path(app.outdir) / REST_DIR
    for relative, source in page_files():
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target / relative)
    document = openapi_document("/")
    document["servers"] = [
        {"url": "/qiskit-runtime", "description": "A Jupyter server at its base URL."}
    ]
    (target / "openapi.json").write_text(json.dumps(document, indent=1), encoding="utf-8")
    page = render_page(
        "",
        "openapi.json",
        try_it_out=False,
        subtitle="Qiskit Runtime REST API (read-only: a running server serves it at "
        "{base_url}qiskit-runtime/v1/docs, with Try it out)",
    )
    (target / "index.html").write_text(page, encoding="utf-8")


def write_root_redirect(app: Sphinx, exception: BaseException | None) -> None:
    """``index.html`` at the output's root, sending the browser to the root document (the
    source directory is the repository, so the root document is ``docs/index``)."""
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "index.html"
    if target.exists():
        return
    start = app.builder.get_target_uri(app.config.root_doc)
    target.write_text(
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="0; url={start}">'
        f"<title>{app.config.project}</title></head>"
        f'<body><a href="{start}">{app.config.project} documentation</a></body></html>\n',
        encoding="utf-8",
    )


def check_no_external_loads(app: Sphinx, exception: BaseException | None) -> None:
    """Fail the build if a page loads anything from another host."""
    if exception is not None or app.builder.format != "html":
        return
    offenders = []
    for page in sorted(Path(app.outdir).rglob("*.html")):
        found = EXTERNAL_LOAD.findall(page.read_text(encoding="utf-8", errors="replace"))
        if found:
            offenders.append(f"{page.relative_to(app.outdir)}: {found[:3]}")
    if offenders:
        raise ExtensionError(
            "These pages load resources from other hosts (the site must work offline):\n"
            + "\n".join(offenders)
        )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("qiskit-runtime-traits", TraitsDirective)
    app.add_directive("qiskit-runtime-routes", RoutesDirective)
    app.connect("autodoc-process-docstring", keep_plain_docstring, priority=100)
    app.connect("autodoc-process-docstring", restore_plain_docstring, priority=900)
    app.connect("doctree-read", replace_widget_outputs)
    app.connect("build-finished", write_rest_reference, priority=400)
    app.connect("build-finished", write_root_redirect, priority=400)
    app.connect("build-finished", check_no_external_loads, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
