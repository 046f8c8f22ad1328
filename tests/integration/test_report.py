"""`shiprisk report` on the trained workspace: a self-contained page that renders in headless Chromium."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from pipelines.cli import main
from tests.integration.conftest import LAST_DAY, START

CHROMIUM = "/usr/bin/chromium"
SECTIONS = ["Seizures and hit rates by destination region", "By last transit hub", "By HS group",
            "Emerging routes and parties", "Model performance on the RANDOM control sample", "Drift of key features",
            "Selection mix", "Coverage of the lists by recorded results"]
PLOTS = 5


@pytest.fixture(scope="module")
def report_path(trained, input_root):
    assert main(["report", "--input", input_root, "--workspace", trained,
                 "--from", START.isoformat(), "--to", LAST_DAY.isoformat()]) == 0
    return Path(trained) / "reports" / f"trends_{START}_{LAST_DAY}.html"


@pytest.mark.slow
def test_report_is_self_contained_and_logged(report_path, trained, settings):
    html = report_path.read_text(encoding="utf-8")
    # Nothing is fetched: no remote (or any) stylesheet, script or frame, every image inline.
    assert not re.search(r"<(link|script|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:|//)""", html, re.I)
    assert not re.search(r"url\(|@import", html, re.I)
    sources = re.findall(r"<img [^>]*src=\"([^\"]*)\"", html)
    # Region, hub, HS group, drift, selection mix; no performance plot without a labelled RANDOM row.
    assert len(sources) == PLOTS and all(s.startswith("data:image/png;base64,") for s in sources)
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == SECTIONS
    # Nothing was recorded in this workspace's workbench: the coverage section says so.
    assert "No result was recorded in the inspector workbench of this workspace" in html
    # The trained workspace has one night of scores (LAST_DAY) and its RANDOM inspections
    # come days later, after the period's end: the report must say so, not invent a figure.
    assert f"nights with scores</th><td class=\"t\">{LAST_DAY}<" in html
    assert "No RANDOM inspection of a scored night has an outcome yet" in html

    from pipelines.io import tracking
    from pipelines.io.workspace import Workspace

    tracking.configure(settings, Workspace(trained))
    experiment = tracking.client().get_experiment_by_name(settings["report"]["experiment"])
    runs = tracking.client().search_runs([experiment.experiment_id], filter_string="tags.kind = 'report'")
    artifacts = [a.path for a in tracking.client().list_artifacts(runs[0].info.run_id, "report")]
    assert artifacts == [f"report/{report_path.name}"]


@pytest.mark.slow
def test_report_renders_in_headless_chromium(report_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is absent: `make test` installs Debian's chromium package (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page()
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
            page.on("request", lambda req: requests.append(req.url))
            page.goto(report_path.resolve().as_uri(), wait_until="load")
            images = page.evaluate("Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])")
            headings = page.evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")
        finally:
            browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert len(images) == PLOTS
    assert [alt for alt, complete, width, height in images if not (complete and width > 0 and height > 0)] == []
    assert headings == SECTIONS


def test_report_without_features_says_what_to_run(trained, input_root, capsys):
    code = main(["report", "--input", input_root, "--workspace", trained, "--from", "2027-01-01", "--to", "2027-01-07"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no features for 2027-01-01..2027-01-07" in err and "`shiprisk features`" in err


def test_hostile_text_is_escaped_and_neutralised():
    from pipelines.outputs import trend_report as report

    hostile = "<script>alert(1)</script>"
    frame = pd.DataFrame({"party_id": [hostile, "=HYPERLINK(\"http://x\")", "$\\alpha$"], "recent": [3, 2, 1]})
    trend = pd.DataFrame({"bucket": pd.to_datetime(["2026-06-01", "2026-06-08"]), "last_hub": [hostile, "$\\notacommand$"],
                          "seized": [1, 2]})
    section = {"title": f"Hubs {hostile}", "notes": [hostile],
               "plots": [(hostile, report.lines_png(trend, "last_hub", [("seized", "seizures")]))],
               "tables": [report.table(hostile, frame, ["party_id", "recent"])]}
    # Drawn as typed: as TeX, `$\notacommand$` would stop the report with a parse error.
    html = report.render_html(hostile, [("route", hostile)], [section])
    assert "<script" not in html
    # <title> and <h1>, overview, section heading, note, img alt, figure caption, table caption, cell.
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 9
    assert "&#39;=HYPERLINK(" in html  # a spreadsheet the table is pasted into would not run it
    assert "$\\alpha$" in html
