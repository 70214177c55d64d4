import pytest

from ennead.core.errors import EnneadError, UnknownNameError
from ennead.core.registry import Registry, load_target


def test_lazy_target_loaded_on_get():
    reg: Registry = Registry("widget", "ennead.test-widgets")
    reg.register("joiner", "os.path:join", summary="joins")
    assert reg.names() == ["joiner"]
    assert reg.meta("joiner")["summary"] == "joins"
    import os.path

    assert reg.get("joiner") is os.path.join


def test_decorator_registration_and_duplicates():
    reg: Registry = Registry("widget", "ennead.test-widgets")

    @reg.register("a")
    def a():
        return 1

    assert reg.get("a")() == 1
    with pytest.raises(EnneadError, match="already registered"):
        reg.register("a", lambda: 2)


def test_unknown_name_suggests_close_match():
    reg: Registry = Registry("metric", "ennead.test-widgets")
    reg.register("exact_match", "os:getcwd")
    reg.register("token_f1", "os:getcwd")
    with pytest.raises(UnknownNameError) as info:
        reg.get("exact_mtch")
    msg = str(info.value)
    assert "did you mean 'exact_match'" in msg
    assert "token_f1" in msg  # lists what is known


def test_frozen_registry_refuses_new_entries():
    reg: Registry = Registry("widget", "ennead.test-widgets")
    reg.freeze()
    with pytest.raises(EnneadError, match="frozen"):
        reg.register("x", "os:getcwd")


def test_load_target_nested_attribute():
    assert load_target("os:path.join") is __import__("os").path.join
