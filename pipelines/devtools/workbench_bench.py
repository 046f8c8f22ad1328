"""Response time of the inspector workbench's office list page.

    python -m pipelines.devtools.workbench_bench [--rows 500] [--requests 200]
    python -m pipelines.devtools.workbench_bench --screenshot docs/images/workbench-list.png

Builds a temporary workspace with one night's worklist (`--rows` rows for one office, RED and
AMBER, a tenth of them with a recorded result), starts the real server (uvicorn, loopback, in a
thread), logs in through the login form and times `--requests` sequential GETs of the list page
over HTTP. Prints median, p95 and max in milliseconds. Target: median under 300 ms for 500 rows.

`sample_rows` and `write_worklist` also serve the workbench tests: a worklist as the nightly
job writes it (schema pipelines.workbench.worklist.WORKLIST_SCHEMA).
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import http.cookiejar
import random
import re
import statistics
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

OFFICE, DAY = "KWAI_CHUNG", "2026-11-28"
GOODS = ["sports shoes", "leather handbags", "wrist watches", "mobile phone cases", "sunglasses", "perfume",
         "toy figures", "printer cartridges", "headphones", "t-shirts"]
BRANDS = ["NIKE", "GUCCI", "ROLEX", "APPLE", "RAY-BAN", "CHANEL", "LEGO", "HP", "SONY", "ADIDAS"]
REASONS = ["consignee ships to 8 countries; typical consignees ship to 1-2",
           "declared unit value HK$ 12 is under a fifth of the genuine brand's lowest (HK$ 380)",
           "route HKHKG via AEJEA to NLRTM seen 3 times in 90 days (typical routes: hundreds)",
           "exporter first seen 4 days ago", "forwarder's consignments seized 3 times in 365 days"]


def sample_rows(office: str, day: str, n: int, seed: int = 7, red: int | None = None) -> list[dict]:
    """`n` listed consignments of `office` on night `day`: the first `red` (default 60%) RED, in
    rank order, every tenth RED row RANDOM; the rest AMBER."""
    rng = random.Random(seed)
    red = int(n * 0.6) if red is None else red
    rows = []
    for i in range(n):
        lane = "RED" if i < red else "AMBER"
        basis = (("RANDOM" if i % 10 == 9 else ("PROFILE" if i % 3 == 0 else "MODEL")) if lane == "RED" else None)
        reason = {"RANDOM": "RANDOM", None: "RISK"}.get(basis, "RISK")
        goods, brand = rng.choice(GOODS), rng.choice(BRANDS)
        items = [{"item_no": k + 1, "hs_code": f"6403{k:02d}", "goods_description": f"{goods} model {k}", "brand": brand,
                  "quantity": float(rng.randint(10, 500)), "quantity_unit": "PCE", "declared_value": rng.uniform(100, 9000),
                  "currency": "USD", "value_hkd": rng.uniform(800, 70000)} for k in range(rng.randint(1, 4))]
        rows.append({
            "list_date": day, "customs_office": office, "lane": lane, "rank_in_office": i + 1 if lane == "RED" else i - red + 1,
            "selection_basis": basis, "selection_reason": reason, "score": rng.random(), "score_adjusted": rng.random(),
            "reasons": rng.sample(REASONS, 3) if basis != "RANDOM" else ["drawn at random for the control sample"],
            "consignment_id": f"CS{day.replace('-', '')}{office[:3]}{i:05d}", "declaration_ids": f"D{i:07d}",
            "lodged_date": day, "transport_mode": rng.choice(["SEA", "AIR", "LAND"]), "exporter_id": f"EX{i % 97:05d}",
            "consignor_id": f"CR{i % 89:05d}", "consignee_id": f"CE{i % 83:05d}", "forwarder_id": f"FW{i % 13:03d}",
            "declarant_id": f"DC{i % 11:03d}", "port_of_loading": "HKHKG", "route_ports": rng.choice(["", "AEJEA", "SGSIN;AEJEA"]),
            "port_of_discharge": rng.choice(["NLRTM", "USLAX", "DEHAM"]), "destination_country": "NL",
            "destination_region": "Europe", "goods_description": goods, "brands": brand, "matched_brand": brand,
            "package_count": rng.randint(1, 80), "gross_weight_kg": rng.uniform(5, 900),
            "total_value_hkd": sum(it["value_hkd"] for it in items), "items": items,
            "watchlist": ["consignee on the IP owners' watch list"] if i % 7 == 0 else [],
            "party_history": [f"forwarder FW{i % 13:03d}: 2 seizures in 365 days"] if i % 5 == 0 else [],
            "model_version": "3",
        })
    return rows


def write_worklist(path: str | Path, rows: list[dict]) -> None:
    """Write `rows` as a worklist Parquet file (the nightly job's schema)."""
    from pipelines.workbench.worklist import WORKLIST_SCHEMA

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=WORKLIST_SCHEMA), str(path))


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def login(opener: urllib.request.OpenerDirector, base: str, user: str, password: str) -> None:
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "username": user, "password": password}).encode()
    landed = opener.open(f"{base}/login", data=body)
    if landed.geturl().rstrip("/") != base:
        raise RuntimeError(f"login failed: landed on {landed.geturl()}")


def run_bench(rows: int, requests: int) -> dict:
    from pipelines.io.settings import load_settings
    from pipelines.io.workspace import Workspace
    from pipelines.workbench.app import create_app
    from pipelines.workbench.auth import hash_password
    from pipelines.workbench.server import ServerThread
    from pipelines.workbench.store import ResultEntry, ResultStore

    with tempfile.TemporaryDirectory(prefix="workbench-bench-") as root:
        ws = Workspace(root)
        listed = sample_rows(OFFICE, DAY, rows)
        write_worklist(ws.worklist(DAY), listed + sample_rows("HKAIR", DAY, 50, seed=3))
        settings = copy.deepcopy(load_settings())
        settings["workbench"]["users"] = {"bench": {"offices": [OFFICE], "password_hash": hash_password("bench-password")}}
        store = ResultStore.for_workspace(ws, settings)
        store.record([ResultEntry(r["consignment_id"], DAY, OFFICE, r["selection_reason"], "CLEAN", inspected_on=DAY)
                      for r in listed[::10]], user="bench", channel="web", today=dt.date.fromisoformat(DAY))
        with ServerThread(create_app(settings, ws)) as base:
            opener = _opener()
            login(opener, base, "bench", "bench-password")
            target = f"{base}/o/{OFFICE}/{DAY}"
            size = len(opener.open(target).read())  # warm: worklist read and cached, templates compiled
            timings = []
            for _ in range(requests):
                t0 = time.perf_counter()
                body = opener.open(target).read()
                timings.append((time.perf_counter() - t0) * 1000)
            assert len(body) == size
    timings.sort()
    return {"rows": rows, "requests": requests, "page_kb": round(size / 1024), "median_ms": statistics.median(timings),
            "p95_ms": timings[max(0, int(round(0.95 * len(timings))) - 1)], "max_ms": timings[-1]}


def take_screenshot(target: str, rows: int = 14, width: int = 1180) -> None:
    """The README's picture: a short office list in Debian's chromium (Playwright), tablet width."""
    from playwright.sync_api import sync_playwright

    from pipelines.io.settings import load_settings
    from pipelines.io.workspace import Workspace
    from pipelines.workbench.app import create_app
    from pipelines.workbench.auth import hash_password
    from pipelines.workbench.server import ServerThread
    from pipelines.workbench.store import ResultEntry, ResultStore

    with tempfile.TemporaryDirectory(prefix="workbench-shot-") as root:
        ws = Workspace(root)
        listed = sample_rows(OFFICE, DAY, rows, red=10)
        listed[2].update(selection_basis="RANDOM", selection_reason="RANDOM", reasons=["drawn at random for the control sample"])
        write_worklist(ws.worklist(DAY), listed)
        settings = copy.deepcopy(load_settings())
        settings["workbench"]["users"] = {"inspector": {"offices": [OFFICE], "password_hash": hash_password("demo-password")}}
        ResultStore.for_workspace(ws, settings).record(
            [ResultEntry(listed[0]["consignment_id"], DAY, OFFICE, "RISK", "SEIZED", inspected_on=DAY, seized_items=40,
                         seized_value_hkd=18000.0, infringement_type="TRADEMARK"),
             ResultEntry(listed[1]["consignment_id"], DAY, OFFICE, "RISK", "CLEAN", inspected_on=DAY)],
            user="inspector", channel="web", today=dt.date.fromisoformat(DAY))
        with ServerThread(create_app(settings, ws)) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            try:
                page = browser.new_page(viewport={"width": width, "height": 1000})
                page.goto(f"{base}/login")
                page.fill("#username", "inspector")
                page.fill("#password", "demo-password")
                with page.expect_navigation():
                    page.click("button[type=submit]")
                page.goto(f"{base}/o/{OFFICE}/{DAY}")
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=target, full_page=False)
            finally:
                browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500, help="rows of the office's list (default 500)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests (default 200)")
    parser.add_argument("--screenshot", metavar="PNG", help="instead: save a picture of a short list page to PNG")
    args = parser.parse_args(argv)
    if args.screenshot:
        take_screenshot(args.screenshot)
        print(f"wrote {args.screenshot}")
        return 0
    figures = run_bench(args.rows, args.requests)
    print(f"office list page, {figures['rows']} rows ({figures['page_kb']} KB), {figures['requests']} requests: "
          f"median {figures['median_ms']:.1f} ms, p95 {figures['p95_ms']:.1f} ms, max {figures['max_ms']:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
