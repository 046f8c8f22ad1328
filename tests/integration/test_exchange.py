"""Intelligence exchange end to end, through the real command line: administration A (Macao,
its own generated input root, a seizure recorded in its workbench) exports a package;
administration B (the trained workspace of the shared fixtures, on a copy of its input root)
imports it and scores with its champion through `shiprisk nightly`.

A party A seized, lodging with B the day after the import, rises in B's ranking; the entry
is held with the import day as its received_on, from which the features count it (that a
day before received_on is left unchanged is tests/unit/features/test_intelligence.py's
point-in-time test). A changed byte refuses a package, a bad row is quarantined alone, and a
re-import changes nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipelines.cli import main
from pipelines.exchange import package as pk
from tests.integration.conftest import LAST_DAY

pytestmark = pytest.mark.slow

A_START, A_DAYS = dt.date(2026, 6, 1), 20
A_FROM, A_TO = dt.date(2026, 6, 8), A_START + dt.timedelta(days=A_DAYS - 1)
SEIZED_ON = dt.date(2026, 6, 15)  # the day A's inspector records the seizure in the workbench


def _read(folder: Path) -> pd.DataFrame:
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False) if f.suffix == ".csv"
              else pd.read_parquet(f).astype(str) for f in sorted(folder.iterdir()) if not f.name.startswith((".", "_"))]
    return pd.concat(frames, ignore_index=True)


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _scores(workspace: str, day: dt.date) -> dict[str, tuple[float, int]]:
    frame = pd.read_parquet(Path(workspace) / "nights" / f"date={day}" / "scores")
    return {r.consignment_id: (r.score, r.rank) for r in frame.itertuples()}


def _nightly(root: Path, workspace: str, day: dt.date) -> dict[str, tuple[float, int]]:
    assert main(["nightly", "--input", str(root), "--workspace", workspace, "--date", day.isoformat()]) == 0
    return _scores(workspace, day)


def _shift_day(root: Path, source: dt.date, target: dt.date) -> None:
    """B's traffic of `source` lodged again on `target` (new ids: suffix -T), as CSV files."""
    m = _read(root / "manifests" / f"date={source}")
    d = _read(root / "declarations" / f"date={source}")
    m["consignment_id"] += "-T"
    m["departure_date"] = target.isoformat()
    d["consignment_id"] += "-T"
    d["declaration_id"] += "-T"
    d["lodged_at"] = target.isoformat() + d["lodged_at"].str.slice(10)
    for name, frame in (("manifests", m), ("declarations", d)):
        folder = root / name / f"date={target}"
        folder.mkdir(parents=True)
        frame.to_csv(folder / "part-0.csv", index=False)


def _administration_a(settings, tmp: Path, party: str) -> tuple[Path, Path, str]:
    """A's input root, with one consignment shipped by `party`, seized and recorded in A's workbench."""
    from pipelines.devtools.synthetic import generate
    from pipelines.io.workspace import Workspace
    from pipelines.workbench.store import ResultEntry, ResultStore

    root, workspace = tmp / "a_input", tmp / "a_ws"
    generate(str(root), A_START, A_DAYS, 150, 12, settings["synthetic"])
    lodged = SEIZED_ON - dt.timedelta(days=2)
    folder = root / "declarations" / f"date={lodged}"
    decl = _read(folder)
    target = decl["consignment_id"].iloc[0]
    decl.loc[decl["consignment_id"] == target, "exporter_id"] = party
    for f in folder.iterdir():
        f.unlink()
    decl.to_csv(folder / "part-0.csv", index=False)
    store = ResultStore.for_workspace(Workspace(str(workspace)), settings)
    store.record([ResultEntry(target, lodged.isoformat(), "HK-AIR", "RISK", "SEIZED", inspected_on=SEIZED_ON.isoformat(),
                              seized_items=40, brands_found="Acme <b>Watches</b>")], "inspector", "web")
    return root, workspace, target


def test_exchange_between_two_administrations(settings, trained, input_root, tmp_path):
    from pipelines.jobs.share import local_today

    # B: a copy of the trained workspace and of its input root (the shared fixtures stay as they are).
    b_root, b_ws = tmp_path / "b_input", str(tmp_path / "b_ws")
    shutil.copytree(input_root, b_root)
    shutil.copytree(trained, b_ws)
    b_last = _read(b_root / "declarations" / f"date={LAST_DAY}")
    party = sorted(b_last["exporter_id"])[0]
    shipped = sorted(b_last.loc[b_last["exporter_id"] == party, "consignment_id"])[0]
    a_root, a_ws, seized = _administration_a(settings, tmp_path, party)

    # 1. A exports the period: the workbench seizure names the party; consignment ids stay home.
    pkg = tmp_path / "drop" / "a_period"
    assert main(["share", "export", "--input", str(a_root), "--workspace", str(a_ws), "--from", A_FROM.isoformat(),
                 "--to", A_TO.isoformat(), "--source", "MO", "--out", str(pkg)]) == 0
    manifest, _ = pk.verify_package(pkg)
    entries = {(r["entity_type"], r["entity_id"]): r for r in _rows(pkg / pk.ENTRIES)}
    mine = entries[("EXPORTER", party)]
    assert (mine["source"], mine["listed_on"], mine["expires_on"], mine["received_on"]) == (
        "MO", SEIZED_ON.isoformat(), (SEIZED_ON + dt.timedelta(days=365)).isoformat(), "")
    assert "ACME <B>WATCHES</B>" in mine["note"] and "items=40" in mine["note"]  # the inspector's brands
    assert manifest["counts"]["entries"] == len(entries) and "consignment_id" in manifest["withheld_fields"]
    assert seized.encode() not in b"".join((pkg / n).read_bytes() for n in (pk.ENTRIES, pk.ALERTS, pk.BULLETIN))
    bulletin = (pkg / pk.BULLETIN).read_bytes()
    assert b"<B>" not in bulletin and b"ACME &lt;B&gt;WATCHES" in bulletin  # the inspector's markup is text

    # 2. The fast path: the one-seizure package of the same consignment, by the same code.
    one = tmp_path / "one_seizure"
    assert main(["share", "export", "--input", str(a_root), "--workspace", str(a_ws), "--from", A_FROM.isoformat(),
                 "--to", A_TO.isoformat(), "--source", "MO", "--out", str(one), "--consignment", seized]) == 0
    one_entries = _rows(one / pk.ENTRIES)
    assert ("EXPORTER", party) in {(r["entity_type"], r["entity_id"]) for r in one_entries}
    assert all(r["listed_on"] == SEIZED_ON.isoformat() and "seizures=1" in r["note"] for r in one_entries)
    assert pk.verify_package(one)[0]["counts"]["seizures"] == 1

    # 3. B scores the party's consignment lodged after the import day, before importing anything.
    import_day = local_today(settings)
    after = import_day + dt.timedelta(days=1)
    _shift_day(b_root, LAST_DAY, after)
    before_after = _nightly(b_root, b_ws, after)
    snapshot_files = sorted(p.name for p in (b_root / "intelligence").iterdir())

    # 4. Tampering with one byte: refused, exit 3, nothing written.
    bad = tmp_path / "tampered"
    shutil.copytree(pkg, bad)
    data = bytearray((bad / pk.ENTRIES).read_bytes())
    data[-5] ^= 0x01
    (bad / pk.ENTRIES).write_bytes(bytes(data))
    assert main(["share", "import", str(bad), "--source", "MO", "--intelligence-root", str(b_root)]) == 3
    assert sorted(p.name for p in (b_root / "intelligence").iterdir()) == snapshot_files
    assert not (b_root / "exchange" / "ledger.json").exists()

    # 5. A partner package with one bad row next to A's: that row is quarantined, the rest imported.
    partner = tmp_path / "drop" / "b_partner"
    partner.mkdir()
    good_row = ["CONSIGNEE", "MO-ONLY-1", "MO", "2026-06-20", "", "", "tip-off"]
    bad_row = ["CONSIGNEE", "MO-ONLY-2", "MO", "2026-13-45", "", "", "a month that does not exist"]
    pk.write_package(partner, {pk.ENTRIES: pk.csv_bytes(list(mine), [good_row, bad_row])},
                     {"package_id": "MO-partner", "source": "MO"})
    assert main(["share", "import", str(tmp_path / "drop"), "--source", "MO", "--intelligence-root", str(b_root)]) == 0
    snapshot = b_root / "intelligence" / "watchlist.csv"
    held = {(r["entity_type"], r["entity_id"], r["source"]): r for r in _rows(snapshot)}
    mine_held = held[("EXPORTER", party, "MO")]
    assert (mine_held["listed_on"], mine_held["received_on"]) == (SEIZED_ON.isoformat(), import_day.isoformat())
    assert mine_held["provenance"].startswith("MO:" + manifest["package_id"] + ":")
    assert ("CONSIGNEE", "MO-ONLY-1", "MO") in held and ("CONSIGNEE", "MO-ONLY-2", "MO") not in held
    quarantined = list((b_root / "exchange" / "quarantined").iterdir())
    assert [(r["entity_id"], r["reasons"]) for q in quarantined for r in _rows(q)] == [("MO-ONLY-2", "BAD_DATE")]

    # 6. Re-importing the drop folder changes nothing, byte for byte.
    digest = _digest(snapshot)
    assert main(["share", "import", str(tmp_path / "drop"), "--source", "MO", "--intelligence-root", str(b_root)]) == 0
    assert _digest(snapshot) == digest

    # 7. After the import: the party's consignment lodged after the import day rises.
    after_after = _nightly(b_root, b_ws, after)
    later = f"{shipped}-T"
    assert after_after[later][0] > before_after[later][0]
    assert after_after[later][1] < before_after[later][1]  # a better (smaller) rank
