"""Typed tools: JSON-Schema inputs checked first, status-coded results, truncation, timeouts.

A tool is a :class:`Tool` (name, description, JSON-Schema parameters, handler, category, tags). The
:class:`ToolRegistry` validates schemas at registration (a malformed schema is a ``ConfigError``
naming the tool and the schema path), renders OpenAI tool schemas and ReAct text, and
:meth:`ToolRegistry.call` never raises for the caller's mistakes: it returns a :class:`ToolResult`
whose ``status`` says what happened (ToolBench's status codes, spelled out).
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from ennead.core.errors import ConfigError, UnknownNameError

Status = Literal["ok", "unknown_tool", "bad_json", "bad_args", "error", "timeout", "blocked"]
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,63}$")


class ToolError(Exception):
    """A handler's expected failure (e.g. an unknown city); it becomes an observation."""

    def __init__(self, message: str, status: Status = "error"):
        super().__init__(message)
        self.status: Status = status


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: Callable[..., Any]
    category: str = "misc"
    tags: tuple[str, ...] = ()
    timeout_s: float | None = None  # None: the registry's default

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    def signature(self) -> str:
        props = self.parameters.get("properties", {})
        req = set(self.parameters.get("required", []))
        args = ", ".join(
            f"{k}: {v.get('type', 'any')}{'' if k in req else '?'}" for k, v in props.items()
        )
        return f"{self.name}({args})"


@dataclass
class ToolResult:
    tool: str
    status: Status
    output: str
    data: Any = None
    truncated: bool = False
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def observation(self) -> str:
        """What the model reads: the output, or the status and what to do about it."""
        if self.ok:
            return self.output
        hint = {
            "unknown_tool": "call one of the listed tools",
            "bad_json": "give the arguments as one JSON object",
            "bad_args": "fix the arguments to match the tool's parameters",
            "error": "change the input or call another tool",
            "timeout": "the tool took too long; simplify the input",
            "blocked": "the sandbox refused this operation",
        }[self.status]
        return f"[{self.status}] {self.output} ({hint})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "status": self.status,
            "output": self.output,
            "truncated": self.truncated,
            "seconds": round(self.seconds, 4),
        }


@functools.lru_cache(maxsize=256)
def _schema_error(blob: str) -> Any:
    """The first meta-schema error of a schema (cached: checking is slow and schemas repeat)."""
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(json.loads(blob))
    except jsonschema.SchemaError as e:
        return e
    return None


@functools.lru_cache(maxsize=256)
def _validator(blob: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(blob))


def _check_schema(name: str, schema: Any) -> None:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise ConfigError(f"tool {name!r}: parameters must be a JSON Schema with type 'object'")
    try:
        blob = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"tool {name!r}: parameters schema is not JSON: {e}") from e
    err = _schema_error(blob)
    if err is not None:
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        raise ConfigError(
            f"tool {name!r}: invalid parameters schema at {where}: {err.message}"
        ) from err
    props = schema.get("properties", {})
    missing = [r for r in schema.get("required", []) if r not in props]
    if missing:
        raise ConfigError(f"tool {name!r}: required names {missing} are not in properties")


class ToolRegistry:
    def __init__(self, max_output_chars: int = 2000, timeout_s: float = 5.0):
        self.tools: dict[str, Tool] = {}
        self.max_output_chars = max_output_chars
        self.timeout_s = timeout_s

    def register(self, tool: Tool) -> Tool:
        if not _NAME.match(tool.name):
            raise ConfigError(
                f"tool name {tool.name!r} must match {_NAME.pattern} (OpenAI/MCP tool names)"
            )
        if tool.name in self.tools:
            raise ConfigError(f"tool {tool.name!r} is registered twice")
        if not tool.description.strip():
            raise ConfigError(f"tool {tool.name!r} has no description (the model reads it)")
        _check_schema(tool.name, tool.parameters)
        self.tools[tool.name] = tool
        return tool

    def add(
        self,
        name: str,
        description: str,
        parameters: dict[str, Any],
        category: str = "misc",
        tags: Iterable[str] = (),
        timeout_s: float | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of :meth:`register`."""

        def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register(Tool(name, description, parameters, fn, category, tuple(tags), timeout_s))
            return fn

        return deco

    def __contains__(self, name: object) -> bool:
        return name in self.tools

    def __len__(self) -> int:
        return len(self.tools)

    def names(self) -> list[str]:
        return list(self.tools)

    def get(self, name: str) -> Tool:
        if name not in self.tools:
            raise UnknownNameError("tool", name, self.tools)
        return self.tools[name]

    def subset(self, names: Iterable[str]) -> ToolRegistry:
        sub = ToolRegistry(self.max_output_chars, self.timeout_s)
        for n in names:
            sub.tools[n] = self.get(n)
        return sub

    def openai_tools(self) -> list[dict[str, Any]]:
        return [t.openai_schema() for t in self.tools.values()]

    def react_text(self) -> str:
        return "\n".join(f"- {t.signature()}: {t.description}" for t in self.tools.values())

    def validate(self, name: str, args: Any) -> str | None:
        """None when ``args`` fit the tool's schema, else what is wrong (JSON path and message)."""
        blob = json.dumps(self.tools[name].parameters, sort_keys=True)
        errors = sorted(
            _validator(blob).iter_errors(args),
            key=lambda e: list(e.absolute_path),
        )
        if not errors:
            return None
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path)
        return f"argument {where!r}: {e.message}" if where else e.message

    def call(self, name: str, args: Any) -> ToolResult:
        """Run one call. ``args`` is a dict or a JSON string; never raises for bad calls."""
        t0 = time.perf_counter()
        if name not in self.tools:
            import difflib

            close = difflib.get_close_matches(str(name), self.tools, n=1)
            msg = f"no tool named {name!r}" + (f"; did you mean {close[0]!r}?" if close else "")
            return ToolResult(str(name), "unknown_tool", msg)
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except json.JSONDecodeError as e:
                return ToolResult(name, "bad_json", f"arguments are not valid JSON: {e.msg}")
        if not isinstance(args, dict):
            return ToolResult(name, "bad_args", f"arguments must be an object, got {args!r:.80}")
        problem = self.validate(name, args)
        if problem:
            return ToolResult(name, "bad_args", problem)
        tool = self.tools[name]
        res = self._run(tool, args, tool.timeout_s or self.timeout_s)
        res.seconds = time.perf_counter() - t0
        if len(res.output) > self.max_output_chars:
            cut = len(res.output) - self.max_output_chars
            res.output = res.output[: self.max_output_chars] + f"... [{cut} more chars truncated]"
            res.truncated = True
        return res

    @staticmethod
    def _run(tool: Tool, args: dict[str, Any], timeout_s: float) -> ToolResult:
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["value"] = tool.handler(**args)
            except ToolError as e:
                box["error"] = (e.status, str(e))
            except Exception as e:  # a tool that raises must not crash the agent
                box["error"] = ("error", f"{type(e).__name__}: {e}")

        # a daemon thread: a hung handler is abandoned (it cannot be killed); the sandboxed
        # Python tool runs in its own process and is killed by its own limits
        th = threading.Thread(target=target, daemon=True, name=f"tool-{tool.name}")
        th.start()
        th.join(timeout_s)
        if th.is_alive():
            return ToolResult(tool.name, "timeout", f"no answer within {timeout_s:g} s")
        if "error" in box:
            status, msg = box["error"]
            return ToolResult(tool.name, status, msg)
        value = box.get("value")
        if isinstance(value, ToolResult):
            return value
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return ToolResult(tool.name, "ok", text, data=value)
