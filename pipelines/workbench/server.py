"""Serving the workbench with uvicorn: in the foreground (`shiprisk serve`) or in a thread
(tests and the benchmark), on loopback unless a host is given."""
from __future__ import annotations

import threading
import time

import uvicorn

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def make_server(app, host: str, port: int, access_log: bool = True) -> uvicorn.Server:
    """A uvicorn server for `app`. uvicorn's own proxy-header handling stays off: the app reads
    X-Forwarded-For itself, from `workbench.trusted_proxies` only (render.client_address)."""
    config = uvicorn.Config(app, host=host, port=port, proxy_headers=False, server_header=False,
                            access_log=access_log, log_level="info" if access_log else "warning", lifespan="off")
    return uvicorn.Server(config)


class ServerThread:
    """`with ServerThread(app) as base_url:` the app served on a free loopback port in a thread."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0, access_log: bool = False):
        self.server = make_server(app, host, port, access_log=access_log)
        self.thread = threading.Thread(target=self.server.run, name="workbench-server", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the workbench server did not start")
            time.sleep(0.02)
        host, port = self.server.servers[0].sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
