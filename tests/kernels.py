"""A kernel started by a real Jupyter server through its REST API, run over its websocket.

This is how JupyterLab runs a notebook: ``POST {base_url}api/kernels`` starts the kernel (the
server launches it, so the kernel's parent and ``JPY_PARENT_PID`` are the server), and code goes
to ``{base_url}api/kernels/{id}/channels`` as Jupyter protocol messages in JSON.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import requests
import websocket

from .servers import ServerProcess


class ServerKernel:
    """A kernel of ``server``; use it as a context manager, which shuts it down at the end."""

    def __init__(self, server: ServerProcess, kernel_name: str = "python3") -> None:
        self.server = server
        answer = requests.post(
            f"{server.url}api/kernels",
            json={"name": kernel_name},
            headers=server.headers(),
            timeout=60,
        )
        answer.raise_for_status()
        self.id = str(answer.json()["id"])
        self.session = uuid.uuid4().hex
        ws_url = "ws" + server.url.removeprefix("http") + f"api/kernels/{self.id}/channels"
        self.ws = websocket.create_connection(
            ws_url,
            header=[f"Authorization: token {server.token}"],
            suppress_origin=True,
            timeout=120,
        )

    def execute(self, code: str, timeout: float = 300.0) -> list[dict[str, Any]]:
        """Run ``code``; its outputs as nbformat-like dicts (``output_type``, ``text``, ...)."""
        msg_id = uuid.uuid4().hex
        self.ws.send(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "msg_type": "execute_request",
                        "username": "test",
                        "session": self.session,
                        "date": datetime.now(UTC).isoformat(),
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": True,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        outputs: list[dict[str, Any]] = []
        replied = idle = False
        deadline = time.monotonic() + timeout
        while not (replied and idle):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no answer within {timeout} s to:\n{code}")
            message = json.loads(self.ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if message["channel"] == "shell" and kind == "execute_reply":
                replied = True
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
            elif kind == "stream":
                outputs.append({"output_type": "stream", "name": content["name"], **content})
            elif kind in ("execute_result", "display_data", "error"):
                outputs.append({"output_type": kind, **content})
        return outputs

    def close(self) -> None:
        """Close the websocket and shut the kernel down."""
        self.ws.close()
        requests.delete(
            f"{self.server.url}api/kernels/{self.id}", headers=self.server.headers(), timeout=60
        )

    def __enter__(self) -> ServerKernel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def stream_text(outputs: list[dict[str, Any]], name: str = "stdout") -> str:
    """Everything a cell wrote to ``name`` (stdout or stderr)."""
    return "".join(o["text"] for o in outputs if o["output_type"] == "stream" and o["name"] == name)


def errors(outputs: list[dict[str, Any]]) -> list[str]:
    """The errors a cell raised, as ``ename: evalue``."""
    return [f"{o['ename']}: {o['evalue']}" for o in outputs if o["output_type"] == "error"]
