import time

import pytest

from ennead.core.errors import ConfigError
from ennead.tools.registry import Tool, ToolError, ToolRegistry


def _obj(**props):
    return {"type": "object", "properties": props, "required": list(props)}


def _reg():
    reg = ToolRegistry(max_output_chars=100, timeout_s=0.5)

    @reg.add("echo", "Echo the text.", _obj(text={"type": "string"}))
    def echo(text):
        return text

    @reg.add("boom", "Always raises.", _obj())
    def boom():
        raise RuntimeError("kaput")

    @reg.add("refuse", "Raises a ToolError.", _obj())
    def refuse():
        raise ToolError("no data for that city")

    @reg.add("hang", "Never returns.", _obj())
    def hang():
        time.sleep(30)

    return reg


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "string"}, "type 'object'"),
        ({"type": "object", "properties": {"x": {"type": "strin"}}}, "properties/x/type"),
        ({"type": "object", "properties": {}, "required": ["x"]}, "not in properties"),
        ([1, 2], "type 'object'"),
    ],
)
def test_malformed_schemas_are_refused_at_registration(schema, message):
    with pytest.raises(ConfigError, match="tool 'bad'") as e:
        ToolRegistry().register(Tool("bad", "A tool.", schema, lambda: 1))
    assert message in str(e.value)


def test_bad_names_duplicates_and_empty_descriptions_are_refused():
    reg = ToolRegistry()
    with pytest.raises(ConfigError, match="must match"):
        reg.register(Tool("has space", "x", _obj(), lambda: 1))
    with pytest.raises(ConfigError, match="no description"):
        reg.register(Tool("t", " ", _obj(), lambda: 1))
    reg.register(Tool("t", "x", _obj(), lambda: 1))
    with pytest.raises(ConfigError, match="registered twice"):
        reg.register(Tool("t", "x", _obj(), lambda: 1))


def test_call_statuses_and_observations():
    reg = _reg()
    assert reg.call("echo", {"text": "hi"}).output == "hi"
    assert reg.call("echo", '{"text": "json"}').output == "json"
    r = reg.call("ecko", {"text": "hi"})
    assert r.status == "unknown_tool" and "did you mean 'echo'" in r.output
    assert reg.call("echo", '{"text": ').status == "bad_json"
    r = reg.call("echo", {"text": 3})
    assert r.status == "bad_args" and "'text'" in r.output and "string" in r.output
    r = reg.call("echo", {})
    assert r.status == "bad_args" and "required" in r.output
    assert reg.call("echo", [1]).status == "bad_args"
    r = reg.call("boom", {})
    assert r.status == "error" and "RuntimeError: kaput" in r.output
    assert "[error]" in r.observation() and "call another tool" in r.observation()
    assert reg.call("refuse", {}).status == "error"


def test_hanging_tool_times_out_in_bounded_time():
    t0 = time.perf_counter()
    r = _reg().call("hang", {})
    assert r.status == "timeout" and time.perf_counter() - t0 < 2.0


def test_output_is_truncated():
    r = _reg().call("echo", {"text": "x" * 500})
    assert r.ok and r.truncated and len(r.output) < 150 and "truncated" in r.output


def test_openai_and_react_rendering():
    reg = _reg()
    spec = reg.openai_tools()[0]
    assert spec["type"] == "function" and spec["function"]["name"] == "echo"
    assert spec["function"]["parameters"]["properties"]["text"]["type"] == "string"
    assert "- echo(text: string): Echo the text." in reg.react_text()
