"""The HTML inspection list of one office: readable on a tablet at the dock, printable on A4.

One row per consignment in five columns, so no cell is squeezed to a word per line: rank and
how it was selected (compact), the reasons as a bullet list (wide), the goods, the route, and
the identifiers (compact, small type). The RED list comes first, the AMBER document-check queue
after it. RANDOM rows say "control sample: inspect like any other". Self-contained: inline CSS
and a small sorting script holding no data; every value is escaped by Jinja2's autoescaping.
"""
from __future__ import annotations

import pandas as pd

CONTROL_SAMPLE = "control sample: inspect like any other"
GOODS = (("brands", "Declared brands"), ("matched_brand", "Recorded brand"), ("main_hs_code", "HS"),
         ("total_value_hkd", "Value HK$"), ("package_count", "Packages"), ("gross_weight_kg", "Gross kg"))
IDENTIFIERS = (("consignment_id", "Consignment"), ("declaration_ids", "Declarations"), ("lodged_date", "Lodged"),
               ("exporter_id", "Exporter"), ("consignor_id", "Consignor"), ("consignee_id", "Consignee"),
               ("forwarder_id", "Forwarder"), ("declarant_id", "Declarant"), ("score", "Model score"),
               ("score_adjusted", "Score after profiles"), ("profile_hits", "Profiles"),
               ("model_version", "Model version"))

HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,"Segoe UI","Noto Sans","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1rem;font-size:15px;line-height:1.35}
table{border-collapse:collapse;width:100%;table-layout:fixed}
th,td{border:1px solid #bbb;padding:6px 8px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#eee;cursor:pointer;position:sticky;top:0}
th[aria-sort=ascending]::after{content:" \\25B2"} th[aria-sort=descending]::after{content:" \\25BC"}
col.rank{width:7em} col.why{width:36%} col.goods{width:21%} col.route{width:13%} col.ids{width:20%}
td.ids{font-size:12px;color:#333}
td ul{margin:0;padding-left:1.1em} td li{margin:0 0 .3em}
.num{font-variant-numeric:tabular-nums} .lane{display:inline-block;padding:1px 6px;border-radius:3px;font-weight:bold}
.lane-RED{background:#f6c6c6} .lane-AMBER{background:#fde3a7} .note{font-weight:bold;color:#7a4b00}
.label{color:#666}
@media (max-width:800px){col.why{width:45%} col.route{width:0} td.route,th.route{display:none}}
@media print{.noprint{display:none} th{position:static;cursor:auto} thead{display:table-header-group}
tr{break-inside:avoid} body{margin:0;font-size:9pt} @page{size:A4 landscape;margin:8mm}}
</style></head><body>
<h1>{{ title }}</h1>
<p>{{ summary }}</p>
<p class="noprint">Click a column header to sort. Print for a paper copy.</p>
{% for section in sections %}<h2>{{ section.heading }}</h2>
{% if section.rows %}<table class="sortable"><colgroup><col class="rank"><col class="why"><col class="goods"><col class="route"><col class="ids"></colgroup>
<thead><tr><th scope="col" data-num="1">Rank</th><th scope="col" data-num="0">Why</th><th scope="col" data-num="0">Goods</th><th scope="col" class="route" data-num="0">Route</th><th scope="col" data-num="0">Identifiers</th></tr></thead>
<tbody>
{% for row in section.rows %}<tr class="lane-row-{{ row.lane }}">
<td><span class="num">{{ row.rank }}</span> <span class="lane lane-{{ row.lane }}">{{ row.lane }}</span><br>{{ row.basis }}{% if row.control %}<br><span class="note">{{ control_sample }}</span>{% endif %}</td>
<td><ul>{% for reason in row.reasons %}<li>{{ reason }}</li>{% endfor %}</ul></td>
<td class="goods"><strong>{{ row.goods }}</strong>{% for label, value in row.goods_facts %}<div><span class="label">{{ label }}:</span> {{ value }}</div>{% endfor %}</td>
<td class="route">{{ row.route }}{% if row.destination %}<br><span class="label">Destination:</span> {{ row.destination }}{% endif %}{% if row.mode %}<br><span class="label">Mode:</span> {{ row.mode }}{% endif %}</td>
<td class="ids">{% for label, value in row.ids %}<div><span class="label">{{ label }}:</span> {{ value }}</div>{% endfor %}</td>
</tr>
{% endfor %}</tbody></table>
{% else %}<p>{{ section.empty }}</p>{% endif %}
{% endfor %}<script>
(function () {
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (head, col) {
      head.addEventListener("click", function () {
        var numeric = head.getAttribute("data-num") === "1";
        var up = head.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        head.setAttribute("aria-sort", up ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].textContent, y = b.cells[col].textContent;
          var d = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
          return up ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
</script>
</body></html>
"""


def _page_rows(rows: list[dict[str, str]]) -> list[dict]:
    out = []
    for cells in rows:
        get = cells.get
        route = " \u2192 ".join(p for p in (get("port_of_loading"), get("route_ports"), get("port_of_discharge")) if p)
        out.append({
            "rank": get("rank_in_office", ""), "lane": get("lane", ""), "basis": get("selection_basis", ""),
            "control": get("selection_basis") == "RANDOM",
            "reasons": [get(f"reason_{i}") for i in (1, 2, 3) if get(f"reason_{i}")],
            "goods": get("main_goods_description", ""),
            "goods_facts": [(label, get(c)) for c, label in GOODS if get(c) and get(c) != "NONE"],
            "route": route, "destination": get("destination_country"), "mode": get("transport_mode"),
            "ids": [(label, get(c)) for c, label in IDENTIFIERS if get(c)],
        })
    return out


def _summary(red: pd.DataFrame, amber: pd.DataFrame) -> str:
    counts = red["selection_basis"].value_counts() if "selection_basis" in red else pd.Series(dtype=int)
    by_basis = ", ".join(f"{basis} {counts[basis]}" for basis in sorted(counts.index))
    versions = sorted({str(v) for part in (red, amber) for v in part.get("model_version", pd.Series(dtype=str)).dropna()})
    return (f"{len(red)} consignment(s) for physical inspection" + (f" ({by_basis})" if by_basis else "")
            + f", {len(amber)} for a document check"
            + (f". Model version {', '.join(versions)}." if versions else "."))


def render_html(title: str, red: pd.DataFrame, amber: pd.DataFrame, cells: tuple[list[dict], list[dict]]) -> str:
    """A self-contained page: inline CSS and JS, every value escaped by Jinja2. `cells`: the RED
    and AMBER rows as {column: text} (pipelines.outputs.lists.cells_of)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    sections = [
        {"heading": "RED: physical inspection", "rows": _page_rows(cells[0]),
         "empty": "No consignment is listed for this office on this date."},
        {"heading": "AMBER: document checks", "rows": _page_rows(cells[1]),
         "empty": "No consignment is queued for a document check."},
    ]
    return env.from_string(HTML_PAGE).render(title=title, summary=_summary(red, amber), sections=sections,
                                             control_sample=CONTROL_SAMPLE)
