"""``%qiskit_runtime``: connect a notebook to the Jupyter server's Qiskit Runtime in one line.

``%load_ext jupyter_qiskit_runtime`` registers :class:`QiskitRuntimeMagics`; then
``%qiskit_runtime`` finds the server that runs the kernel (as ``connect()`` does), puts a
``QiskitRuntimeService`` into the notebook's namespace as ``service`` and, when a backend is asked
for, the backend as ``backend``, and prints one line saying what it connected to. Its options are
in ``%qiskit_runtime --help``; its defaults are traits (``%config QiskitRuntimeMagics``).
"""

from __future__ import annotations

import keyword
import textwrap
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, Unicode
from traitlets.config import Configurable

from .client import Connection, ConnectionRefused, open_connection, server_summary
from .discovery import ENV_TOKEN, ENV_URL, ServerNotFoundError, display_url


def _listing(names: tuple[str, ...]) -> str:
    return ", ".join(names) if names else "none"


@magics_class
class QiskitRuntimeMagics(Magics, Configurable):
    """The ``%qiskit_runtime`` line magic and its configurable defaults."""

    default_backend = Unicode(
        "",
        config=True,
        help="""Backend to put into the namespace as `backend` when %qiskit_runtime is run
        without --backend, such as "fake_manila@aer_ideal". Empty: no backend unless asked.""",
    )
    default_name = Unicode(
        "service",
        config=True,
        help="Name of the variable that receives the service when --name is not given.",
    )
    show_panel = Bool(
        True,
        config=True,
        help="""Show the job panel after connecting (unless --no-panel): a live list of the
        user's jobs on the server, with cancel, filters and details (needs ipywidgets 8 and a
        front end that shows widgets; a terminal IPython shows none).""",
    )

    def __init__(self, shell: Any) -> None:
        """Register with ``shell`` so that ``%config QiskitRuntimeMagics.<trait>`` works."""
        Configurable.__init__(self, config=shell.config)
        Magics.__init__(self, shell=shell)
        shell.configurables.append(self)
        #: The panel the magic showed last; closed when it shows another.
        self.panel: Any = None

    @line_magic
    @magic_arguments()
    @argument("-h", "--help", action="store_true", help="Show this help and do nothing else.")
    @argument(
        "--backend",
        metavar="NAME",
        help="Also put this backend into the namespace as `backend` "
        "(default: QiskitRuntimeMagics.default_backend).",
    )
    @argument(
        "--name",
        metavar="VAR",
        help="Variable for the service (default: QiskitRuntimeMagics.default_name, 'service').",
    )
    @argument(
        "--no-panel",
        action="store_true",
        help="Do not show the job panel (default: QiskitRuntimeMagics.show_panel).",
    )
    @argument(
        "--url",
        metavar="URL",
        help=f"The Jupyter server's URL with its base_url (default: found; see {ENV_URL}).",
    )
    @argument(
        "--token",
        metavar="TOKEN",
        help=f"A token that server accepts. It stays in the notebook and its history: "
        f"prefer {ENV_TOKEN}, or none at all for the server that runs this kernel.",
    )
    def qiskit_runtime(self, line: str) -> None:
        """Connect to the Qiskit Runtime of the Jupyter server that runs this kernel.

        Puts a QiskitRuntimeService into the namespace as `service` (see --name) and, with
        --backend or a configured default backend, that backend as `backend`; prints one line
        naming the server, the user, the number of backends and the executors. Without --url
        and --token it finds the server as connect() does: QISKIT_RUNTIME_JUPYTER_URL and
        QISKIT_RUNTIME_JUPYTER_TOKEN, JupyterHub's single-user server, or the local Jupyter
        server that started this kernel.
        """
        args = parse_argstring(self.qiskit_runtime, line)
        if args.help:
            # magic_arguments replaced the docstring with the parser's full help, which starts
            # with an indented usage block (reStructuredText for `%qiskit_runtime?`).
            usage = str(self.qiskit_runtime.__doc__).removeprefix("::").lstrip("\n")
            usage, _, rest = usage.partition("\n\n")
            print(textwrap.dedent(usage.strip("\n")) + "\n\n" + rest.strip("\n"))
            return
        name = args.name or self.default_name
        if not name.isidentifier() or keyword.iskeyword(name):
            raise UsageError(f"--name {name!r} is not a valid variable name.")
        backend_name = args.backend or self.default_backend
        try:
            connection = open_connection(args.url, args.token)
            summary = server_summary(connection.url, connection.api_key)
        except (ServerNotFoundError, ConnectionRefused, ValueError) as exc:
            raise UsageError(str(exc)) from exc
        values: dict[str, Any] = {name: connection.service}
        if backend_name:
            values["backend"] = self._backend(connection, backend_name)
        assert self.shell is not None, "registered with a shell"
        self.shell.push(values)
        assigned = f"`{name}`" + (f" and `backend` ({backend_name})" if backend_name else "")
        print(
            f"Connected to {display_url(connection.url)} as {connection.owner or 'unknown user'}: "
            f"{summary.backends} backends, executors {_listing(summary.executors)}; "
            f"{assigned} ready."
        )
        if self.show_panel and not args.no_panel:
            self._show_panel(connection.service)

    @staticmethod
    def _backend(connection: Connection, name: str) -> Any:
        """The backend ``name`` of the connected service; a usage error naming it if unknown."""
        from qiskit.providers.exceptions import QiskitBackendNotFoundError

        try:
            return connection.service.backend(name)
        except QiskitBackendNotFoundError as exc:
            where = display_url(connection.url)
            raise UsageError(f"No backend {name!r} at {where}: {exc}") from exc

    def _show_panel(self, service: Any) -> None:
        """Display a job panel for ``service`` (closing the one shown before), in a kernel only:
        a terminal IPython has no front end for widgets."""
        if getattr(self.shell, "kernel", None) is None:
            return
        from IPython.display import display

        try:
            from .panel import JobPanel
        except ImportError as exc:
            print(f"No job panel: {exc}. Install ipywidgets 8, or pass --no-panel.")
            return
        if self.panel is not None:
            self.panel.close()
        self.panel = JobPanel(service)
        display(self.panel)
