"""The registry fails loudly when a family cannot be imported: features never vanish in silence."""
import pytest

from features import registry


def test_a_family_that_cannot_be_imported_is_an_error(monkeypatch):
    monkeypatch.setattr(registry, "FAMILY_MODULES", (*registry.FAMILY_MODULES, "features.renamed_family"))
    with pytest.raises(ImportError, match="feature family features.renamed_family cannot be imported"):
        registry.all_features()


def test_every_family_contributes_features():
    families = {f.family for f in registry.all_features()}
    assert len(families) == len(registry.FAMILY_MODULES)
