"""The MovieLens layouts (ML-1M/10M .dat, ML-20M csv) read the same data as the atomic files,
and bad input names its file and row. Synthetic files only (MovieLens is never committed)."""

import re
from pathlib import Path

import pytest

from ennead.core.errors import DataError
from ennead.recsys.api import load_file
from ennead.recsys.config import DataSettings, RecsysConfig
from ennead.recsys.data import load_atomic, load_dataset, load_ml1m, load_ml20m, split_domains


def _from_atomic(toy: Path) -> tuple[list[list[str]], dict[str, str]]:
    inter = [line.split("\t") for line in (toy / "toy.inter").read_text().splitlines()[1:]]
    genres = {}
    for line in (toy / "toy.item").read_text().splitlines()[1:]:
        cells = line.split("\t")
        genres[cells[0]] = cells[3]
    return inter, genres


def write_ml1m(toy: Path, root: Path) -> Path:
    inter, genres = _from_atomic(toy)
    root.mkdir()
    lines = [f"{u}::{i}::{r}::{t}\n" for u, i, r, t in inter]
    (root / "ratings.dat").write_text("".join(lines), encoding="latin-1")
    movies = [f"{i}::Movie {i} (1995)::{g.replace(' ', '|')}\n" for i, g in genres.items()]
    (root / "movies.dat").write_text("".join(movies), encoding="latin-1")
    return root


def write_ml20m(toy: Path, root: Path, links: bool = True) -> Path:
    inter, genres = _from_atomic(toy)
    root.mkdir()
    rows = ["userId,movieId,rating,timestamp", *(",".join(r) for r in inter)]
    (root / "ratings.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    movies = ["movieId,title,genres"]
    # titles with commas are quoted, as in MovieLens
    movies += [f'{i},"Movie {i}, The (1995)",{g.replace(" ", "|")}' for i, g in genres.items()]
    (root / "movies.csv").write_text("\n".join(movies) + "\n", encoding="utf-8")
    if links:
        link = ["movieId,imdbId,tmdbId", *(f"{i},{1000 + int(i)},{2000 + int(i)}" for i in genres)]
        link = link[:-2] + ["999,1,2"]  # one unknown id; the last two movies without a link
        (root / "links.csv").write_text("\n".join(link) + "\n", encoding="utf-8")
    return root


def test_three_layouts_read_the_same_interactions(toy, tmp_path):
    atomic = load_atomic(toy, "toy")
    for ds in (
        load_ml1m(write_ml1m(toy, tmp_path / "ml1m")),
        load_ml20m(write_ml20m(toy, tmp_path / "ml20m")),
    ):
        assert ds.items == atomic.items and ds.users == atomic.users
        assert ds.seqs == atomic.seqs and ds.genres == atomic.genres
    ds = load_ml20m(tmp_path / "ml20m")
    assert ds.excluded["link rows with unknown item ids"] == 1
    assert ds.excluded["movies without a link row"] == 2
    cfg = DataSettings(root=str(tmp_path / "ml20m"), layout="ml20m", target_genres=["Action"])
    sp = split_domains(load_dataset(cfg), cfg)
    ref = split_domains(atomic, DataSettings(root=str(toy), target_genres=["Action"]))
    assert (sp.cold, sp.test, sp.negatives) == (ref.cold, ref.test, ref.negatives)


def test_links_are_optional(toy, tmp_path):
    ds = load_ml20m(write_ml20m(toy, tmp_path / "m", links=False))
    assert "link rows with unknown item ids" not in ds.excluded and ds.n_items == 40


@pytest.mark.parametrize(
    ("name", "old", "new", "line", "says"),
    [
        ("ratings.csv", "userId,movieId", "user,movieId", 1, "missing column(s) userId"),
        ("ratings.csv", "\n1,", "\n1,7\n1,", 2, "2 fields, the header has 4"),
        (
            "ratings.csv",
            "userId,movieId,rating,timestamp\n",
            "userId,movieId,rating,timestamp\n,3,4,5\n",
            2,
            "empty userId",
        ),
        ("movies.csv", "movieId,title,genres", "movieId,title", 1, "missing column(s) genres"),
        ("links.csv", "movieId,", "item,", 1, "missing column(s) movieId"),
    ],
)
def test_ml20m_bad_input_names_file_and_row(toy, tmp_path, name, old, new, line, says):
    root = write_ml20m(toy, tmp_path / "m")
    path = root / name
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(DataError, match=re.escape(says)) as e:
        load_ml20m(root)
    assert e.value.path.endswith(name) and e.value.line == line


def test_ml20m_bad_timestamp_and_unknown_links(toy, tmp_path):
    root = write_ml20m(toy, tmp_path / "m")
    ratings = root / "ratings.csv"
    rows = ratings.read_text().splitlines()
    rows[5] = rows[5].rsplit(",", 1)[0] + ",soon"
    ratings.write_text("\n".join(rows) + "\n")
    with pytest.raises(DataError, match="timestamp 'soon'") as e:
        load_ml20m(root)
    assert e.value.line == 6
    write_ml20m(toy, tmp_path / "n")
    (tmp_path / "n" / "links.csv").write_text("movieId,imdbId,tmdbId\n501,1,2\n502,3,4\n")
    with pytest.raises(DataError, match="no movieId of the link file is known") as e:
        load_ml20m(tmp_path / "n")
    assert e.value.path.endswith("links.csv") and e.value.line == 2


def test_ml1m_movies_short_row_and_check_reads_both_layouts(toy, tmp_path):
    root = write_ml1m(toy, tmp_path / "ml1m")
    movies = root / "movies.dat"
    rows = movies.read_text(encoding="latin-1").splitlines()
    rows[3] = "4::Movie 4"
    movies.write_text("\n".join(rows) + "\n", encoding="latin-1")
    with pytest.raises(DataError, match="2 fields, expected item::title::genres") as e:
        load_ml1m(root)
    assert e.value.path.endswith("movies.dat") and e.value.line == 4
    cfg = RecsysConfig.model_validate({"data": {"target_genres": ["Action"]}})
    sp = load_file(write_ml20m(toy, tmp_path / "m") / "links.csv", cfg)
    assert len(sp.cold) == 15
