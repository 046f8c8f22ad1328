"""docs/features.md, generated from the registry (a test keeps the committed file in step).

Regenerate: `.venv/bin/python -m features.docs > docs/features.md`
"""
from __future__ import annotations

import sys

from features.registry import all_features, registry_version
from features.table import DEFAULTS, KEY_COLUMNS

FAMILY_INTRO = {
    "destination": "Where the goods are going (conf/reference/countries.csv).",
    "route": "How they travel there: transit ports, hubs and free-trade zones (conf/reference/ports.csv), "
             "the cross-boundary pattern, and look-back signals from daily route aggregates.",
    "commodity": "What is declared: HS groups (conf/reference/hs_groups.csv), recorded brands "
                 "(rights_holders), unit values in HKD per unit of sale (quantity units converted by "
                 "conf/reference/units.csv; count units only) against genuine prices and the trailing HS6 median.",
    "items": "Every goods item of the consignment, not only the highest-value one: brands named in each item's "
             "declared brand and description (English, Chinese, mixed), each branded item's unit value against the "
             "brand's lowest genuine price, vague descriptions on counterfeit-prone goods, and descriptions that "
             "contradict the HS code (conf/reference/product_terms.csv).",
    "party": "Who ships: history of each party role from daily party aggregates, including the persistent "
             "roles' recent and time-decayed records that survive a change of front exporter.",
    "intelligence": "Watch-list entries active on the lodging day.",
    "shape": "Mode, size and value of the consignment.",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    """The feature reference as Markdown, family by family in registry order."""
    features = all_features()
    lines = [
        "# Features",
        "",
        "Generated from the feature registry (`features/registry.py` and the family modules) by",
        "`python -m features.docs`; do not edit by hand. Registry version `" + registry_version() + "`.",
        "",
        f"The feature table has one row per consignment: {', '.join(f'`{k}`' for k in KEY_COLUMNS)} and the "
        f"{len(features)} features below. A consignment lodged on day D sees only consignments lodged before D,",
        "outcomes inspected before D and watch-list entries listed by D. Where a feature that is not",
        "nullable has no value, the table holds its default: "
        + ", ".join(f"{kind} `{value!r}`" for kind, value in DEFAULTS.items()) + ".",
        "",
    ]
    families = list(dict.fromkeys(f.family for f in features))
    for family in families:
        lines += [f"## {family}", "", FAMILY_INTRO.get(family, ""), "",
                  "| feature | type | kind | nullable | model input | window | sources | meaning |",
                  "|---|---|---|---|---|---|---|---|"]
        for f in (x for x in features if x.family == family):
            lines.append(
                f"| `{f.name}` | {f.dtype} | {f.kind} | {'yes' if f.nullable else 'no'} | "
                f"{'yes' if f.model_input else 'no'} | {_cell(f.window)} | {_cell(', '.join(f.sources))} | {_cell(f.meaning)} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(render_markdown())
