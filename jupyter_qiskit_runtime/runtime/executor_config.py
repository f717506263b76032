"""Which executors a server offers: ``QiskitRuntimeApp.executors``, checked at start.

Without configuration a server offers each executor type's default instances that can run on
this machine: ``aer`` and ``aer_ideal`` always, ``custatevec`` where an NVIDIA GPU and Aer's GPU
build are present (a log line says why it was or was not added), and those of plug-ins that
declare any. With configuration it offers exactly the executors configured. An executor whose
configuration is invalid, or that cannot run here, is left out with an error in the log that
says why; a request for its backends answers 404 with the same reason. Nothing here stops the
server, and nothing imports Qiskit.
"""

from __future__ import annotations

import ast
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..execution.executors.base import Executor, ExecutorConfigError
from ..execution.executors.registry import (
    ENTRY_POINT_GROUP,
    ExecutorType,
    discover_executor_types,
    load_executor_class,
)
from .configured import ConfiguredExecutor

__all__ = ["EXECUTOR_NAME", "ExecutorSetup", "configure_executors", "parse_entry"]

#: What an executor's name may look like: it ends backend names and URL path segments.
EXECUTOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class ExecutorSetup:
    """The executors a server runs, and those left out with the reason."""

    executors: tuple[ConfiguredExecutor, ...]
    unavailable: Mapping[str, str]


def parse_entry(name: str, entry: Any) -> tuple[str, dict[str, Any]]:
    """The type and settings of one ``executors`` entry; ``ExecutorConfigError`` if malformed.

    An entry is a mapping (or its JSON text, as the command line gives it) with ``type`` and the
    settings; without ``type``, the type is the executor's name (``{"custatevec": {}}``)."""
    if not isinstance(name, str) or not EXECUTOR_NAME.fullmatch(name):
        raise ExecutorConfigError(
            f"the name {name!r} is not a valid executor name (letters, digits, '_', '.', '-', "
            "starting with a letter or digit, at most 64 characters)"
        )
    if isinstance(entry, str):
        entry = _parse_text(entry)
    if not isinstance(entry, Mapping):
        raise ExecutorConfigError(
            f"its entry must be a mapping like {{'type': 'aer', 'noise': False}}, not {entry!r}"
        )
    settings = dict(entry)
    kind = settings.pop("type", name)
    if not isinstance(kind, str) or not kind:
        raise ExecutorConfigError(f"'type' must be a type name or 'module:Class', not {kind!r}")
    return kind, settings


def _parse_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError) as exc:
            raise ExecutorConfigError(
                f"its entry {text!r} is neither a JSON object nor a Python dict literal"
            ) from exc


def _resolve_type(kind: str, types: Mapping[str, ExecutorType]) -> ExecutorType:
    if kind in types:
        return types[kind]
    if ":" in kind:
        return ExecutorType(kind, kind, load_executor_class(kind), kind.partition(":")[0])
    raise ExecutorConfigError(
        f"unknown type '{kind}'; the types installed are {', '.join(types)} (entry points of "
        f"the group {ENTRY_POINT_GROUP}), or give an import path 'module:Class'"
    )


def _configured(executor: Executor, kind: ExecutorType) -> ConfiguredExecutor:
    concurrency = executor.concurrency()
    return ConfiguredExecutor(
        name=executor.name,
        noisy=executor.noisy,
        description=executor.describe(),
        type=kind.name,
        class_path=kind.ref,
        settings=executor.worker_settings(),
        capabilities=executor.capabilities().to_json(),
        concurrency_key=concurrency[0] if concurrency else None,
        max_concurrent_jobs=concurrency[1] if concurrency else None,
    )


def _make(name: str, kind: ExecutorType, settings: Mapping[str, Any]) -> tuple[Executor, str]:
    """The executor, and why it cannot run here ("" when it can). Plug-in code may raise
    anything: that is a reason too."""
    executor = kind.cls(name, settings)
    return executor, executor.availability() or ""


def configure_executors(
    configured: Mapping[str, Any],
    log: logging.Logger,
    types: Mapping[str, ExecutorType] | None = None,
) -> ExecutorSetup:
    """The executors of ``QiskitRuntimeApp.executors`` (its defaults when empty), made, checked
    and described; the others, with the reason, logged and left out."""
    types = discover_executor_types(log) if types is None else types
    if not configured:
        return _defaults(types, log)
    offered: list[ConfiguredExecutor] = []
    unavailable: dict[str, str] = {}
    for name, entry in configured.items():
        try:
            kind_name, settings = parse_entry(name, entry)
            kind = _resolve_type(kind_name, types)
            executor, reason = _make(name, kind, settings)
            if not reason:
                offered.append(_configured(executor, kind))
        except ExecutorConfigError as exc:
            reason = f"its configuration is invalid: {exc}"
        except Exception as exc:  # plug-in code: never stops the server
            reason = f"it failed to start: {type(exc).__name__}: {exc}"
        if reason:
            unavailable[str(name)] = reason
            log.error(
                "Executor '%s' (QiskitRuntimeApp.executors) is left out: %s. Its backends "
                "answer 404 with this reason.",
                name,
                reason,
            )
    _log_offered(offered, log)
    return ExecutorSetup(tuple(offered), unavailable)


def _defaults(types: Mapping[str, ExecutorType], log: logging.Logger) -> ExecutorSetup:
    offered: list[ConfiguredExecutor] = []
    unavailable: dict[str, str] = {}
    for kind in types.values():
        for name, settings in kind.cls.DEFAULT_INSTANCES.items():
            if name in unavailable or any(s.name == name for s in offered):
                continue
            try:
                executor, reason = _make(name, kind, settings)
                if not reason:
                    offered.append(_configured(executor, kind))
            except Exception as exc:  # plug-in code: never stops the server
                reason = f"it failed to start: {type(exc).__name__}: {exc}"
            if reason:
                unavailable[name] = reason
                log.info("Executor '%s' (%s) is not added: %s.", name, kind.name, reason)
            elif kind.name != "aer":  # say why an optional executor (a GPU one) is there
                log.info("Executor '%s' is added: %s.", name, offered[-1].description)
    _log_offered(offered, log)
    return ExecutorSetup(tuple(offered), unavailable)


def _log_offered(offered: list[ConfiguredExecutor], log: logging.Logger) -> None:
    if not offered:
        log.warning("No executor can run: the Qiskit Runtime API has no backends.")
        return
    log.info("Executors: %s", "; ".join(f"{s.name} ({s.description})" for s in offered))
