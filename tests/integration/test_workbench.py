"""The inspector workbench, end to end: the real server (uvicorn on a free loopback port) on a
temporary workspace with a night's worklist and a real SQLite results store, driven by Debian's
headless chromium through Playwright. Each route is also called by a user who may not."""
from __future__ import annotations

import copy
import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from pipelines.devtools.workbench_bench import write_worklist

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
DAY = (dt.date.today() - dt.timedelta(days=2)).isoformat()
KC, AIR = "KWAI_CHUNG", "HKAIR"
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x","y")'
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22", "carol": "carol-password-333"}


def _row(office: str, cid: str, lane: str, rank: int, basis: str | None, reasons: list[str], goods: str, **extra) -> dict:
    row = {
        "list_date": DAY, "customs_office": office, "lane": lane, "rank_in_office": rank, "selection_basis": basis,
        "selection_reason": {"RANDOM": "RANDOM", "EXPLORATION": "EXPLORATION"}.get(basis, "RISK"),
        "score": 0.5, "score_adjusted": 0.6, "reasons": reasons, "consignment_id": cid, "declaration_ids": f"D-{cid}",
        "lodged_date": DAY, "transport_mode": "SEA", "exporter_id": "EX001", "consignor_id": "CR001",
        "consignee_id": "CE001", "forwarder_id": "FW001", "declarant_id": "DC001", "port_of_loading": "HKHKG",
        "route_ports": "AEJEA", "port_of_discharge": "NLRTM", "destination_country": "NL", "destination_region": "Europe",
        "goods_description": goods, "brands": "NIKE", "matched_brand": "NIKE", "package_count": 4,
        "gross_weight_kg": 120.5, "total_value_hkd": 5400.0,
        "items": [{"item_no": 1, "hs_code": "640411", "goods_description": goods, "brand": "NIKE", "quantity": 200.0,
                   "quantity_unit": "PRS", "declared_value": 690.0, "currency": "USD", "value_hkd": 5400.0}],
        "watchlist": [], "party_history": [], "model_version": "3"}
    return {**row, **extra}


# Written in shuffled order: the page must sort them (RED by rank, then AMBER by rank).
ROWS = [
    _row(KC, "CS-KC-AMB-2", "AMBER", 2, None, ["exporter first seen 4 days ago"], "cotton t-shirts"),
    _row(KC, "CS-KC-3", "RED", 3, "RANDOM", ["drawn at random for the control sample"], "toy figures"),
    _row(KC, "CS-KC-1", "RED", 1, "MODEL", ["consignee ships to 8 countries; typical consignees ship to 1-2",
                                            "declared unit value HK$ 12 is under a fifth of the genuine brand's lowest"],
         "sports shoes", watchlist=["consignee CE001 on the IP owners' watch list"],
         party_history=["forwarder FW001: 2 seizures in 365 days"]),
    _row(KC, "CS-KC-2", "RED", 2, "PROFILE", ["profile: leather goods to West Africa via Jebel Ali"], SCRIPT,
         brands=FORMULA, items=[{"item_no": 1, "hs_code": "420221", "goods_description": FORMULA, "brand": SCRIPT,
                                 "quantity": 5.0, "quantity_unit": "PCE", "declared_value": 10.0, "currency": "USD",
                                 "value_hkd": 78.0}]),
    _row(KC, "CS-KC-AMB-1", "AMBER", 1, None, ["route HKHKG via AEJEA to NLRTM seen 3 times in 90 days"], "perfume"),
    _row(AIR, "CS-AIR-1", "RED", 1, "MODEL", ["exporter first seen 2 days ago"], "wrist watches"),
    _row(AIR, "CS-AIR-2", "RED", 2, "RANDOM", ["drawn at random for the control sample"], "sunglasses"),
    _row(AIR, "CS-AIR-3", "RED", 3, "EXPLORATION", ["a route not seen in 90 days"], "headphones"),
    _row(AIR, "CS-AIR-AMB-1", "AMBER", 1, None, ["forwarder seized twice"], "phone cases"),
]


@pytest.fixture(scope="module")
def bench_settings(settings):
    from pipelines.workbench.auth import hash_password

    local = copy.deepcopy(settings)
    local["workbench"]["users"] = {
        "alice": {"offices": [KC], "password_hash": hash_password(PASSWORDS["alice"])},
        "bob": {"offices": [AIR], "password_hash": hash_password(PASSWORDS["bob"])},
        "carol": {"offices": [AIR], "password_hash": hash_password(PASSWORDS["carol"])},
    }
    return local


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from pipelines.io.workspace import Workspace

    ws = Workspace(str(tmp_path_factory.mktemp("workbench")))
    write_worklist(ws.worklist(DAY), ROWS)
    return ws


@pytest.fixture(scope="module")
def store(workspace, bench_settings):
    from pipelines.workbench.store import ResultStore

    return ResultStore.for_workspace(workspace, bench_settings)


def _serve(settings, workspace, **wb_overrides):
    from pipelines.workbench.app import create_app
    from pipelines.workbench.server import ServerThread

    local = copy.deepcopy(settings)
    local["workbench"].update(wb_overrides)
    return ServerThread(create_app(local, workspace))


@pytest.fixture(scope="module")
def base(bench_settings, workspace):
    with _serve(bench_settings, workspace) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: `make test` installs Debian's chromium package (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    ctx = browser.new_context()
    dialogs = []
    ctx.on("page", lambda page: page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss())))
    ctx.dialogs = dialogs
    yield ctx
    ctx.close()


def log_in(page, base: str, user: str, password: str | None = None):
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", password or PASSWORDS[user])
    with page.expect_navigation():
        page.click("button[type=submit]")
    return page


def csrf_of(page) -> str:
    return page.get_attribute("input[name=csrf_token]", "value")


def _texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


@pytest.mark.slow
def test_inspector_logs_in_records_a_seizure_corrects_it_and_logs_out(base, context, store):
    page = context.new_page()
    page.goto(f"{base}/o/{KC}/{DAY}")
    assert page.url == f"{base}/login"  # nobody signed in: to the login page
    log_in(page, base, "alice")
    assert page.url == f"{base}/"
    assert page.locator("h2").all_inner_texts() == [KC]  # only her office
    page.click(f"a[href='/o/{KC}/{DAY}']")
    assert page.url == f"{base}/o/{KC}/{DAY}"

    # RED list by rank, then the AMBER queue by rank; lane, basis and reasons per row.
    red = page.locator("#lane-RED tbody tr")
    assert red.evaluate_all("rows => rows.map(r => r.dataset.consignment)") == ["CS-KC-1", "CS-KC-2", "CS-KC-3"]
    assert page.locator("#lane-AMBER tbody tr").evaluate_all("rows => rows.map(r => r.dataset.consignment)") == [
        "CS-KC-AMB-1", "CS-KC-AMB-2"]
    assert _texts(page, "#lane-RED .basis") == ["MODEL", "PROFILE", "RANDOM"]
    assert _texts(page, "#lane-AMBER .basis") == ["document check", "document check"]
    assert _texts(page, "#lane-RED tbody tr:nth-child(1) .reasons li") == [
        "consignee ships to 8 countries; typical consignees ship to 1-2",
        "declared unit value HK$ 12 is under a fifth of the genuine brand's lowest"]
    assert _texts(page, "#lane-AMBER tbody tr:nth-child(1) .reasons li") == ["route HKHKG via AEJEA to NLRTM seen 3 times in 90 days"]
    # Only the RANDOM row is marked as the control sample.
    controls = page.locator("tr:has(.control)").evaluate_all("rows => rows.map(r => r.dataset.consignment)")
    assert controls == ["CS-KC-3"]
    assert page.locator("tr[data-consignment='CS-KC-3'] .control").inner_text() == "control sample: inspect like any other"
    assert "CS-AIR-1" not in page.content()  # another office's rows never reach her page

    # The consignment page: why, watch list, history, items.
    page.click("a:text-is('CS-KC-1')")
    assert _texts(page, "#watchlist li") == ["consignee CE001 on the IP owners' watch list"]
    assert _texts(page, "#party-history li") == ["forwarder FW001: 2 seizures in 365 days"]
    assert page.locator("#route p").inner_text() == "HKHKG → AEJEA → NLRTM"
    assert page.locator("#items tbody tr").count() == 1

    # A SEIZED result without an inspection day is refused on the form, nothing recorded.
    page.select_option("#result", "SEIZED")
    page.fill("#seized_items", "12")
    with page.expect_navigation() as nav:
        page.click("form.result button[type=submit]")
    assert nav.value.status == 422
    assert "give the day of the inspection" in page.locator(".errors").inner_text()
    assert page.input_value("#seized_items") == "12"  # what was typed is kept
    assert store.history("CS-KC-1", DAY) == []

    page.fill("#inspected_on", DAY)
    page.fill("#seized_value_hkd", "3400")
    page.select_option("#infringement_type", "TRADEMARK")
    page.fill("#brands_found", "NIKE")
    page.fill("#note", "fake swooshes in carton 3")
    with page.expect_navigation():
        page.click("form.result button[type=submit]")
    assert page.locator(".flash").inner_text() == "Result saved as version 1."

    # A correction starts from the saved values and adds version 2.
    assert page.input_value("#seized_items") == "12"
    page.fill("#seized_items", "15")
    with page.expect_navigation():
        page.click("form.result button[type=submit]")
    assert page.locator(".flash").inner_text() == "Result saved as version 2."
    assert _texts(page, "#versions tbody tr td:first-child") == ["2", "1"]
    versions = store.history("CS-KC-1", DAY)
    assert [(v["version"], v["result"], v["seized_items"], v["recorded_by"], v["channel"]) for v in versions] == [
        (1, "SEIZED", 12, "alice", "web"), (2, "SEIZED", 15, "alice", "web")]
    assert versions[1]["selection_reason"] == "RISK" and versions[1]["seized_value_hkd"] == 3400.0
    assert versions[1]["office"] == KC and versions[1]["inspected_on"] == DAY

    page.goto(f"{base}/o/{KC}/{DAY}")
    assert page.locator("tr[data-consignment='CS-KC-1'] .result").inner_text() == "SEIZED"

    old_cookies = context.cookies()
    with page.expect_navigation():
        page.click("header button")  # log out
    assert page.url == f"{base}/login"
    page.goto(f"{base}/o/{KC}/{DAY}")
    assert page.url == f"{base}/login"
    # The session ended on the server: a copy of the old cookie is worth nothing.
    context.add_cookies(old_cookies)
    page.goto(f"{base}/o/{KC}/{DAY}")
    assert page.url == f"{base}/login"


@pytest.mark.slow
def test_another_offices_user_is_refused_everywhere(base, context, store):
    page = log_in(context.new_page(), base, "bob")
    assert page.goto(f"{base}/o/{AIR}/{DAY}").status == 200  # his own office: fine
    token = csrf_of(page)
    for path in (f"/o/{KC}/{DAY}", f"/o/{KC}/{DAY}/c/CS-KC-1", f"/o/{KC}/{DAY}/coverage"):
        response = page.goto(base + path)
        assert response.status == 403, path
        assert "not an inspector of office KWAI_CHUNG" in page.locator(".errors").inner_text()
        assert "sports shoes" not in page.content()
    form = {"csrf_token": token, "result": "CLEAN", "inspected_on": DAY}
    refused = context.request.post(f"{base}/o/{KC}/{DAY}/result/CS-KC-AMB-1", form=form, max_redirects=0)
    assert refused.status == 403
    # His own office's URL cannot reach another office's consignment either.
    assert context.request.post(f"{base}/o/{AIR}/{DAY}/result/CS-KC-AMB-1", form=form, max_redirects=0).status == 404
    assert page.goto(f"{base}/o/{AIR}/{DAY}/c/CS-KC-AMB-1").status == 404
    assert store.history("CS-KC-AMB-1", DAY) == []
    # The same request for his own office is recorded: the refusals above are about the office.
    done = context.request.post(f"{base}/o/{AIR}/{DAY}/result/CS-AIR-AMB-1", form=form, max_redirects=0)
    assert done.status == 303
    assert [v["recorded_by"] for v in store.history("CS-AIR-AMB-1", DAY)] == ["bob"]


@pytest.mark.slow
def test_nobody_signed_in_reaches_nothing(base, context, store):
    request = context.request
    for path in ("/", f"/o/{KC}/{DAY}", f"/o/{KC}/{DAY}/c/CS-KC-1", f"/o/{KC}/{DAY}/coverage"):
        response = request.get(base + path, max_redirects=0)
        assert (response.status, response.headers["location"]) == (303, "/login"), path
    response = request.post(f"{base}/o/{KC}/{DAY}/result/CS-KC-AMB-2", form={"result": "CLEAN", "inspected_on": DAY},
                            max_redirects=0)
    assert (response.status, response.headers["location"]) == (303, "/login")
    assert store.history("CS-KC-AMB-2", DAY) == []
    response = request.post(f"{base}/logout", form={}, max_redirects=0)
    assert (response.status, response.headers["location"]) == (303, "/login")
    assert request.get(f"{base}/healthz").text() == "ok"


@pytest.mark.slow
def test_a_post_without_the_sessions_csrf_token_is_refused(base, context, store):
    page = log_in(context.new_page(), base, "alice")
    page.goto(f"{base}/o/{KC}/{DAY}/c/CS-KC-AMB-2")
    token = csrf_of(page)
    target = f"{base}/o/{KC}/{DAY}/result/CS-KC-AMB-2"
    form = {"result": "CLEAN", "inspected_on": DAY}
    assert context.request.post(target, form=form, max_redirects=0).status == 403
    assert context.request.post(target, form={**form, "csrf_token": token[:-2] + "xx"}, max_redirects=0).status == 403
    assert store.history("CS-KC-AMB-2", DAY) == []
    # Another session's token is no good either.
    other = context.browser.new_context()
    try:
        other_page = other.new_page()
        other_page.goto(f"{base}/login")
        assert context.request.post(target, form={**form, "csrf_token": csrf_of(other_page)}, max_redirects=0).status == 403
        # A login form posted without its token is refused, whatever the password.
        login = other.request.post(f"{base}/login", form={"username": "alice", "password": PASSWORDS["alice"]},
                                   max_redirects=0)
        assert login.status == 403
    finally:
        other.close()
    # Log out needs the token too.
    assert context.request.post(f"{base}/logout", form={}, max_redirects=0).status == 403
    assert page.goto(f"{base}/o/{KC}/{DAY}").status == 200
    # With the session's token the same post is recorded.
    assert context.request.post(target, form={**form, "csrf_token": token}, max_redirects=0).status == 303
    assert [v["result"] for v in store.history("CS-KC-AMB-2", DAY)] == ["CLEAN"]


@pytest.mark.slow
def test_declared_text_stays_inert(base, context, store):
    page = log_in(context.new_page(), base, "alice")
    page.goto(f"{base}/o/{KC}/{DAY}")
    row = page.locator("tr[data-consignment='CS-KC-2']")
    assert row.locator(".goods").inner_text() == SCRIPT
    assert FORMULA in row.inner_text()
    page.goto(f"{base}/o/{KC}/{DAY}/c/CS-KC-2")
    assert page.locator("#goods p.goods").inner_text() == SCRIPT
    assert page.locator("#items tbody td:nth-child(3)").inner_text() == FORMULA
    assert page.locator("#items tbody td:nth-child(4)").inner_text() == SCRIPT
    # A note typed into the form is data too.
    note = '<img src=x onerror="alert(2)">' + SCRIPT
    page.fill("#inspected_on", DAY)
    page.select_option("#result", "CLEAN")
    page.fill("#note", note)
    with page.expect_navigation():
        page.click("form.result button[type=submit]")
    assert page.locator("#versions .pre").inner_text() == note
    page.reload()
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("img").count() == 0
    assert page.locator("a[href^='http']").count() == 0
    html = page.content()
    assert SCRIPT not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert context.dialogs == []
    assert store.history("CS-KC-2", DAY)[-1]["note"] == note


@pytest.mark.slow
def test_coverage_counts_the_list_and_flags_a_skipped_control_sample(base, context, store):
    from pipelines.workbench.store import ResultEntry

    store.record([ResultEntry("CS-AIR-1", DAY, AIR, "RISK", "SEIZED", inspected_on=DAY, seized_items=3),
                  ResultEntry("CS-AIR-3", DAY, AIR, "EXPLORATION", "CLEAN", inspected_on=DAY),
                  ResultEntry("CS-AIR-2", DAY, AIR, "RANDOM", "NOT_INSPECTED", not_inspected_reason="already departed")],
                 user="bob", channel="web")
    page = log_in(context.new_page(), base, "bob")
    page.goto(f"{base}/o/{AIR}/{DAY}/coverage")
    assert page.locator("#listed").inner_text() == "4"
    # CS-AIR-AMB-1 may hold bob's CLEAN from the office test when run in file order.
    with_result = len(store.current(AIR, DAY))
    assert page.locator("#with-result").inner_text() == str(with_result)
    assert page.locator("#random").inner_text() == "0 of 1"
    seized, inspected = 1, with_result - 1
    assert page.locator("#hit-rate").inner_text() == f"{100 * seized / inspected:.1f}%"
    assert "Control sample skipped: 1 RANDOM consignment(s) recorded NOT_INSPECTED (CS-AIR-2)" in page.locator("#skipped").inner_text()
    assert page.goto(f"{base}/o/{KC}/{DAY}/coverage").status == 403


@pytest.mark.slow
def test_failed_logins_are_limited_per_user_and_per_address(bench_settings, workspace, browser):
    # Own servers: the limit counts per client address, and every test comes from 127.0.0.1.
    for keyed_by, per_user, per_address in (("user", 3, 10), ("address", 10, 3)):
        with _serve(bench_settings, workspace, login_attempts=per_user, login_attempts_per_address=per_address) as url:
            ctx = browser.new_context()
            try:
                page = ctx.new_page()
                for attempt in range(3):
                    name = "carol" if keyed_by == "user" else f"nobody{attempt}"
                    page.goto(f"{url}/login")
                    page.fill("#username", name)
                    page.fill("#password", "wrong-password")
                    with page.expect_navigation() as nav:
                        page.click("button[type=submit]")
                    assert nav.value.status == 401
                    assert page.locator(".errors").inner_text() == "Wrong user name or password."
                page.goto(f"{url}/login")
                page.fill("#username", "carol")
                page.fill("#password", PASSWORDS["carol"])  # right, but too late
                with page.expect_navigation() as nav:
                    page.click("button[type=submit]")
                assert nav.value.status == 429, keyed_by
                assert "Too many failed logins" in page.locator(".errors").inner_text()
                assert page.goto(f"{url}/").url == f"{url}/login"
                if keyed_by == "user":  # another user from the same address still gets in
                    log_in(page, url, "bob")
                    assert page.url == f"{url}/"
            finally:
                ctx.close()


@pytest.mark.slow
def test_session_cookie_and_security_headers(base, context, bench_settings, workspace):
    page = context.new_page()
    response = page.goto(f"{base}/login")
    headers = response.headers
    assert headers["content-security-policy"].startswith("default-src 'self'; script-src 'none'; style-src 'sha256-")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert "server" not in headers
    log_in(page, base, "alice")
    cookie, = [c for c in context.cookies() if c["name"] == "shiprisk_session"]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Strict", False)
    assert page.evaluate("document.cookie") == ""  # out of reach of any script
    # Behind TLS: cookie_secure makes it Secure.
    with _serve(bench_settings, workspace, cookie_secure=True) as url:
        set_cookie = urllib.request.urlopen(f"{url}/login").headers["set-cookie"]
    assert set_cookie.startswith("__Host-shiprisk_session=")
    assert re.search(r"; HttpOnly", set_cookie, re.I) and re.search(r"; Secure", set_cookie, re.I)
    assert re.search(r"SameSite=strict", set_cookie, re.I)


def _get(url: str, headers: dict | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.geturl(), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.geturl(), exc.read().decode()


@pytest.mark.slow
def test_sso_header_is_honoured_only_when_configured_and_from_a_trusted_proxy(base, bench_settings, workspace):
    # Not configured (the default): the header means nothing.
    status, landed, _ = _get(f"{base}/o/{AIR}/{DAY}", {"X-Remote-User": "bob"})
    assert (status, landed) == (200, f"{base}/login")
    with _serve(bench_settings, workspace, sso_header="X-Remote-User") as url:  # no trusted proxy
        assert _get(f"{url}/o/{AIR}/{DAY}", {"X-Remote-User": "bob"})[:2] == (200, f"{url}/login")
    with _serve(bench_settings, workspace, sso_header="X-Remote-User", trusted_proxies=["127.0.0.1"]) as url:
        status, landed, html = _get(f"{url}/o/{AIR}/{DAY}", {"X-Remote-User": "bob"})
        assert (status, landed) == (200, f"{url}/o/{AIR}/{DAY}") and "CS-AIR-1" in html
        assert _get(f"{url}/o/{KC}/{DAY}", {"X-Remote-User": "bob"})[0] == 403  # offices still apply
        assert _get(f"{url}/", {"X-Remote-User": "mallory"})[0] == 403  # not a workbench user
    with _serve(bench_settings, workspace, sso_header="X-Remote-User", trusted_proxies=["10.0.0.1"]) as url:
        status, landed, _ = _get(f"{url}/o/{AIR}/{DAY}", {"X-Remote-User": "bob"})
        assert (status, landed) == (200, f"{url}/login")  # not from the trusted proxy


def _failed_login(url: str, user: str, forwarded_for: str) -> int:
    from pipelines.devtools.workbench_bench import _opener

    opener = _opener()
    page = opener.open(f"{url}/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": user, "password": "wrong-password"}).encode()
    try:
        opener.open(urllib.request.Request(f"{url}/login", data=body, headers={"X-Forwarded-For": forwarded_for}))
    except urllib.error.HTTPError as exc:
        return exc.code
    return 200


@pytest.mark.slow
def test_login_limits_count_the_client_behind_a_trusted_proxy(bench_settings, workspace):
    with _serve(bench_settings, workspace, trusted_proxies=["127.0.0.1"], login_attempts_per_address=2) as url:
        # The proxy appends the client's address; what the client claimed before it is ignored.
        assert [_failed_login(url, f"u{i}", "6.6.6.6, 10.1.1.1") for i in range(3)] == [401, 401, 429]
        assert _failed_login(url, "u9", "10.1.1.2") == 401  # another client behind the same proxy
    with _serve(bench_settings, workspace, login_attempts_per_address=2) as url:  # no trusted proxy
        # X-Forwarded-For from an untrusted peer is ignored: all three come from 127.0.0.1.
        assert [_failed_login(url, f"u{i}", f"10.1.1.{i}") for i in range(3)] == [401, 401, 429]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> list[str]:
    """Local addresses (hex, /proc/net/tcp*) listening on `port`."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.append(local.rsplit(":", 1)[0])
    return found


@pytest.mark.slow
def test_shiprisk_serve_binds_to_loopback_by_default(workspace, tmp_path):
    port = _free_port()
    env = {**os.environ, "SHIPRISK_WORKBENCH_SECRET": "s" * 40}
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "serve", "--workspace", workspace.root,
                             "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() is not None else "timeout"
                time.sleep(0.2)
        assert _listening(port) == ["0100007F"]  # 127.0.0.1 only
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "open http://127.0.0.1:" in err and "no user is configured" in err
