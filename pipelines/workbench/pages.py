"""The workbench's routes. Each states who may call it:

    GET  /healthz                       anyone (no data)
    GET  /login, POST /login            anyone (POST needs the session's CSRF token; failures rate-limited)
    POST /logout                        a signed-in user (CSRF)
    GET  /                              a signed-in user: their offices and the nights with a list
    GET  /o/{office}/{day}              a user of `office`: the RED list and AMBER queue
    GET  /o/{office}/{day}/c/{id}       a user of `office`: one listed consignment, its result versions, the form
    POST /o/{office}/{day}/result/{id}  a user of `office` (CSRF): record a result (a correction is a new version)
    GET  /o/{office}/{day}/coverage     a user of `office`: how far the list is worked

A user of another office gets 403 before anything of the office is read; nobody signed in
is sent to the login page.
"""
from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from pipelines.workbench import auth
from pipelines.workbench.coverage import compute_coverage
from pipelines.workbench.forms import blank_form, entry_from_form, form_from_result
from pipelines.workbench.render import LoginRequired, Workbench, client_address, forbidden, url
from pipelines.workbench.store import INFRINGEMENT_TYPES, RESULTS, ResultError, check_entry
from pipelines.workbench.worklist import Night, parse_day

router = APIRouter()
log = logging.getLogger("shiprisk.serve")


def _wb(request: Request) -> Workbench:
    return request.app.state.wb


def current_user(request: Request) -> auth.User:
    session = request.state.session
    if session is None or not session.user:
        raise LoginRequired()
    user = _wb(request).users.get(session.user)
    if user is None:  # signed in through SSO but not a workbench user
        raise forbidden(f"{session.user} is not a workbench user; ask for an account with your office")
    return user


def office_user(request: Request, office: str) -> auth.User:
    user = current_user(request)
    if not user.may_see(office):
        raise forbidden(f"you are not an inspector of office {office}")
    return user


def night_of(request: Request, day: str) -> Night:
    night = _wb(request).worklists.night(day) if parse_day(day) == day else None
    if night is None:
        raise HTTPException(404, f"no worklist for night {day}")
    return night


async def check_csrf(request: Request) -> dict:
    """The posted form if it carries this session's CSRF token; 403 otherwise."""
    form = await request.form()
    if not auth.csrf_ok(request.state.session, form.get("csrf_token")):
        raise forbidden("the form's security token is missing or stale; reload the page and try again")
    return {key: value for key, value in form.items() if isinstance(value, str)}


def ensure_session(request: Request) -> auth.Session:
    if request.state.session is None:
        request.state.session = _wb(request).sessions.new()
    return request.state.session


@router.get("/healthz")
def healthz() -> Response:
    return PlainTextResponse("ok")


@router.get("/login")
def login_page(request: Request):
    session = request.state.session
    if session and session.user:
        return RedirectResponse("/", status_code=303)
    ensure_session(request)
    return _wb(request).render("login.html", request, error=None, username="")


@router.post("/login")
async def login(request: Request):
    wb = _wb(request)
    ensure_session(request)
    form = await check_csrf(request)
    name = (form.get("username") or "").strip()[:200]
    password = form.get("password") or ""
    peer = client_address(request, wb.wb.get("trusted_proxies") or [])
    keys = wb.limiter.keys(name, peer)
    wait = wb.limiter.attempt(keys)  # counted as a failure until the password proves right
    if wait:
        log.warning(f"login refused (rate limit) for user {name!r} from {peer}")
        return wb.render("login.html", request, 429, username=name,
                         error=f"Too many failed logins. Try again in {max(1, (wait + 59) // 60)} minute(s).")
    user = await run_in_threadpool(auth.check_password, wb.users, name, password[:1024])
    if user is None:
        log.warning(f"failed login for user {name!r} from {peer}")
        return wb.render("login.html", request, 401, username=name, error="Wrong user name or password.")
    wb.limiter.succeeded(keys)
    wb.sessions.drop(request.state.session)  # a new session id on login: no fixation
    request.state.session = wb.sessions.new(user=user.name)
    log.info(f"{user.name} logged in from {peer}")
    return RedirectResponse("/", status_code=303)


@router.post("/logout")
async def logout(request: Request):
    current_user(request)
    await check_csrf(request)
    _wb(request).sessions.drop(request.state.session)
    request.state.session = None
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def home(request: Request):
    user = current_user(request)
    wb = _wb(request)
    offices = sorted(user.offices)
    nights = wb.worklists.nights()[:30]
    counts = {}
    for day in nights:
        night = wb.worklists.night(day)
        for office in offices:
            rows = night.rows(office) if night else []
            counts[(office, day)] = (sum(r.get("lane") == "RED" for r in rows), sum(r.get("lane") == "AMBER" for r in rows))
    return wb.render("home.html", request, offices=offices, nights=nights, night_counts=counts)


def _current_results(wb: Workbench, office: str, day: str) -> dict[str, dict]:
    return {r["consignment_id"]: r for r in wb.store.current(office=office, list_date=day)}


@router.get("/o/{office}/{day}")
def office_list(request: Request, office: str, day: str):
    office_user(request, office)
    wb = _wb(request)
    rows = night_of(request, day).rows(office)
    results = _current_results(wb, office, day)
    others = [n for n in wb.worklists.nights()[:14] if n != day]
    return wb.render("list.html", request, office=office, day=day, results=results, others=others,
                     red=[r for r in rows if r.get("lane") == "RED"], amber=[r for r in rows if r.get("lane") == "AMBER"],
                     done=sum(1 for r in rows if r["consignment_id"] in results))


@router.get("/o/{office}/{day}/coverage")
def coverage_page(request: Request, office: str, day: str):
    office_user(request, office)
    wb = _wb(request)
    rows = night_of(request, day).rows(office)
    current = wb.store.current(office=office, list_date=day)
    return wb.render("coverage.html", request, office=office, day=day, cov=compute_coverage(rows, current),
                     results={r["consignment_id"]: r for r in current},
                     randoms=[r for r in rows if r.get("selection_basis") == "RANDOM"])


def _listed_row(request: Request, office: str, day: str, consignment_id: str) -> dict:
    row = night_of(request, day).row(office, consignment_id)
    if row is None:
        raise HTTPException(404, f"consignment {consignment_id} is not on the list of {office} for {day}")
    return row


def _consignment(request: Request, ctx: dict, status: int = 200):
    wb = _wb(request)
    row = ctx["row"]
    history = wb.store.history(row["consignment_id"], ctx["day"])
    form = ctx.get("form") or (form_from_result(history[-1]) if history else blank_form(result="SEIZED"))
    return wb.render("consignment.html", request, status, history=history, form=form,
                     result_choices=RESULTS, infringement_choices=INFRINGEMENT_TYPES,
                     **{k: v for k, v in ctx.items() if k != "form"})


@router.get("/o/{office}/{day}/c/{consignment_id:path}")
def consignment_page(request: Request, office: str, day: str, consignment_id: str, saved: int | None = None):
    office_user(request, office)
    row = _listed_row(request, office, day, consignment_id)
    return _consignment(request, {"office": office, "day": day, "row": row, "saved": saved, "errors": []})


@router.post("/o/{office}/{day}/result/{consignment_id:path}")
async def record_result(request: Request, office: str, day: str, consignment_id: str):
    user = office_user(request, office)
    form = await check_csrf(request)
    wb = _wb(request)
    row = _listed_row(request, office, day, consignment_id)
    entry, problems = entry_from_form(form, row, office, day)
    problems = problems or check_entry(entry, today=dt.date.today())
    ctx = {"office": office, "day": day, "row": row, "saved": None, "errors": problems, "form": blank_form(**form)}
    if not problems:
        try:
            versions = await run_in_threadpool(_record, wb, entry, user.name)
        except ResultError as exc:
            ctx["errors"] = [str(exc)]
        else:
            log.info(f"{user.name} recorded {entry.result} for {consignment_id} ({office}, {day}) as version {versions[0]}")
            return RedirectResponse(url("o", office, day, "c", consignment_id) + f"?saved={versions[0]}", status_code=303)
    return await run_in_threadpool(_consignment, request, ctx, 422)


def _record(wb: Workbench, entry, user: str) -> list[int]:
    try:
        return wb.store.record([entry], user=user, channel="web")
    except sa.exc.IntegrityError:  # another save of the same consignment took this version number
        return wb.store.record([entry], user=user, channel="web")
