from pathlib import Path

from features.docs import render_markdown
from features.registry import all_features

DOC = Path(__file__).resolve().parents[3] / "docs" / "features.md"


def test_docs_features_md_is_generated_from_the_registry():
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/features.md is out of date: run `.venv/bin/python -m features.docs > docs/features.md`")


def test_every_feature_is_documented_once():
    text = render_markdown()
    for feature in all_features():
        assert text.count(f"| `{feature.name}` |") == 1
