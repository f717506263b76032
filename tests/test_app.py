"""The extension refuses to serve with a client library older than its server side needs."""

from __future__ import annotations

import pytest

from jupyter_qiskit_runtime import app


def test_server_side_needs_qiskit_ibm_runtime_0_51(monkeypatch: pytest.MonkeyPatch) -> None:
    """With 0.49 installed (enough for a kernel), the server side refuses with what to install;
    with 0.51 it starts."""
    monkeypatch.setattr(app, "version", lambda name: "0.49.0")
    with pytest.raises(RuntimeError, match=r"qiskit-ibm-runtime 0\.51 or newer; .* has 0\.49\.0"):
        app.check_server_requirements()
    monkeypatch.setattr(app, "version", lambda name: "0.51.0")
    app.check_server_requirements()
