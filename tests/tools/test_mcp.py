"""The registry over MCP, checked with the SDK's own client: in-process, stdio, streamable HTTP."""

import socket
import sys
import threading
import time

import anyio
import pytest

from ennead.tools.mcp_server import build_server
from ennead.tools.toolbox import build_registry

CALLS = {
    "calculator": ({"expression": "2*(3+4)^2"}, "98"),
    "algebra": ({"expression": "x**2 - 4 = 0", "operation": "solve"}, "-2, 2"),
    "python": ({"code": "print(6 * 7)"}, "42"),
    "sql_schema": ({}, "CREATE TABLE employees"),
    "sql_query": ({"sql": "SELECT capital FROM countries WHERE name = 'Peru'"}, "Lima"),
    "wiki_search": ({"query": "river Danube Austria"}, "Vienna"),
    "wiki_lookup": ({"title": "Paris", "keyword": "river"}, "Seine"),
    "kg_query": ({"subject": "Japan", "relation": "currency"}, "JPY"),
    "weather": ({"city": "Paris", "date": "2026-03-03"}, '"city": "Paris"'),
    "stock_price": ({"symbol": "ACME", "date": "2026-03-01"}, "."),
    "fx_rate": ({"base": "USD", "quote": "USD", "date": "2026-03-02"}, "1"),
    "geo_distance": ({"city_a": "Paris", "city_b": "London"}, "343."),
    "chem_props": ({"molecule": "caffeine"}, "C8H10N4O2"),
    "convert_units": ({"value": 1, "from_unit": "mile", "to_unit": "km"}, "1.60934 km"),
    "date_calc": ({"op": "days_between", "date": "2026-01-01", "other": "2026-03-01"}, "59"),
    "file_write": ({"path": "sub/a.txt", "content": "hello"}, "wrote 5"),
    "file_read": ({"path": "sub/a.txt"}, "hello"),
    "file_list": ({}, "sub/a.txt"),
    "translate": ({"text": "thank you", "target": "de"}, "danke"),
    "finish": ({"answer": "42"}, "42"),
    "give_up": ({}, "gave up"),
}


def test_list_and_call_every_tool_in_process(tmp_path):
    from mcp import Client

    async def main():
        async with Client(build_server(build_registry(tmp_path))) as c:
            listed = {t.name: t for t in (await c.list_tools()).tools}
            assert set(listed) == {*CALLS, "now"}
            assert listed["weather"].input_schema["required"] == ["city", "date"]
            for name, (args, expected) in CALLS.items():
                r = await c.call_tool(name, args)
                assert not r.is_error and expected in r.content[0].text, name
            bad = await c.call_tool("weather", {"city": 3, "date": "2026-03-03"})
            assert bad.is_error and "[bad_args]" in bad.content[0].text
            assert bad.structured_content["status"] == "bad_args"
            unknown = await c.call_tool("wether", {})
            assert unknown.is_error and "did you mean 'weather'" in unknown.content[0].text
            failing = await c.call_tool("weather", {"city": "Oslo", "date": "2026-03-03"})
            assert failing.is_error and "unknown city" in failing.content[0].text

    anyio.run(main)


def test_stdio_round_trip():
    from mcp import Client, StdioServerParameters

    async def main():
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "ennead.tools.mcp_server"]
        )
        async with Client(params) as c:
            assert len((await c.list_tools()).tools) >= 17
            r = await c.call_tool("geo_distance", {"city_a": "Paris", "city_b": "Berlin"})
            assert not r.is_error and r.content[0].text == "877.5"

    anyio.run(main)


def test_streamable_http_round_trip(tmp_path):
    uvicorn = pytest.importorskip("uvicorn")
    from mcp import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = build_server(build_registry(tmp_path)).streamable_http_app(host="127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)

    async def main():
        async with Client(f"http://127.0.0.1:{port}/mcp") as c:
            assert "sql_query" in {t.name for t in (await c.list_tools()).tools}
            r = await c.call_tool("sql_query", {"sql": "SELECT COUNT(*) FROM countries"})
            assert not r.is_error and r.content[0].text == "11"

    try:
        anyio.run(main)
    finally:
        server.should_exit = True
        th.join(10)
