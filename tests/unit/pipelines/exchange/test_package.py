"""Intelligence packages on disk: every file's digest, and refusal of any changed byte."""
from __future__ import annotations

import json

import pytest

from pipelines.exchange import package as pk

FILES = {pk.ENTRIES: b"entity_type,entity_id,source,listed_on,expires_on,received_on,note\nEXPORTER,E1,MO,2026-06-01,,,x\n",
         pk.ALERTS: b"kind,key\n", pk.BULLETIN: b"<!doctype html><p>hi</p>"}


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "pkg"
    folder.mkdir()
    digest = pk.write_package(folder, FILES, {"package_id": "MO-1", "source": "MO"})
    return folder, digest


def test_written_package_verifies(package):
    folder, digest = package
    manifest, found = pk.verify_package(folder)
    assert found == digest == pk.sha256_file(folder / pk.MANIFEST)
    assert manifest["files"][pk.ENTRIES] == {"sha256": pk.sha256_bytes(FILES[pk.ENTRIES]), "bytes": len(FILES[pk.ENTRIES])}
    assert (folder / pk.MANIFEST_DIGEST).read_text() == f"{digest}  manifest.json\n"  # sha256sum -c format


@pytest.mark.parametrize("name", [pk.ENTRIES, pk.ALERTS, pk.BULLETIN, pk.MANIFEST, pk.MANIFEST_DIGEST])
def test_one_changed_byte_anywhere_refuses_the_package_naming_the_file(package, name):
    folder, _ = package
    path = folder / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(pk.PackageError) as refused:
        pk.verify_package(folder)
    named = {pk.MANIFEST_DIGEST: pk.MANIFEST}.get(name, name)  # a changed digest file no longer matches the manifest
    assert named in str(refused.value) and "refused" in str(refused.value)
    assert refused.value.exit_code == 3


def test_an_unlisted_file_a_missing_file_and_a_path_outside_refuse(package, tmp_path):
    folder, _ = package
    (folder / "intelligence" / "more.csv").write_text("x")
    with pytest.raises(pk.PackageError, match="more.csv: not listed"):
        pk.verify_package(folder)
    (folder / "intelligence" / "more.csv").unlink()
    (folder / pk.ALERTS).unlink()
    with pytest.raises(pk.PackageError, match="alerts.csv: listed in the manifest but missing"):
        pk.verify_package(folder)
    other = tmp_path / "evil"
    other.mkdir()
    pk.write_package(other, {pk.ENTRIES: b"x"}, {})
    manifest = json.loads((other / pk.MANIFEST).read_text())
    manifest["files"]["../outside.csv"] = {"sha256": "0" * 64, "bytes": 1}
    body = json.dumps(manifest).encode()
    (other / pk.MANIFEST).write_bytes(body)
    (other / pk.MANIFEST_DIGEST).write_text(f"{pk.sha256_bytes(body)}  manifest.json\n")
    with pytest.raises(pk.PackageError, match="outside the package"):
        pk.verify_package(other)


def test_csv_bytes_are_deterministic_and_quoted():
    data = pk.csv_bytes(["a", "b"], [["x,y", None], ['say "hi"', "=1+1"]])
    assert data == b'a,b\n"x,y",\n"say ""hi""",=1+1\n'
