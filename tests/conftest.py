"""Session fixtures shared across the suite (real embedded models are loaded once)."""

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def smollm2_backend():
    """The embedded SmolLM2 backend (prepared into the user cache once, then reused)."""
    from ennead.core.backends import load_backend

    return load_backend("smollm2", device="cpu")


@pytest.fixture(scope="session")
def serve_app():
    """``serve_app(app) -> base URL``: an ASGI app on a free loopback port in a thread, stopped
    at the end of the session."""
    import socket
    import threading
    import time

    uvicorn = pytest.importorskip("uvicorn")
    servers = []

    def start(app, log_level="error", timeout=30.0):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
        thread = threading.Thread(target=srv.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not srv.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert srv.started, "the test server did not start"
        servers.append((srv, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for srv, thread in servers:
        srv.should_exit = True
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def ray_local():
    """A local Ray cluster of 2 CPUs for the whole session (the ray backend's replicas)."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        try:
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        except Exception as exc:  # a sandbox that forbids Ray's daemons, not a bug of ours
            pytest.skip(f"cannot start a local Ray cluster here: {exc}")
    yield ray
    ray.shutdown()
