import datetime as dt
import json

import pytest

from ennead.tools.registry import ToolError
from ennead.tools.toolbox import CATEGORIES, build_registry, safe_eval

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
    "now": ({"tz": "Asia/Tokyo"}, "2026-01-02T09:00+09:00"),
    "date_calc": ({"op": "days_between", "date": "2026-01-01", "other": "2026-03-01"}, "59"),
    "file_write": ({"path": "sub/a.txt", "content": "hello"}, "wrote 5"),
    "translate": ({"text": "thank you", "target": "de"}, "danke"),
    "finish": ({"answer": "42"}, "42"),
    "give_up": ({}, "gave up"),
}


def test_every_offline_tool_works(tmp_path):
    clock = dt.datetime(2026, 1, 2, 0, 0, tzinfo=dt.timezone.utc)
    reg = build_registry(tmp_path, clock=clock)
    assert len(reg) >= 17 and "web_search" not in reg
    assert {t for ts in CATEGORIES.values() for t in ts} == set(reg.names())
    for name, (args, expected) in CALLS.items():
        r = reg.call(name, args)
        assert r.ok and expected in r.output, (name, r.observation())
    assert reg.call("file_read", {"path": "sub/a.txt"}).output == "hello"
    assert reg.call("file_list", {}).output == "sub/a.txt"
    props = json.loads(reg.call("chem_props", {"molecule": "c1ccccc1"}).output)
    assert props["aromatic_rings"] == 1 and props["formula"] == "C6H6"


@pytest.mark.parametrize(
    ("name", "args", "status"),
    [
        ("sql_query", {"sql": "DROP TABLE employees"}, "error"),
        ("sql_query", {"sql": "SELECT * FROM nope"}, "error"),
        ("weather", {"city": "Oslo", "date": "2026-03-03"}, "error"),
        ("weather", {"city": "Paris", "date": "2025-01-01"}, "error"),
        ("file_read", {"path": "../../etc/passwd"}, "blocked"),
        ("file_write", {"path": "/tmp/x.txt", "content": "x"}, "blocked"),
        ("calculator", {"expression": "__import__('os').system('ls')"}, "bad_args"),
        ("calculator", {"expression": "1/0"}, "error"),
        ("calculator", {"expression": "9**99999"}, "error"),
        ("convert_units", {"value": 1, "from_unit": "km", "to_unit": "kg"}, "bad_args"),
        ("chem_props", {"molecule": "not a molecule"}, "error"),
        ("date_calc", {"op": "weekday", "date": "tomorrow"}, "bad_args"),
        ("date_calc", {"op": "fortnight", "date": "2026-01-01"}, "bad_args"),
        ("now", {"tz": "Mars/Olympus"}, "bad_args"),
        ("translate", {"text": "cat", "target": "xx"}, "bad_args"),
    ],
)
def test_tool_failures_are_observations(tmp_path, name, args, status):
    r = build_registry(tmp_path).call(name, args)
    assert r.status == status, r.observation()


def test_online_tools_are_off_by_default_and_fail_cleanly():
    reg = build_registry(None, online=True)
    assert "online" in reg.get("web_search").tags
    assert reg.call("web_search", {"query": "x"}).status == "error"


def test_safe_eval_refuses_names_and_attributes():
    assert safe_eval("sqrt(16) + pi - pi") == 4.0
    for bad in ("a", "().__class__", "open('x')", "[1, 2]"):
        with pytest.raises(ToolError, match="unsupported"):
            safe_eval(bad)
