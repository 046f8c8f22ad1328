"""What the workbench's routes share: the Workbench state, the templates (autoescaped; the
inline CSS is allowed by its hash, no script at all), the security headers, URL building."""
from __future__ import annotations

import base64
import hashlib
import math
from dataclasses import dataclass
from importlib import resources
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from pipelines.workbench import auth
from pipelines.workbench.store import ResultStore
from pipelines.workbench.worklist import Worklists

COOKIE = "shiprisk_session"
# Over HTTPS the cookie takes the __Host- prefix: browsers then accept it only if Secure, for
# path / and without a Domain, so no sibling host can plant or shadow it.
SECURE_COOKIE = "__Host-shiprisk_session"
_CSS = resources.files("pipelines.workbench").joinpath("templates", "workbench.css").read_text(encoding="utf-8")
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
# No script may run, no frame may hold the page, forms post only here.
CSP = (f"default-src 'self'; script-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()", "Cross-Origin-Opener-Policy": "same-origin",
}


class LoginRequired(Exception):
    """No signed-in user: send the browser to the login page."""


@dataclass
class Workbench:
    """What the routes share: settings, users, sessions, the login limiter, results and worklists."""
    settings: dict
    users: dict[str, auth.User]
    sessions: auth.Sessions
    limiter: auth.LoginLimiter
    store: ResultStore
    worklists: Worklists
    templates: Environment

    @property
    def wb(self) -> dict:
        return self.settings["workbench"]

    def render(self, name: str, request: Request, status_code: int = 200, **context) -> HTMLResponse:
        session = getattr(request.state, "session", None)
        user = self.users.get(session.user) if session and session.user else None
        html = self.templates.get_template(name).render(
            css=Markup(_CSS), user=user, csrf=session.csrf if session else "", **context)
        return HTMLResponse(html, status_code=status_code)


def url(*parts: object) -> str:
    """An absolute path from segments, each quoted whole (an id never becomes a path)."""
    return "/" + "/".join(quote(str(p), safe="") for p in parts)


def _num(value, decimals: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{value:,.{decimals}f}"


def _money(value) -> str:
    return _num(value, 2)


def _pct(value) -> str:
    return "no inspection yet" if value is None else f"{100 * value:.1f}%"


def make_templates() -> Environment:
    env = Environment(loader=PackageLoader("pipelines.workbench", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False,
                      finalize=lambda value: "" if value is None else value)  # a missing value shows empty, not "None"
    env.globals.update(url=url, num=_num, money=_money, pct=_pct)
    return env


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the address that
    proxy appended last to X-Forwarded-For (earlier entries are the client's own claims)."""
    peer = request.client.host if request.client else ""
    if peer in trusted_proxies:
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        if hops:
            return hops[-1]
    return peer


def forbidden(message: str) -> HTTPException:
    return HTTPException(403, message)
