"""The tool registry as an MCP server (the ``mcp`` SDK's low-level ``Server``).

Tools are listed with their JSON Schemas; a call runs through :meth:`ToolRegistry.call`, so bad
arguments, unknown tools and tool failures come back as ``isError`` results with the status and
its hint in the text, never as protocol errors. Transports: stdio and streamable HTTP.
"""

from __future__ import annotations

from typing import Any

from ennead.tools.registry import ToolRegistry


def build_server(registry: ToolRegistry, name: str = "ennead-tools") -> Any:
    import anyio
    from mcp import types
    from mcp.server.lowlevel import Server

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=t.name, description=t.description, input_schema=t.parameters)
                for t in registry.tools.values()
            ]
        )

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        # tools block (sandbox, sqlite): run them off the event loop
        res = await anyio.to_thread.run_sync(registry.call, params.name, params.arguments or {})
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=res.observation())],
            structured_content={"status": res.status, "output": res.output},
            is_error=not res.ok,
        )

    return Server(name, version="1", on_list_tools=list_tools, on_call_tool=call_tool)


def serve_stdio(registry: ToolRegistry) -> None:
    import anyio
    from mcp.server.stdio import stdio_server

    server = build_server(registry)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main)


def serve_http(registry: ToolRegistry, host: str = "127.0.0.1", port: int = 8765) -> None:
    import uvicorn

    app = build_server(registry).streamable_http_app(host=host)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def stdio_main() -> None:  # ``python -m ennead.tools.mcp_server``: what MCP hosts launch
    import tempfile

    from ennead.tools.toolbox import build_registry

    with tempfile.TemporaryDirectory(prefix="ennead-mcp-ws-") as ws:
        serve_stdio(build_registry(ws))


if __name__ == "__main__":
    stdio_main()
