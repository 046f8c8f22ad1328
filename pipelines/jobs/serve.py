"""`shiprisk serve`: the inspector workbench on the workspace, served by uvicorn until stopped."""
from __future__ import annotations

import ipaddress

from pipelines.errors import UserError
from pipelines.io.context import RunContext
from pipelines.workbench.server import LOOPBACK


def serve_workbench(ctx: RunContext, host: str, port: int) -> None:
    """Serve the workbench of ctx.workspace on host:port (blocks until Ctrl-C / SIGTERM)."""
    from pipelines.workbench.app import create_app
    from pipelines.workbench.server import make_server

    wb, progress = ctx.settings["workbench"], ctx.progress
    if not 0 < port < 65536:
        raise UserError(f"--port {port} is not a TCP port (1-65535)")
    if not wb.get("users"):
        progress.warn("no user is configured (workbench.users): nobody can log in; add one with "
                      "`shiprisk serve --add-user NAME --office OFFICE`")
    if host not in LOOPBACK and not _is_loopback(host):
        progress.warn(f"listening on {host}, not loopback: put a TLS reverse proxy in front and set "
                      "workbench.cookie_secure: true (docs/operations.md, 'Inspector workbench')")
    with progress.stage("open the results database and the worklists"):
        app = create_app(ctx.settings, ctx.workspace)
        nights = app.state.wb.worklists.nights()
    progress.say(f"workbench of {ctx.workspace.root}: {len(nights)} night(s) with a worklist"
                 + (f", newest {nights[0]}" if nights else "") + f"; open http://{_show(host)}:{port}/")
    if wb.get("sso_header") and not wb.get("trusted_proxies"):
        progress.warn(f"sso_header {wb['sso_header']} is set but trusted_proxies is empty: the header will be ignored")
    make_server(app, host, port).run()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _show(host: str) -> str:
    return f"[{host}]" if ":" in host else host
