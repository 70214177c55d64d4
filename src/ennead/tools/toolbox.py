"""The offline tools (22, plus one tagged ``online``), each a JSON-Schema typed handler.

``build_registry(workspace, clock)`` returns a fresh :class:`ToolRegistry`; ``workspace`` confines
the file tools and the Python sandbox, ``clock`` (a ``datetime``) is what ``now`` returns, so tests
and tasks are reproducible.
"""

from __future__ import annotations

import ast
import datetime as dt
import functools
import math
import operator
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ennead.tools import world
from ennead.tools.registry import ToolError, ToolRegistry

S = {"type": "string"}
N = {"type": "number"}
I = {"type": "integer"}  # noqa: E741


def obj(required: list[str] | None = None, **props: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
        "additionalProperties": False,
    }


CATEGORIES = {
    "math": ("calculator", "algebra", "python"),
    "data": ("sql_schema", "sql_query"),
    "knowledge": ("wiki_search", "wiki_lookup", "kg_query"),
    "world": ("weather", "stock_price", "fx_rate", "geo_distance"),
    "science": ("chem_props", "convert_units"),
    "time": ("now", "date_calc"),
    "files": ("file_write", "file_read", "file_list"),
    "language": ("translate",),
    "control": ("finish", "give_up"),
}

_BIN = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.Mod: operator.mod,
    ast.FloorDiv: operator.floordiv,
}
_FUN: dict[str, Callable[..., Any]] = {
    "sqrt": math.sqrt,
    "log": math.log,
    "log10": math.log10,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "abs": abs,
    "round": round,
    "floor": math.floor,
    "ceil": math.ceil,
    "min": min,
    "max": max,
}
_CONST = {"pi": math.pi, "e": math.e}


def safe_eval(expr: str) -> float:
    """Arithmetic over numbers, + - * / ** % //, a few math functions; nothing else is evaluated."""

    def ev(n: ast.AST) -> Any:
        if isinstance(n, ast.Expression):
            return ev(n.body)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)):
            return n.value
        if isinstance(n, ast.BinOp) and type(n.op) in _BIN:
            a, b = ev(n.left), ev(n.right)
            if isinstance(n.op, ast.Pow) and abs(b) > 1000:
                raise ToolError("exponent too large (limit 1000)")
            return _BIN[type(n.op)](a, b)
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd)):
            return -ev(n.operand) if isinstance(n.op, ast.USub) else ev(n.operand)
        if isinstance(n, ast.Name) and n.id in _CONST:
            return _CONST[n.id]
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in _FUN:
            return _FUN[n.func.id](*[ev(a) for a in n.args])
        raise ToolError(f"unsupported expression element: {ast.dump(n)[:60]}", "bad_args")

    try:
        tree = ast.parse(expr.replace("^", "**"), mode="eval")
    except SyntaxError as e:
        raise ToolError(f"cannot parse expression: {e.msg}", "bad_args") from e
    try:
        return float(ev(tree))
    except ZeroDivisionError as e:
        raise ToolError("division by zero") from e


def _num(x: float) -> str:
    return f"{x:.6g}" if abs(x) < 1e15 else f"{x:.6e}"


def _city(name: str) -> tuple[str, str, float, float, float, str]:
    c = world.city(name)
    if c is None:
        raise ToolError(f"unknown city {name!r}; known: {', '.join(x[0] for x in world.CITIES)}")
    return c


def _date(date: str) -> str:
    if date not in world.DATES:
        raise ToolError(
            f"no data for {date!r}; the tables cover {world.DATES[0]}..{world.DATES[-1]}"
        )
    return date


@functools.lru_cache(maxsize=1)
def _wiki_index() -> Any:
    from ennead.core.retrieval.bm25 import BM25Index

    arts = world.encyclopedia()
    return BM25Index.build([{"id": a.id, "title": a.title, "text": a.text} for a in arts])


@functools.lru_cache(maxsize=1)
def _units() -> Any:
    import pint

    return pint.UnitRegistry()


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def build_registry(
    workspace: str | Path | None = None,
    clock: dt.datetime | None = None,
    online: bool = False,
    max_output_chars: int = 2000,
    timeout_s: float = 5.0,
) -> ToolRegistry:
    reg = ToolRegistry(max_output_chars, timeout_s)
    ws = Path(workspace) if workspace is not None else None
    now_value = clock or dt.datetime(2026, 3, 5, 9, 30, tzinfo=dt.timezone.utc)

    @reg.add(
        "calculator",
        "Evaluate an arithmetic expression, e.g. '2*(3+4)' or 'sqrt(2)'.",
        obj(expression=S),
        "math",
    )
    def calculator(expression: str) -> str:
        return _num(safe_eval(expression))

    @reg.add(
        "algebra",
        "Exact algebra with sympy: solve an equation for x, simplify, "
        "differentiate or integrate an expression in x.",
        obj(
            ["expression", "operation"],
            expression=S,
            operation={"type": "string", "enum": ["solve", "simplify", "diff", "integrate"]},
            variable=S,
        ),
        "math",
    )
    def algebra(expression: str, operation: str, variable: str = "x") -> str:
        import sympy

        x = sympy.Symbol(variable)
        try:
            if operation == "solve":
                lhs, _, rhs = expression.partition("=")
                eq = sympy.sympify(lhs) - (sympy.sympify(rhs) if rhs else 0)
                return ", ".join(str(s) for s in sympy.solve(eq, x))
            e = sympy.sympify(expression)
        except (sympy.SympifyError, TypeError, SyntaxError) as err:
            raise ToolError(f"cannot parse {expression!r}: {err}", "bad_args") from err
        out = {
            "simplify": sympy.simplify,
            "diff": lambda v: sympy.diff(v, x),
            "integrate": lambda v: sympy.integrate(v, x),
        }[operation](e)
        return str(out)

    @reg.add(
        "python",
        "Run Python code in a sandbox (no network, no files outside the workspace, "
        "2 s CPU, 256 MB) and return what it prints.",
        obj(code=S),
        "math",
        timeout_s=10.0,
    )
    def python(code: str) -> Any:
        from ennead.tools.registry import ToolResult
        from ennead.tools.sandbox import run_python

        r = run_python(code, ws)
        status = {"ok": "ok", "blocked": "blocked", "timeout": "timeout"}.get(r.status, "error")
        return ToolResult("python", status, r.observation(), extra={"sandbox": r.status})  # type: ignore[arg-type]

    @reg.add(
        "sql_schema", "List the tables and columns of the read-only SQLite database.", obj(), "data"
    )
    def sql_schema() -> str:
        con = _connect()
        rows = con.execute("SELECT sql FROM sqlite_master WHERE type='table'").fetchall()
        return "\n".join(r[0] for r in rows)

    def _connect() -> sqlite3.Connection:
        con = sqlite3.connect(
            f"file:{world.database_path()}?mode=ro", uri=True, check_same_thread=False
        )
        con.execute("PRAGMA query_only = ON")
        return con

    @reg.add(
        "sql_query",
        "Run one read-only SQL query (SQLite) on the database; at most 50 rows.",
        obj(sql=S),
        "data",
    )
    def sql_query(sql: str) -> str:
        con = _connect()
        steps = [0]

        def guard() -> int:  # abort runaway queries (e.g. huge cross joins)
            steps[0] += 1
            return 1 if steps[0] > 2000 else 0

        con.set_progress_handler(guard, 1000)
        try:
            cur = con.execute(sql)
            rows = cur.fetchmany(50)
        except sqlite3.Error as e:
            raise ToolError(f"SQL error: {e}") from e
        finally:
            con.close()
        return "\n".join(" | ".join(map(str, r)) for r in rows) or "(no rows)"

    @reg.add(
        "wiki_search",
        "Search the offline encyclopedia; returns the best article titles "
        "with their first sentence.",
        obj(query=S),
        "knowledge",
    )
    def wiki_search(query: str) -> str:
        hits = _wiki_index().search(query, 3)
        return "\n".join(f"{h.doc.title}: {h.doc.text.split('. ')[0]}." for h in hits)

    @reg.add(
        "wiki_lookup",
        "Read the encyclopedia article with this exact title; with a keyword, "
        "only the sentences that contain it.",
        obj(["title"], title=S, keyword=S),
        "knowledge",
    )
    def wiki_lookup(title: str, keyword: str = "") -> str:
        for a in world.encyclopedia():
            if a.title.lower() == title.strip().lower():
                sents = [s.strip() for s in a.text.split(". ") if s.strip()]
                if keyword:
                    sents = [s for s in sents if keyword.lower() in s.lower()]
                    if not sents:
                        return f"no sentence of {a.title!r} mentions {keyword!r}"
                return ". ".join(s.rstrip(".") for s in sents) + "."
        raise ToolError(f"no article titled {title!r}; use wiki_search first")

    @reg.add(
        "kg_query",
        "Query the knowledge graph: the object of (subject, relation). Relations: "
        "country, river, population_millions, capital, currency, continent, language.",
        obj(subject=S, relation=S),
        "knowledge",
    )
    def kg_query(subject: str, relation: str) -> str:
        hits = [
            o
            for s, r, o in world.kg_triples()
            if s.lower() == subject.strip().lower() and r == relation.strip()
        ]
        if not hits:
            raise ToolError(f"no fact ({subject!r}, {relation!r}) in the knowledge graph")
        return ", ".join(hits)

    @reg.add(
        "weather",
        "The weather of a city on a date (YYYY-MM-DD) from the shipped table.",
        obj(city=S, date=S),
        "world",
    )
    def weather(city: str, date: str) -> dict[str, Any]:
        return world.weather(_city(city)[0], _date(date))

    @reg.add(
        "stock_price",
        "Closing price (USD) of a ticker on a date (YYYY-MM-DD).",
        obj(symbol=S, date=S),
        "world",
    )
    def stock_price(symbol: str, date: str) -> str:
        if symbol.upper() not in world.TICKERS:
            raise ToolError(f"unknown ticker {symbol!r}; known: {', '.join(world.TICKERS)}")
        return f"{world.stock(symbol.upper(), _date(date)):.2f}"

    @reg.add(
        "fx_rate",
        "Exchange rate: units of `quote` per one unit of `base` on a date.",
        obj(base=S, quote=S, date=S),
        "world",
    )
    def fx_rate(base: str, quote: str, date: str) -> str:
        known = ("USD", *world.CURRENCIES)
        for c in (base, quote):
            if c.upper() not in known:
                raise ToolError(f"unknown currency {c!r}; known: {', '.join(known)}")
        return f"{world.fx(base.upper(), quote.upper(), _date(date)):.6g}"

    @reg.add(
        "geo_distance",
        "Great-circle distance in km between two cities.",
        obj(city_a=S, city_b=S),
        "world",
    )
    def geo_distance(city_a: str, city_b: str) -> str:
        a, b = _city(city_a), _city(city_b)
        return f"{haversine_km(a[2], a[3], b[2], b[3]):.1f}"

    @reg.add(
        "chem_props",
        "Molecular properties (RDKit) of a molecule given by name or SMILES: "
        "formula, molecular weight, rings, H-bond donors and acceptors.",
        obj(molecule=S),
        "science",
    )
    def chem_props(molecule: str) -> dict[str, Any]:
        from rdkit import Chem, RDLogger
        from rdkit.Chem import Descriptors, rdMolDescriptors

        RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]
        smi = world.MOLECULES.get(molecule.strip().lower(), molecule.strip())
        mol = Chem.MolFromSmiles(smi)
        if mol is None:
            raise ToolError(f"{molecule!r} is neither a known name nor valid SMILES")
        return {
            "smiles": smi,
            "formula": rdMolDescriptors.CalcMolFormula(mol),
            "mol_weight": round(Descriptors.MolWt(mol), 3),  # type: ignore[attr-defined]
            "rings": rdMolDescriptors.CalcNumRings(mol),
            "aromatic_rings": rdMolDescriptors.CalcNumAromaticRings(mol),
            "h_donors": rdMolDescriptors.CalcNumHBD(mol),
            "h_acceptors": rdMolDescriptors.CalcNumHBA(mol),
        }

    @reg.add(
        "convert_units",
        "Convert a quantity between units (pint), e.g. 5 km to mile.",
        obj(value=N, from_unit=S, to_unit=S),
        "science",
    )
    def convert_units(value: float, from_unit: str, to_unit: str) -> str:
        import pint

        u = _units()
        try:
            q = u.Quantity(value, from_unit).to(to_unit)
        except (pint.errors.PintError, AttributeError, ValueError) as e:
            raise ToolError(f"cannot convert {from_unit!r} to {to_unit!r}: {e}", "bad_args") from e
        return f"{q.magnitude:.6g} {to_unit}"

    @reg.add(
        "now",
        "The current date and time (ISO 8601) in a time zone such as 'Europe/Paris'.",
        obj([], tz=S),
        "time",
    )
    def now(tz: str = "UTC") -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return now_value.astimezone(ZoneInfo(tz)).isoformat(timespec="minutes")
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ToolError(f"unknown time zone {tz!r}", "bad_args") from e

    @reg.add(
        "date_calc",
        "Date arithmetic: op 'add_days' (date + days), 'weekday' (of date) or "
        "'days_between' (date and other).",
        obj(
            ["op", "date"],
            op={"type": "string", "enum": ["add_days", "weekday", "days_between"]},
            date=S,
            days=I,
            other=S,
        ),
        "time",
    )
    def date_calc(op: str, date: str, days: int = 0, other: str = "") -> str:
        try:
            d = dt.date.fromisoformat(date)
            if op == "add_days":
                return (d + dt.timedelta(days=days)).isoformat()
            if op == "weekday":
                return d.strftime("%A")
            return str((dt.date.fromisoformat(other) - d).days)
        except ValueError as e:
            raise ToolError(f"dates must be YYYY-MM-DD: {e}", "bad_args") from e

    def _ws_path(path: str) -> Path:
        if ws is None:
            raise ToolError("no workspace is configured for file tools")
        p = (ws / path).resolve()
        if not p.is_relative_to(ws.resolve()):
            raise ToolError(f"{path!r} is outside the workspace", "blocked")
        return p

    @reg.add(
        "file_write", "Write text to a file in the workspace.", obj(path=S, content=S), "files"
    )
    def file_write(path: str, content: str) -> str:
        p = _ws_path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content, encoding="utf-8")
        return f"wrote {len(content)} chars to {path}"

    @reg.add("file_read", "Read a text file from the workspace.", obj(path=S), "files")
    def file_read(path: str) -> str:
        p = _ws_path(path)
        if not p.is_file():
            raise ToolError(f"no file {path!r} in the workspace")
        return p.read_text(encoding="utf-8", errors="replace")

    @reg.add("file_list", "List the files in the workspace.", obj(), "files")
    def file_list() -> str:
        root = _ws_path(".")
        return "\n".join(sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()))

    @reg.add(
        "translate",
        "Translate a word or short phrase from English (en) to fr, de or es with "
        "the shipped dictionary.",
        obj(text=S, target=S),
        "language",
    )
    def translate(text: str, target: str) -> str:
        if target not in world.LANGS:
            raise ToolError(f"target must be one of {', '.join(world.LANGS)}", "bad_args")
        entry = world.DICTIONARY.get(text.strip().lower())
        if entry is None:
            raise ToolError(f"{text!r} is not in the dictionary")
        return entry[world.LANGS.index(target)]

    @reg.add("finish", "Give the final answer and stop.", obj(answer=S), "control")
    def finish(answer: str) -> str:
        return answer

    @reg.add(
        "give_up",
        "Stop without an answer (the task cannot be done with these tools).",
        obj([], reason=S),
        "control",
    )
    def give_up(reason: str = "") -> str:
        return reason or "gave up"

    if online:

        @reg.add(
            "web_search",
            "Search the web (online; needs network).",
            obj(query=S),
            "knowledge",
            tags=("online",),
        )
        def web_search(query: str) -> str:
            raise ToolError("web_search needs network access, which this run does not have")

    return reg
