"""De-duplication of watch-list entries: what `share import` does to the snapshot, as pure Python.

Rows are dicts of text (the snapshot's CSV cells, "" for empty). Two rules:

* Same party, role and source (entity_type, entity_id, source): one row per listing period.
  An incoming entry is merged with every held entry of the same key whose period overlaps or
  touches its own; the merged row keeps the earliest listed_on, the latest expires_on (empty =
  open wins) and, as received_on, the first day any of its parts counted here (the earliest
  later-of-listed_on-and-received_on). So a merge never makes an entry count earlier than a
  part of it did. Periods with a gap between them stay separate rows: merging them would list
  the party over the gap retroactively, a look-ahead into the days nobody had listed it.
* Same party and role from different sources: one row per source, both kept. The contract's
  `source` holds one code, and the features count distinct sources (watchlist_sources), so
  "both sources" is two rows, never one row with a combined code.

Notes are joined (distinct pieces, in order, " // "); `provenance` lists, sorted and distinct,
every package an entry came from (`<source>:<package id>:<digest prefix>`). Rows the import
does not touch are kept exactly as they were. The result is sorted, so the same inputs give the
same snapshot: re-importing a package changes nothing.
"""
from __future__ import annotations

import datetime as dt

CONTRACT = ("entity_type", "entity_id", "source", "listed_on", "expires_on", "received_on", "note")
PROVENANCE = "provenance"
NOTE_SEPARATOR = " // "
_OPEN = dt.date.max


def _day(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def period(row: dict) -> tuple[dt.date, dt.date] | None:
    """(first day it counts here, last day it counts) or None if its dates do not parse."""
    listed, received = _day(row.get("listed_on", "")), _day(row.get("received_on", ""))
    expires_text = row.get("expires_on", "")
    expires = _day(expires_text) if expires_text else _OPEN
    if listed is None or expires is None or (row.get("received_on") and received is None):
        return None
    return max(listed, received or listed), expires


def _touch(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> bool:
    def after(day: dt.date) -> dt.date:
        return day if day == _OPEN else day + dt.timedelta(days=1)

    return a[0] <= after(b[1]) and b[0] <= after(a[1])


def _joined(values: list[str], separator: str) -> str:
    pieces: list[str] = []
    for value in values:
        for piece in (value or "").split(separator):
            if piece and piece not in pieces:
                pieces.append(piece)
    return separator.join(pieces)


def merge_rows(rows: list[dict]) -> dict:
    """One row from overlapping rows of one key (see the module docstring)."""
    periods = [period(r) for r in rows]
    listed = min(_day(r["listed_on"]) for r in rows)
    last = max(p[1] for p in periods)
    merged = dict(rows[0])
    merged.update(
        listed_on=listed.isoformat(), expires_on="" if last == _OPEN else last.isoformat(),
        received_on=min(p[0] for p in periods).isoformat(),
        note=_joined([r.get("note", "") for r in rows], NOTE_SEPARATOR),
    )
    merged[PROVENANCE] = ";".join(sorted({p for r in rows for p in (r.get(PROVENANCE) or "").split(";") if p}))
    return merged


def _same(held: dict, merged: dict) -> bool:
    """The merge adds nothing to the held row: same period, listed_on, note and provenance."""
    return (period(held) == period(merged) and held["listed_on"] == merged["listed_on"]
            and held.get("note", "") == merged["note"] and held.get(PROVENANCE, "") == merged[PROVENANCE])


def _key(row: dict) -> tuple[str, str, str]:
    return row["entity_type"], row["entity_id"], row["source"]


def sort_key(row: dict) -> tuple:
    return tuple(row.get(c, "") for c in ("entity_type", "entity_id", "source", "listed_on", "expires_on",
                                          "received_on", "note", PROVENANCE))


def merge_entries(held: list[dict], incoming: list[dict]) -> tuple[list[dict], dict]:
    """(the new snapshot rows, sorted; counts: added, merged, unchanged). Incoming rows must parse
    (the import validated them); a held row whose dates do not parse is kept as it is, unmerged."""
    by_key: dict[tuple, list[dict]] = {}
    for row in held:
        by_key.setdefault(_key(row), []).append(row)
    counts = {"added": 0, "merged": 0, "unchanged": 0}
    for new in sorted(incoming, key=sort_key):
        group = by_key.setdefault(_key(new), [])
        span = period(new)
        overlapping = [r for r in group if period(r) is not None and _touch(period(r), span)]
        merged = merge_rows([*overlapping, new]) if overlapping else None
        if merged is not None and len(overlapping) == 1 and _same(overlapping[0], merged):
            counts["unchanged"] += 1  # already held as it is: keep the row's very text
        elif merged is not None:
            counts["merged"] += 1
            group[:] = [r for r in group if not any(r is o for o in overlapping)] + [merged]
        else:
            counts["added"] += 1
            group.append(dict(new))
    rows = sorted((r for group in by_key.values() for r in group), key=sort_key)
    return rows, counts
