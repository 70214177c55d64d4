"""The offline world the tools read: cities, countries, tables, an encyclopedia, a SQLite database.

Everything here is written for this package and generated deterministically (no download). Weather,
prices and exchange rates are synthetic but plausible; coordinates and capitals are real.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

# name, country, lat, lon, population (millions, rounded), river
CITIES: tuple[tuple[str, str, float, float, float, str], ...] = (
    ("Paris", "France", 48.8566, 2.3522, 2.1, "Seine"),
    ("Lyon", "France", 45.7640, 4.8357, 0.5, "Rhone"),
    ("Berlin", "Germany", 52.5200, 13.4050, 3.7, "Spree"),
    ("Munich", "Germany", 48.1351, 11.5820, 1.5, "Isar"),
    ("Madrid", "Spain", 40.4168, -3.7038, 3.3, "Manzanares"),
    ("Rome", "Italy", 41.9028, 12.4964, 2.8, "Tiber"),
    ("Vienna", "Austria", 48.2082, 16.3738, 1.9, "Danube"),
    ("London", "United Kingdom", 51.5074, -0.1278, 8.9, "Thames"),
    ("Tokyo", "Japan", 35.6762, 139.6503, 14.0, "Sumida"),
    ("Osaka", "Japan", 34.6937, 135.5023, 2.7, "Yodo"),
    ("Cairo", "Egypt", 30.0444, 31.2357, 10.0, "Nile"),
    ("Ottawa", "Canada", 45.4215, -75.6972, 1.0, "Ottawa"),
    ("Toronto", "Canada", 43.6532, -79.3832, 2.8, "Don"),
    ("Canberra", "Australia", -35.2809, 149.1300, 0.4, "Molonglo"),
    ("Sydney", "Australia", -33.8688, 151.2093, 5.3, "Parramatta"),
    ("Lima", "Peru", -12.0464, -77.0428, 9.7, "Rimac"),
)
# country: capital, currency, continent, language
COUNTRIES: dict[str, tuple[str, str, str, str]] = {
    "France": ("Paris", "EUR", "Europe", "French"),
    "Germany": ("Berlin", "EUR", "Europe", "German"),
    "Spain": ("Madrid", "EUR", "Europe", "Spanish"),
    "Italy": ("Rome", "EUR", "Europe", "Italian"),
    "Austria": ("Vienna", "EUR", "Europe", "German"),
    "United Kingdom": ("London", "GBP", "Europe", "English"),
    "Japan": ("Tokyo", "JPY", "Asia", "Japanese"),
    "Egypt": ("Cairo", "EGP", "Africa", "Arabic"),
    "Canada": ("Ottawa", "CAD", "North America", "English"),
    "Australia": ("Canberra", "AUD", "Oceania", "English"),
    "Peru": ("Lima", "PEN", "South America", "Spanish"),
}
# name: SMILES (a small shipped name -> structure dictionary)
MOLECULES: dict[str, str] = {
    "water": "O",
    "ethanol": "CCO",
    "methane": "C",
    "benzene": "c1ccccc1",
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "glucose": "OCC1OC(O)C(O)C(O)C1O",
    "acetone": "CC(=O)C",
    "toluene": "Cc1ccccc1",
    "phenol": "Oc1ccccc1",
    "ibuprofen": "CC(C)Cc1ccc(cc1)C(C)C(=O)O",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
}
TICKERS = ("ACME", "BOLT", "CRUX", "DYNA", "ECHO", "FLUX", "GLOW", "HALO")
CURRENCIES = ("EUR", "GBP", "JPY", "CAD", "AUD", "EGP", "PEN")
_USD_PER = {
    "EUR": 1.08,
    "GBP": 1.27,
    "JPY": 0.0068,
    "CAD": 0.74,
    "AUD": 0.66,
    "EGP": 0.021,
    "PEN": 0.27,
}
START = dt.date(2026, 3, 1)
DAYS = 14
DATES = tuple((START + dt.timedelta(days=i)).isoformat() for i in range(DAYS))
CONDITIONS = ("sunny", "cloudy", "rain", "windy", "fog", "snow")
# English -> (French, German, Spanish): the dictionary translator's phrase table
DICTIONARY: dict[str, tuple[str, str, str]] = {
    "water": ("eau", "Wasser", "agua"),
    "bread": ("pain", "Brot", "pan"),
    "house": ("maison", "Haus", "casa"),
    "cat": ("chat", "Katze", "gato"),
    "dog": ("chien", "Hund", "perro"),
    "book": ("livre", "Buch", "libro"),
    "city": ("ville", "Stadt", "ciudad"),
    "river": ("fleuve", "Fluss", "rio"),
    "sun": ("soleil", "Sonne", "sol"),
    "moon": ("lune", "Mond", "luna"),
    "tree": ("arbre", "Baum", "arbol"),
    "friend": ("ami", "Freund", "amigo"),
    "good morning": ("bonjour", "guten Morgen", "buenos dias"),
    "thank you": ("merci", "danke", "gracias"),
}
LANGS = ("fr", "de", "es")
DEPARTMENTS = ("Sales", "Research", "Support", "Finance", "Legal")
FIRST = ("Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea")
LAST = ("Stone", "Reed", "Marsh", "Hale", "Frost", "Lane")


def _u(*key: object) -> float:
    """A deterministic number in [0, 1) from ``key`` (the synthetic tables' only randomness)."""
    h = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def city(name: str) -> tuple[str, str, float, float, float, str] | None:
    for c in CITIES:
        if c[0].lower() == name.strip().lower():
            return c
    return None


def weather(city_name: str, date: str) -> dict[str, object]:
    c = city(city_name)
    assert c is not None
    base = 25.0 - abs(c[2]) * 0.45 + (8.0 if c[2] < 0 else 0.0)  # warmer south, southern summer
    temp = round(base + 8.0 * (_u("t", c[0], date) - 0.5), 1)
    cond = CONDITIONS[int(_u("c", c[0], date) * (len(CONDITIONS) - (0 if temp < 2 else 1)))]
    return {
        "city": c[0],
        "date": date,
        "temp_c": temp,
        "condition": cond,
        "humidity": int(40 + 50 * _u("h", c[0], date)),
    }


def stock(symbol: str, date: str) -> float:
    i = DATES.index(date)
    price = 50.0 + 150.0 * _u("p0", symbol)
    for d in DATES[1 : i + 1]:
        price *= 1.0 + 0.04 * (_u("r", symbol, d) - 0.5)
    return round(price, 2)


def fx(base: str, quote: str, date: str) -> float:
    def usd(cur: str) -> float:
        return 1.0 if cur == "USD" else _USD_PER[cur] * (1.0 + 0.02 * (_u("fx", cur, date) - 0.5))

    return round(usd(base) / usd(quote), 6)


def kg_triples() -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []
    for name, country, _lat, _lon, pop, river in CITIES:
        out += [
            (name, "country", country),
            (name, "river", river),
            (name, "population_millions", f"{pop:g}"),
        ]
    for country, (capital, cur, cont, lang) in COUNTRIES.items():
        out += [
            (country, "capital", capital),
            (country, "currency", cur),
            (country, "continent", cont),
            (country, "language", lang),
        ]
    return out


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str


def encyclopedia() -> list[Article]:
    """Short articles written from the world's facts (the search tools' corpus)."""
    arts = []
    for name, country, lat, lon, pop, river in CITIES:
        cap = COUNTRIES[country][0] == name
        arts.append(
            Article(
                f"city-{name.lower()}",
                name,
                f"{name} is a city in {country}" + (", and its capital" if cap else "") + ". "
                f"The river {river} flows through {name}. About {pop:g} million people live there. "
                f"It lies at latitude {lat:.2f} and longitude {lon:.2f}.",
            )
        )
    for country, (capital, cur, cont, lang) in COUNTRIES.items():
        arts.append(
            Article(
                f"country-{country.lower().replace(' ', '-')}",
                country,
                f"{country} is a country in {cont}. Its capital is {capital}. People there pay in "
                f"{cur}, and the main language is {lang}.",
            )
        )
    for mol, smi in MOLECULES.items():
        arts.append(
            Article(
                f"molecule-{mol}",
                mol.capitalize(),
                f"{mol.capitalize()} is a chemical compound; its SMILES is {smi}.",
            )
        )
    for t in TICKERS:
        founded = 1950 + int(70 * _u("founded", t))
        arts.append(
            Article(
                f"company-{t.lower()}",
                f"{t} Corporation",
                f"{t} Corporation trades under the ticker {t}. It was founded in "
                f"{founded} and is based in {CITIES[int(_u('hq', t) * 16)][0]}.",
            )
        )
    return arts


def founded(ticker: str) -> int:
    return 1950 + int(70 * _u("founded", ticker))


def headquarters(ticker: str) -> str:
    return CITIES[int(_u("hq", ticker) * 16)][0]


def employees() -> list[tuple[int, str, str, int, str]]:
    rows = []
    for i in range(40):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"
        dept = DEPARTMENTS[int(_u("dept", i) * len(DEPARTMENTS))]
        salary = 40000 + 1000 * int(60 * _u("sal", i))
        rows.append((i + 1, name, dept, salary, CITIES[int(_u("ecity", i) * 16)][0]))
    return rows


def sql_source() -> str:
    """The SQL that builds the shipped database (tables: cities, countries, employees)."""

    def q(v: object) -> str:
        return "'" + str(v).replace("'", "''") + "'" if isinstance(v, str) else str(v)

    lines = [
        "CREATE TABLE countries (name TEXT PRIMARY KEY, capital TEXT, currency TEXT, "
        "continent TEXT, language TEXT);",
        "CREATE TABLE cities (name TEXT PRIMARY KEY, country TEXT, lat REAL, lon REAL, "
        "population_millions REAL, river TEXT);",
        "CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT, department TEXT, "
        "salary INTEGER, city TEXT);",
    ]
    for c, vals in COUNTRIES.items():
        lines.append(f"INSERT INTO countries VALUES ({', '.join(map(q, (c, *vals)))});")
    for row in CITIES:
        lines.append(f"INSERT INTO cities VALUES ({', '.join(map(q, row))});")
    for emp in employees():
        lines.append(f"INSERT INTO employees VALUES ({', '.join(map(q, emp))});")
    return "\n".join(lines) + "\n"


@functools.lru_cache(maxsize=1)
def database_path() -> Path:
    """The SQLite file, built once per content hash in the temp folder (opened read-only)."""
    src = sql_source()
    path = (
        Path(tempfile.gettempdir())
        / f"ennead-tools-{hashlib.sha256(src.encode()).hexdigest()[:12]}.sqlite"
    )
    if not path.is_file():
        tmp = path.with_suffix(f".{id(src)}.tmp")
        con = sqlite3.connect(tmp)
        con.executescript(src)
        con.commit()
        con.close()
        tmp.replace(path)
    return path
