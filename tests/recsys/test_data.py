import numpy as np
import pytest

from ennead.core.errors import DataError
from ennead.recsys.config import DataSettings
from ennead.recsys.data import bundled_ml100k, load_atomic, load_dataset, load_ml1m, split_domains


def settings(root, **kw):
    return DataSettings(root=str(root), target_genres=["Action"], **kw)


def test_toy_domains_split_and_meta(toy):
    ds = load_dataset(settings(toy))
    assert (ds.n_users, ds.n_items) == (30, 40)
    sp = split_domains(ds, settings(toy))
    assert set(sp.target_items.tolist()) == set(range(1, 41, 2))  # odd items are Action
    assert all(i % 2 == 0 for s in sp.source.values() for i in s)
    assert len(sp.cold) == len(sp.warm) == 15
    for u in sp.cold:
        assert len(sp.target_train[u]) == 5 and len(sp.test[u]) == 3
    for u in sp.warm:  # warm users keep their whole target history
        assert len(sp.target_train[u]) + 3 == sum(1 for i in ds.seqs[u] if i % 2)
    for u, neg in sp.negatives.items():
        assert not set(neg) & set(ds.seqs[u]) and set(neg) <= set(sp.target_items.tolist())
    # meta: a director for every item, actors ordered by frequency, 0 = missing
    assert (ds.meta[1:, 0] > 0).all() and ds.meta.shape == (41, 4)
    assert ds.n_directors == 6 and len(ds.triples) == 40 * 5


def test_split_is_seeded_and_shares_ids(toy):
    ds = load_dataset(settings(toy))
    a, b = split_domains(ds, settings(toy)), split_domains(ds, settings(toy))
    assert a.cold == b.cold and a.negatives == b.negatives
    c = split_domains(ds, settings(toy, split_seed=1))
    assert c.cold != a.cold


def test_missing_column_names_file_and_header(toy):
    p = toy / "toy.inter"
    p.write_text(p.read_text().replace("timestamp:float", "time:float"))
    with pytest.raises(DataError, match=r"missing column.*timestamp") as e:
        load_atomic(toy)
    assert e.value.path == str(p) and e.value.line == 1


def test_short_row_names_its_line(toy):
    p = toy / "toy.inter"
    lines = p.read_text().splitlines()
    lines[4] = "3\t7"
    p.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as e:
        load_atomic(toy)
    assert e.value.path == str(p) and e.value.line == 5


def test_unknown_link_ids_are_counted_or_refused(toy):
    p = toy / "toy.link"
    p.write_text(p.read_text() + "999\tm.nowhere\n")
    assert load_atomic(toy).excluded["link rows with unknown item ids"] == 1
    p.write_text("item_id:token\tentity_id:token\n998\tm.x\n999\tm.y\n")
    with pytest.raises(DataError, match="no item id of the link file") as e:
        load_atomic(toy)
    assert e.value.path == str(p) and e.value.line == 2


def test_users_with_too_few_target_items_are_counted(toy):
    p = toy / "toy.inter"
    head, *rows = p.read_text().splitlines()
    odd_of_1 = [r for r in rows if r.split("\t")[0] == "1" and int(r.split("\t")[1]) % 2]
    p.write_text("\n".join([head, *(r for r in rows if r not in odd_of_1[2:])]) + "\n")
    ds = load_dataset(settings(toy))
    sp = split_domains(ds, settings(toy))
    assert sp.excluded["users with fewer than K+3=8 target items"] == 1
    assert 1 not in sp.cold + sp.warm and len(sp.cold) + len(sp.warm) == 29
    with pytest.raises(DataError, match="no user has"):
        split_domains(ds, settings(toy, k=30))


def test_empty_domain_is_an_error(toy):
    ds = load_dataset(settings(toy))
    with pytest.raises(DataError, match="empty target domain"):
        split_domains(ds, DataSettings(root=str(toy), target_genres=["Western"]))
    with pytest.raises(DataError, match="empty source domain"):
        split_domains(ds, DataSettings(root=str(toy), target_genres=["Action", "Comedy"]))


def test_ml1m_layout(tmp_path):
    (tmp_path / "ratings.dat").write_text(
        "".join(f"{u}::{i}::4::{u * 100 + i}\n" for u in range(1, 4) for i in range(1, 9)),
        encoding="latin-1",
    )
    (tmp_path / "movies.dat").write_text(
        "".join(
            f"{i}::Movie {i} (1999)::{'Action|Drama' if i % 2 else 'Comedy'}\n" for i in range(1, 9)
        ),
        encoding="latin-1",
    )
    ds = load_ml1m(tmp_path)
    assert (ds.n_users, ds.n_items) == (3, 8) and ds.seqs[1] == list(range(1, 9))
    (tmp_path / "ratings.dat").write_text("1::2::4\n", encoding="latin-1")
    with pytest.raises(DataError) as e:
        load_ml1m(tmp_path)
    assert e.value.line == 1 and e.value.path.endswith("ratings.dat")


def test_bundled_ml100k_matches_the_spec():
    root = bundled_ml100k()
    assert not str(root).startswith(str(__file__).rsplit("/tests/", 1)[0] + "/src")
    cfg = DataSettings()
    ds = load_dataset(cfg)
    sp = split_domains(ds, cfg)
    assert (ds.n_users, ds.n_items, len(sp.target_items)) == (943, 1682, 564)
    assert sum(len(s) for s in sp.source.values()) == 53322
    assert int((ds.meta[:, 0] > 0).sum()) > 1500 and len(ds.triples) == 91631
    assert np.median([len(sp.target_train[u]) for u in sp.cold]) == 5
