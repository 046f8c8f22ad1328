"""The inspector workbench as an ASGI application: `create_app(settings, workspace)`.

Every request passes the session middleware (pipelines.workbench.auth: signed cookie, server-side
session, optional SSO header from a trusted proxy) and leaves with the security headers; errors
become HTML pages. The routes are in pipelines.workbench.pages.
"""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pipelines.io.workspace import Workspace
from pipelines.workbench import auth, pages
from pipelines.workbench.render import COOKIE, SECURE_COOKIE, SECURITY_HEADERS, LoginRequired, Workbench, make_templates
from pipelines.workbench.store import ResultStore
from pipelines.workbench.worklist import Worklists


def create_app(settings: dict, workspace: Workspace) -> FastAPI:
    wb = settings["workbench"]
    state = Workbench(
        settings=settings, users=auth.load_users(wb),
        sessions=auth.Sessions(auth.session_secret(workspace, wb), float(wb["session_hours"]) * 3600),
        limiter=auth.LoginLimiter(int(wb["login_attempts"]), int(wb["login_attempts_per_address"]),
                                  float(wb["login_window_seconds"])),
        store=ResultStore.for_workspace(workspace, settings), worklists=Worklists(workspace),
        templates=make_templates())
    app = FastAPI(title="shiprisk inspector workbench", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.wb = state
    app.include_router(pages.router)
    cookie = SECURE_COOKIE if wb["cookie_secure"] else COOKIE

    @app.middleware("http")
    async def sessions_and_headers(request: Request, call_next):
        loaded = state.sessions.get(request.cookies.get(cookie))
        request.state.session = _sso_session(state, request, loaded)
        response = await call_next(request)
        session = request.state.session
        if session is None and loaded is not None:
            response.delete_cookie(cookie, path="/", secure=bool(wb["cookie_secure"]), httponly=True, samesite="strict")
        elif session is not None and session is not loaded:
            response.set_cookie(cookie, state.sessions.cookie(session), max_age=int(float(wb["session_hours"]) * 3600),
                                path="/", secure=bool(wb["cookie_secure"]), httponly=True, samesite="strict")
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        titles = {403: "Forbidden", 404: "Not found", 405: "Method not allowed", 429: "Too many attempts"}
        return state.render("error.html", request, exc.status_code, status=exc.status_code,
                            title=titles.get(exc.status_code, "Error"), message=exc.detail)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        return state.render("error.html", request, 400, status=400, title="Bad request",
                            message="The request could not be read.")

    return app


def _sso_session(state: Workbench, request: Request, loaded: auth.Session | None) -> auth.Session | None:
    """With `sso_header` configured and the request coming from a trusted proxy, the header names
    the user; otherwise the header is ignored and the cookie's session stands."""
    header = state.wb.get("sso_header") or ""
    if not header:
        return loaded
    peer = request.client.host if request.client else ""
    name = request.headers.get(header)
    if not name or peer not in (state.wb.get("trusted_proxies") or []):
        return loaded
    if loaded is not None and loaded.user == name and loaded.via_sso:
        return loaded
    if loaded is not None:
        state.sessions.drop(loaded)
    return state.sessions.new(user=name, via_sso=True)


