"""The offline task suite: templated instructions over the shipped world, deterministic checkers.

Each :class:`Template` has phrasings (format strings), a slot sampler, the gold plan (tool calls,
each computed from the slots and earlier observations) and the expected answer computed from the
world directly (not through the tools). The rule policy understands the first ``rule_phrasings``
phrasings only, so its pass rate is a fixed reference below 100%.

Splits (ToolBench's idea): ``train`` and ``inst`` (unseen instructions of seen templates, I1-inst)
share templates; ``tool`` (I1-tool) holds templates whose tools never appear in ``train``; ``cat``
(I3-style) holds whole categories (files, language) never seen in training; ``test`` is
inst + tool + cat. Unsolvable tasks are in every split; passing one means refusing it.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ennead.tools import world
from ennead.tools.toolbox import haversine_km, safe_eval

Call = tuple[str, dict[str, Any]]
Step = Callable[[dict[str, Any], list[str]], Call]
SUITE_SEED = 17
PER_TEMPLATE = 10
SPLITS = ("train", "inst", "tool", "cat", "test")
UNSEEN_TOOLS = ("fx_rate", "algebra")
UNSEEN_CATEGORIES = ("files", "language")
LANG_NAMES = {"fr": "French", "de": "German", "es": "Spanish"}


@dataclass(frozen=True)
class Template:
    name: str
    category: str
    kind: str  # single | multi | unsolvable
    phrasings: tuple[str, ...]
    slots: Callable[[random.Random], dict[str, Any]]
    steps: tuple[Step, ...]
    answer: Callable[[dict[str, Any], list[str]], str]
    checker: Callable[[dict[str, Any]], dict[str, Any]]
    rule_phrasings: int = 2

    @property
    def tools(self) -> list[str]:
        return sorted({s(_Probe(), [""] * 4)[0] for s in self.steps}) if self.steps else []

    def pattern(self, i: int) -> re.Pattern[str]:
        parts = re.split(r"\{(\w+)\}", self.phrasings[i])
        rx = "".join(re.escape(p) if j % 2 == 0 else f"(?P<{p}>.+?)" for j, p in enumerate(parts))
        return re.compile(rf"^{rx}$", re.IGNORECASE)


class _Probe(dict):  # type: ignore[type-arg]
    """Slots that answer any key (to read a step's tool name without real slots)."""

    def __missing__(self, key: str) -> str:
        return "0"


@dataclass
class Task:
    id: str
    instruction: str
    template: str
    category: str
    kind: str
    tools: list[str]
    checker: dict[str, Any]
    gold_calls: list[Call]
    split: str
    slots: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            k: getattr(self, k)
            for k in (
                "id",
                "instruction",
                "template",
                "category",
                "kind",
                "tools",
                "checker",
                "gold_calls",
                "split",
            )
        }


def _num(text: str) -> float:
    m = re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)
    return float(m[0]) if m else float("nan")


def _pick(seq: Any) -> Callable[[random.Random], Any]:
    return lambda r: r.choice(list(seq))


def _city_names() -> list[str]:
    return [c[0] for c in world.CITIES]


def _fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _sql(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    import sqlite3

    con = sqlite3.connect(f"file:{world.database_path()}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def _weather_json(obs: str) -> dict[str, Any]:
    try:
        data = json.loads(obs)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def num(v: float, rtol: float = 0.01) -> dict[str, Any]:
    return {"type": "number", "value": v, "rtol": rtol}


def contains(v: str) -> dict[str, Any]:
    return {"type": "contains", "value": v}


REFUSE = {"type": "refuse"}
_EXPRS = [
    "17*23",
    "(125+375)/4",
    "2**10 - 24",
    "3.5*8 + 12",
    "sqrt(144) + 7",
    "999 - 123*4",
    "(18+6)*(7-2)",
    "81/9 + 2**5",
    "45*45",
    "1000/8 - 3",
]
_EQS = [
    "x**2 - 9 = 0",
    "2*x + 6 = 0",
    "x**2 - 5*x + 6 = 0",
    "3*x - 12 = 0",
    "x**2 - 16 = 0",
    "x**2 + x - 12 = 0",
    "5*x + 10 = 0",
    "x**2 - 7*x + 10 = 0",
]
_CONV = [
    (5, "km", "mile"),
    (100, "degF", "degC"),
    (3, "kg", "pound"),
    (2, "liter", "gallon"),
    (12, "inch", "cm"),
    (60, "mph", "km/h"),
    (1, "day", "second"),
    (250, "gram", "ounce"),
]


def _conv_expected(v: float, a: str, b: str) -> float:
    from ennead.tools.toolbox import _units

    return float(_units().Quantity(v, a).to(b).magnitude)


def _templates() -> list[Template]:
    T = Template
    date = _pick(world.DATES)
    cities = _city_names()
    return [
        # ---- math
        T(
            "calc",
            "math",
            "single",
            ("What is {expr}?", "Compute {expr}.", "Could you work out {expr} for me"),
            lambda r: {"expr": r.choice(_EXPRS)},
            (lambda s, o: ("calculator", {"expression": s["expr"]}),),
            lambda s, o: o[0],
            lambda s: num(safe_eval(s["expr"])),
        ),
        T(
            "solve",
            "math",
            "single",
            ("Solve {eq} for x.", "Find x such that {eq}.", "Which x satisfy {eq}"),
            lambda r: {"eq": r.choice(_EQS)},
            (lambda s, o: ("algebra", {"expression": s["eq"], "operation": "solve"}),),
            lambda s, o: o[0],
            lambda s: {"type": "numbers", "values": _roots(s["eq"])},
        ),
        T(
            "fib",
            "math",
            "single",
            (
                "Use Python to compute Fibonacci number {n}.",
                "Run code to get Fibonacci number {n}.",
                "I need the {n}-th Fibonacci value",
            ),
            lambda r: {"n": r.randint(20, 60)},
            (
                lambda s, o: (
                    "python",
                    {
                        "code": f"a, b = 0, 1\nfor _ in range({int(s['n'])}):\n"
                        "    a, b = b, a + b\nprint(a)"
                    },
                ),
            ),
            lambda s, o: o[0],
            lambda s: num(_fib(int(s["n"])), 1e-9),
        ),
        # ---- data
        T(
            "sql_count",
            "data",
            "single",
            (
                "How many employees work in the {dept} department?",
                "Count the employees of the {dept} department.",
                "Headcount of {dept}",
            ),
            lambda r: {"dept": r.choice(world.DEPARTMENTS)},
            (
                lambda s, o: (
                    "sql_query",
                    {"sql": f"SELECT COUNT(*) FROM employees WHERE department = '{s['dept']}'"},
                ),
            ),
            lambda s, o: o[0],
            lambda s: num(
                _sql("SELECT COUNT(*) FROM employees WHERE department=?", s["dept"])[0][0], 1e-9
            ),
        ),
        T(
            "sql_max",
            "data",
            "single",
            (
                "What is the highest salary in the {dept} department?",
                "Find the top salary in {dept}.",
                "Who earns most in {dept}, and how much",
            ),
            lambda r: {"dept": r.choice(world.DEPARTMENTS)},
            (
                lambda s, o: (
                    "sql_query",
                    {"sql": f"SELECT MAX(salary) FROM employees WHERE department = '{s['dept']}'"},
                ),
            ),
            lambda s, o: o[0],
            lambda s: num(
                _sql("SELECT MAX(salary) FROM employees WHERE department=?", s["dept"])[0][0], 1e-9
            ),
        ),
        # ---- knowledge
        T(
            "river",
            "knowledge",
            "single",
            (
                "Which river flows through {city}?",
                "Name the river of {city}.",
                "{city} sits on which river",
            ),
            lambda r: {"city": r.choice(cities)},
            (lambda s, o: ("wiki_lookup", {"title": s["city"], "keyword": "river"}),),
            lambda s, o: o[0],
            lambda s: contains(_river(s["city"])),
        ),
        T(
            "capital",
            "knowledge",
            "single",
            (
                "What is the capital of {country}?",
                "Name the capital city of {country}.",
                "{country}'s seat of government is where",
            ),
            lambda r: {"country": r.choice(list(world.COUNTRIES))},
            (lambda s, o: ("kg_query", {"subject": s["country"], "relation": "capital"}),),
            lambda s, o: o[0],
            lambda s: contains(world.COUNTRIES[s["country"]][0]),
        ),
        T(
            "founded",
            "knowledge",
            "single",
            (
                "In which year was {ticker} Corporation founded?",
                "When was {ticker} Corporation founded?",
                "Founding year of the {ticker} company",
            ),
            lambda r: {"ticker": r.choice(world.TICKERS)},
            (
                lambda s, o: (
                    "wiki_lookup",
                    {"title": f"{s['ticker']} Corporation", "keyword": "founded"},
                ),
            ),
            lambda s, o: (
                str(int(_num(o[0].split("founded in")[-1]))) if "founded in" in o[0] else o[0]
            ),
            lambda s: num(world.founded(s["ticker"]), 1e-9),
        ),
        # ---- world
        T(
            "weather",
            "world",
            "single",
            (
                "What was the temperature in {city} on {date}?",
                "Temperature in {city} on {date}, please.",
                "How warm did {city} get on {date}",
            ),
            lambda r: {"city": r.choice(cities), "date": date(r)},
            (lambda s, o: ("weather", {"city": s["city"], "date": s["date"]}),),
            lambda s, o: f"{_weather_json(o[0]).get('temp_c')} C",
            lambda s: num(float(world.weather(s["city"], s["date"])["temp_c"]), 1e-6),  # type: ignore[arg-type]
        ),
        T(
            "stock",
            "world",
            "single",
            (
                "What was the closing price of {ticker} on {date}?",
                "Price of {ticker} on {date}?",
                "{ticker} closed at what on {date}",
            ),
            lambda r: {"ticker": r.choice(world.TICKERS), "date": date(r)},
            (lambda s, o: ("stock_price", {"symbol": s["ticker"], "date": s["date"]}),),
            lambda s, o: o[0],
            lambda s: num(world.stock(s["ticker"], s["date"]), 1e-6),
        ),
        T(
            "fx",
            "world",
            "single",
            (
                "How many {quote} is 1 {base} worth on {date}?",
                "Exchange rate from {base} to {quote} on {date}?",
                "Convert 1 {base} into {quote}, {date}",
            ),
            lambda r: dict(
                zip(("base", "quote"), r.sample(["USD", *world.CURRENCIES], 2)), date=date(r)
            ),
            (
                lambda s, o: (
                    "fx_rate",
                    {"base": s["base"], "quote": s["quote"], "date": s["date"]},
                ),
            ),
            lambda s, o: o[0],
            lambda s: num(world.fx(s["base"], s["quote"], s["date"]), 1e-4),
        ),
        T(
            "distance",
            "world",
            "single",
            (
                "How far is {a} from {b} in km?",
                "Distance between {a} and {b} in kilometres?",
                "Km separating {a} and {b}",
            ),
            lambda r: dict(zip(("a", "b"), r.sample(cities, 2))),
            (lambda s, o: ("geo_distance", {"city_a": s["a"], "city_b": s["b"]}),),
            lambda s, o: o[0],
            lambda s: num(_dist(s["a"], s["b"])),
        ),
        # ---- science
        T(
            "molweight",
            "science",
            "single",
            (
                "What is the molecular weight of {mol}?",
                "Give the molar mass of {mol}.",
                "How heavy is one mole of {mol}",
            ),
            lambda r: {"mol": r.choice(list(world.MOLECULES))},
            (lambda s, o: ("chem_props", {"molecule": s["mol"]}),),
            lambda s, o: str(_weather_json(o[0]).get("mol_weight")),
            lambda s: num(_molwt(s["mol"]), 1e-3),
        ),
        T(
            "convert",
            "science",
            "single",
            ("Convert {v} {a} to {b}.", "How many {b} are {v} {a}?", "{v} {a} expressed in {b}"),
            lambda r: dict(zip(("v", "a", "b"), r.choice(_CONV))),
            (
                lambda s, o: (
                    "convert_units",
                    {"value": float(s["v"]), "from_unit": s["a"], "to_unit": s["b"]},
                ),
            ),
            lambda s, o: o[0],
            lambda s: num(_conv_expected(float(s["v"]), s["a"], s["b"])),
        ),
        # ---- time
        T(
            "weekday",
            "time",
            "single",
            ("What day of the week is {d}?", "Which weekday falls on {d}?", "{d} is a what-day"),
            lambda r: {"d": f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"},
            (lambda s, o: ("date_calc", {"op": "weekday", "date": s["d"]}),),
            lambda s, o: o[0],
            lambda s: contains(__import__("datetime").date.fromisoformat(s["d"]).strftime("%A")),
        ),
        T(
            "add_days",
            "time",
            "single",
            ("What date is {n} days after {d}?", "Add {n} days to {d}.", "{d} plus {n} days is"),
            lambda r: {
                "n": r.randint(3, 200),
                "d": f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            },
            (lambda s, o: ("date_calc", {"op": "add_days", "date": s["d"], "days": int(s["n"])}),),
            lambda s, o: o[0],
            lambda s: contains(_add_days(s["d"], int(s["n"]))),
        ),
        # ---- files (unseen category)
        T(
            "save_read",
            "files",
            "multi",
            (
                "Save the text '{text}' to {fname} and read it back.",
                "Write '{text}' into {fname}, then show the file.",
                "Persist '{text}' as {fname}",
            ),
            lambda r: {
                "text": r.choice(["hello tools", "alpha beta", "buy milk", "call Ada"]),
                "fname": r.choice(["note.txt", "todo.txt", "memo.md"]),
            },
            (
                lambda s, o: ("file_write", {"path": s["fname"], "content": s["text"]}),
                lambda s, o: ("file_read", {"path": s["fname"]}),
            ),
            lambda s, o: o[1],
            lambda s: {"type": "file", "path": s["fname"], "value": s["text"]},
        ),
        T(
            "river_file",
            "files",
            "multi",
            (
                "Look up the river of {city} and save its name to river.txt.",
                "Find which river flows through {city} and write it to river.txt.",
                "river.txt should hold {city}'s river",
            ),
            lambda r: {"city": r.choice(cities)},
            (
                lambda s, o: ("kg_query", {"subject": s["city"], "relation": "river"}),
                lambda s, o: ("file_write", {"path": "river.txt", "content": o[0]}),
            ),
            lambda s, o: o[0],
            lambda s: {"type": "file", "path": "river.txt", "value": _river(s["city"])},
        ),
        # ---- language (unseen category)
        T(
            "translate",
            "language",
            "single",
            (
                "Translate '{word}' into {lang}.",
                "How do you say '{word}' in {lang}?",
                "'{word}' in {lang} would be",
            ),
            lambda r: {
                "word": r.choice(list(world.DICTIONARY)),
                "lang": r.choice(list(LANG_NAMES.values())),
            },
            (lambda s, o: ("translate", {"text": s["word"], "target": _code(s["lang"])}),),
            lambda s, o: o[0],
            lambda s: contains(world.DICTIONARY[s["word"]][world.LANGS.index(_code(s["lang"]))]),
        ),
        T(
            "translate_country",
            "language",
            "multi",
            (
                "Translate '{word}' into the main language of {country}.",
                "Say '{word}' in the language spoken in {country}.",
                "'{word}' as people in {country} say it",
            ),
            lambda r: {
                "word": r.choice(list(world.DICTIONARY)),
                "country": r.choice(
                    [c for c, v in world.COUNTRIES.items() if v[3] in LANG_NAMES.values()]
                ),
            },
            (
                lambda s, o: ("kg_query", {"subject": s["country"], "relation": "language"}),
                lambda s, o: ("translate", {"text": s["word"], "target": _code(o[0])}),
            ),
            lambda s, o: o[1],
            lambda s: contains(
                world.DICTIONARY[s["word"]][
                    world.LANGS.index(_code(world.COUNTRIES[s["country"]][3]))
                ]
            ),
        ),
        # ---- multi-tool, seen categories
        T(
            "capital_distance",
            "world",
            "multi",
            (
                "How far is the capital of {country} from {city} in km?",
                "Distance from {country}'s capital to {city} in km?",
                "Km from {city} to {country}'s capital",
            ),
            lambda r: {"country": r.choice(list(world.COUNTRIES)), "city": r.choice(cities)},
            (
                lambda s, o: ("kg_query", {"subject": s["country"], "relation": "capital"}),
                lambda s, o: ("geo_distance", {"city_a": o[0], "city_b": s["city"]}),
            ),
            lambda s, o: o[1],
            lambda s: num(_dist(world.COUNTRIES[s["country"]][0], s["city"])),
        ),
        T(
            "capital_weather",
            "world",
            "multi",
            (
                "What was the weather condition in the capital of {country} on {date}?",
                "Weather in the capital of {country} on {date}?",
                "Sky over {country}'s capital, {date}",
            ),
            lambda r: {"country": r.choice(list(world.COUNTRIES)), "date": date(r)},
            (
                lambda s, o: ("kg_query", {"subject": s["country"], "relation": "capital"}),
                lambda s, o: ("weather", {"city": o[0], "date": s["date"]}),
            ),
            lambda s, o: str(_weather_json(o[1]).get("condition")),
            lambda s: contains(
                str(world.weather(world.COUNTRIES[s["country"]][0], s["date"])["condition"])
            ),
        ),
        T(
            "distance_miles",
            "science",
            "multi",
            (
                "How many miles is it from {a} to {b}?",
                "Distance from {a} to {b} in miles?",
                "Miles between {a} and {b}",
            ),
            lambda r: dict(zip(("a", "b"), r.sample(cities, 2))),
            (
                lambda s, o: ("geo_distance", {"city_a": s["a"], "city_b": s["b"]}),
                lambda s, o: (
                    "convert_units",
                    {"value": _num(o[0]), "from_unit": "km", "to_unit": "mile"},
                ),
            ),
            lambda s, o: o[1],
            lambda s: num(_dist(s["a"], s["b"]) / 1.609344),
        ),
        T(
            "stock_fx",
            "world",
            "multi",
            (
                "What was the closing price of {ticker} on {date} in {cur}?",
                "Price of {ticker} on {date}, expressed in {cur}?",
                "{ticker} on {date} cost how many {cur}",
            ),
            lambda r: {
                "ticker": r.choice(world.TICKERS),
                "date": date(r),
                "cur": r.choice(world.CURRENCIES),
            },
            (
                lambda s, o: ("stock_price", {"symbol": s["ticker"], "date": s["date"]}),
                lambda s, o: ("fx_rate", {"base": "USD", "quote": s["cur"], "date": s["date"]}),
                lambda s, o: ("calculator", {"expression": f"{_num(o[0])} * {_num(o[1])}"}),
            ),
            lambda s, o: o[2],
            lambda s: num(
                world.stock(s["ticker"], s["date"]) * world.fx("USD", s["cur"], s["date"]), 1e-3
            ),
        ),
        # ---- unsolvable
        T(
            "weather_unknown",
            "world",
            "unsolvable",
            (
                "What was the temperature in {city} on {date}?",
                "Temperature in {city} on {date}, please.",
                "How warm did {city} get on {date}",
            ),
            lambda r: {"city": r.choice(["Oslo", "Nairobi", "Quito", "Hanoi"]), "date": date(r)},
            (lambda s, o: ("weather", {"city": s["city"], "date": s["date"]}),),
            lambda s, o: o[0],
            lambda s: REFUSE,
        ),
        T(
            "stock_old",
            "world",
            "unsolvable",
            (
                "What was the closing price of {ticker} on {date}?",
                "Price of {ticker} on {date}?",
                "{ticker} closed at what on {date}",
            ),
            lambda r: {
                "ticker": r.choice(world.TICKERS),
                "date": f"2025-{r.randint(1, 12):02d}-15",
            },
            (lambda s, o: ("stock_price", {"symbol": s["ticker"], "date": s["date"]}),),
            lambda s, o: o[0],
            lambda s: REFUSE,
        ),
        T(
            "book_table",
            "world",
            "unsolvable",
            (
                "Book a table for {n} at a restaurant in {city} tonight.",
                "Reserve a restaurant in {city} for {n} people.",
                "Dinner for {n} in {city}, book it",
            ),
            lambda r: {"n": r.randint(2, 8), "city": r.choice(cities)},
            (),
            lambda s, o: "",
            lambda s: REFUSE,
            rule_phrasings=0,
        ),
    ]


def _river(name: str) -> str:
    c = world.city(name)
    assert c is not None
    return c[5]


def _code(lang: str) -> str:
    for k, v in LANG_NAMES.items():
        if v.lower() == lang.strip().lower():
            return k
    return lang.strip().lower()[:2]


def _roots(eq: str) -> list[float]:
    import sympy

    lhs, _, rhs = eq.partition("=")
    return sorted(float(v) for v in sympy.solve(sympy.sympify(lhs) - sympy.sympify(rhs or "0")))


def _dist(a: str, b: str) -> float:
    ca, cb = world.city(a), world.city(b)
    assert ca is not None and cb is not None
    return haversine_km(ca[2], ca[3], cb[2], cb[3])


def _molwt(mol: str) -> float:
    from rdkit import Chem
    from rdkit.Chem import Descriptors

    return float(Descriptors.MolWt(Chem.MolFromSmiles(world.MOLECULES[mol])))  # type: ignore[attr-defined]


def _add_days(d: str, n: int) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(d) + dt.timedelta(days=n)).isoformat()


TEMPLATES: list[Template] = _templates()


def template(name: str) -> Template:
    return next(t for t in TEMPLATES if t.name == name)


def _split_of(t: Template, i: int) -> str:
    if t.category in UNSEEN_CATEGORIES:
        return "cat"
    if set(t.tools) & set(UNSEEN_TOOLS):
        return "tool"
    return "train" if i < PER_TEMPLATE * 6 // 10 else "inst"


@functools.lru_cache(maxsize=4)
def build_suite(per_template: int = PER_TEMPLATE, seed: int = SUITE_SEED) -> tuple[Task, ...]:
    """All tasks (deterministic). One phrasing in five is the one the rule policy does not know."""
    out: list[Task] = []
    for t in TEMPLATES:
        rng = random.Random(f"{seed}|{t.name}")
        seen: set[str] = set()
        i = tries = 0
        while i < per_template and tries < per_template * 20:
            tries += 1
            slots = t.slots(rng)
            p = len(t.phrasings) - 1 if i % 5 == 4 else i % max(1, min(2, len(t.phrasings) - 1))
            instruction = t.phrasings[p].format(**slots)
            if instruction in seen:
                continue
            seen.add(instruction)
            gold, _obs = _gold(t, slots)
            out.append(
                Task(
                    f"{t.name}-{i:02d}",
                    instruction,
                    t.name,
                    t.category,
                    t.kind,
                    t.tools,
                    t.checker(slots),
                    gold,
                    _split_of(t, i),
                    slots,
                )
            )
            i += 1
    return tuple(out)


def _gold(t: Template, slots: dict[str, Any]) -> tuple[list[Call], list[str]]:
    """The gold calls, run on the real tools so later steps see real observations (file tools
    are not run: there is no workspace here; a write's observation stands in for a read)."""
    reg = _gold_registry()
    calls: list[Call] = []
    obs: list[str] = []
    for step in t.steps:
        name, args = step(slots, obs)
        calls.append((name, args))
        if name.startswith("file_"):
            obs.append(args.get("content", slots.get("text", "")))
            continue
        obs.append(reg.call(name, args).output)
    return calls, obs


_REG: Any = None


def _gold_registry() -> Any:
    global _REG
    if _REG is None:
        from ennead.tools.toolbox import build_registry

        _REG = build_registry(None)
    return _REG


def split(tasks: tuple[Task, ...] | list[Task], name: str) -> list[Task]:
    if name not in SPLITS:
        from ennead.core.errors import ConfigError

        raise ConfigError(f"unknown split {name!r}; allowed: {', '.join(SPLITS)}")
    if name == "test":
        return [t for t in tasks if t.split != "train"]
    return [t for t in tasks if t.split == name]


_NUM = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?")


def numbers_in(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in _NUM.findall(text)]


def check(task: Task, answer: str | None, gave_up: bool, workspace: Any = None) -> bool:
    """The deterministic checker: solved, or (for unsolvable tasks) correctly refused."""
    c = task.checker
    if c["type"] == "refuse":
        return gave_up or (
            answer is not None
            and bool(re.search(r"\b(cannot|can't|unable|no data|not possible)\b", answer, re.I))
        )
    if gave_up or answer is None:
        return False
    if c["type"] == "number":
        v, tol = float(c["value"]), float(c["rtol"]) * abs(float(c["value"])) + 1e-6
        return any(abs(x - v) <= tol for x in numbers_in(answer))
    if c["type"] == "numbers":
        got = numbers_in(answer)
        return all(any(abs(g - v) < 1e-6 for g in got) for v in c["values"])
    if c["type"] == "contains":
        return str(c["value"]).lower() in answer.lower()
    if c["type"] == "file":
        if workspace is None:
            return False
        from pathlib import Path

        p = Path(workspace) / c["path"]
        return p.is_file() and str(c["value"]).lower() in p.read_text(encoding="utf-8").lower()
    raise ValueError(f"unknown checker type {c['type']!r}")
