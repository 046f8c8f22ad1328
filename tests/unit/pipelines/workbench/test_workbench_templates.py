"""The pages render a worklist row whose details are missing (nulls from the night's join)
without failing and without printing "None"; declared text is escaped."""
from __future__ import annotations

from markupsafe import Markup

from pipelines.workbench.coverage import compute_coverage
from pipelines.workbench.forms import blank_form
from pipelines.workbench.render import make_templates, url
from pipelines.workbench.worklist import index_rows

BARE = {"list_date": "2026-11-28", "customs_office": "KC", "lane": "AMBER", "rank_in_office": 1,
        "selection_basis": None, "selection_reason": "RISK", "consignment_id": "CS/1 x", "reasons": None,
        "goods_description": "<b>shoes</b>"}


def _render(name, **context):
    return make_templates().get_template(name).render(css=Markup(""), user=None, csrf="t", **context)


def test_a_row_with_null_details_renders_on_every_page():
    row = index_rows("2026-11-28", [dict(BARE)]).rows("KC")[0]
    listing = _render("list.html", office="KC", day="2026-11-28", results={}, others=[], red=[], amber=[row], done=0)
    page = _render("consignment.html", office="KC", day="2026-11-28", row=row, saved=None, errors=[], history=[],
                   form=blank_form(result="SEIZED"), result_choices=["SEIZED"], infringement_choices=["TRADEMARK"])
    coverage = _render("coverage.html", office="KC", day="2026-11-28", cov=compute_coverage([row], []), results={},
                       randoms=[])
    for html in (listing, page, coverage):
        assert "None" not in html
    assert "&lt;b&gt;shoes&lt;/b&gt;" in listing and "<b>shoes</b>" not in listing
    assert "document check" in listing
    assert 'href="/o/KC/2026-11-28/c/CS%2F1%20x"' in listing  # an id is one quoted path segment


def test_url_quotes_each_segment():
    assert url("o", "K C", "2026-11-28", "c", "../x?y#z") == "/o/K%20C/2026-11-28/c/..%2Fx%3Fy%23z"
