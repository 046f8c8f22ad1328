"""An intelligence package on disk: its files, the manifest with their SHA-256 digests, and the
check a receiver runs before reading a byte of it.

    <package>/manifest.json            format, package id, source, period, counts, withheld
                                       fields, and {path: {sha256, bytes}} of every data file
    <package>/manifest.json.sha256     the manifest's own digest, `sha256sum -c` format
    <package>/intelligence/entries.csv proposed watch-list entries (the contract's columns)
    <package>/alerts.csv               route, hub and HS-group alerts
    <package>/bulletin.html            the same for people, self-contained

A changed byte anywhere is caught: a data file no longer matches the manifest, the manifest no
longer matches its digest file, and a changed digest file no longer matches the manifest. A
file the manifest does not list, a listed file that is missing, a path outside the package or a
symbolic link refuse the package too. This is integrity, not authenticity: whoever can write
the drop folder can write a consistent package (docs/operations.md, "Exchanging intelligence").
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path, PurePosixPath

from pipelines.errors import FeedError

FORMAT = "shiprisk-intelligence-package/1"
MANIFEST = "manifest.json"
MANIFEST_DIGEST = "manifest.json.sha256"
ENTRIES = "intelligence/entries.csv"
ALERTS = "alerts.csv"
BULLETIN = "bulletin.html"


class PackageError(FeedError):
    """A package that must not be imported; the message names the file and what is wrong."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def csv_bytes(columns: list[str], rows: list[list]) -> bytes:
    """RFC 4180 CSV, UTF-8, LF line ends, empty for None: the same rows give the same bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode("utf-8")


def write_package(folder: Path, files: dict[str, bytes], manifest: dict) -> str:
    """Write the files, then the manifest with their digests and its digest file; returns the
    package digest (SHA-256 of manifest.json). `folder` is a fresh staging folder."""
    listed = {}
    for name, data in sorted(files.items()):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        listed[name] = {"sha256": sha256_bytes(data), "bytes": len(data)}
    body = (json.dumps({"format": FORMAT, **manifest, "files": listed}, indent=2, sort_keys=True) + "\n").encode("utf-8")
    (folder / MANIFEST).write_bytes(body)
    digest = sha256_bytes(body)
    (folder / MANIFEST_DIGEST).write_text(f"{digest}  {MANIFEST}\n", encoding="ascii")
    return digest


def _inside(folder: Path, name: str) -> Path:
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts or "\\" in name:
        raise PackageError(f"{folder}: the manifest lists {name!r}, a path outside the package; refused, nothing imported")
    return folder.joinpath(*pure.parts)


def _files_in(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise PackageError(f"{path} is a symbolic link; a package holds plain files only: refused, nothing imported")
        if path.is_file():
            found.append(path.relative_to(folder).as_posix())
    return found


def verify_package(folder: Path) -> tuple[dict, str]:
    """(the manifest, the package digest) of a package whose every byte checks out; PackageError otherwise."""
    manifest_path, digest_path = folder / MANIFEST, folder / MANIFEST_DIGEST
    if not manifest_path.is_file() or not digest_path.is_file():
        raise PackageError(f"{folder} is not an intelligence package: it lacks {MANIFEST} or {MANIFEST_DIGEST}")
    body = manifest_path.read_bytes()
    digest = sha256_bytes(body)
    stated = digest_path.read_text(encoding="ascii", errors="replace").split()
    if stated != [digest, MANIFEST]:
        raise PackageError(f"{manifest_path}: its SHA-256 {digest} does not match {MANIFEST_DIGEST}; the package "
                           "was changed after it was made (or arrived damaged): refused, nothing imported. "
                           "Ask the sender to send it again")
    try:
        manifest = json.loads(body.decode("utf-8"))
    except ValueError as exc:
        raise PackageError(f"{manifest_path} is not JSON ({exc}): refused, nothing imported") from exc
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise PackageError(f"{manifest_path}: format {manifest.get('format')!r} is not {FORMAT}: refused, nothing imported")
    listed = manifest["files"]
    for name, facts in sorted(listed.items()):
        path = _inside(folder, name)
        if not path.is_file() or path.is_symlink():
            raise PackageError(f"{path}: listed in the manifest but missing: refused, nothing imported")
        found = sha256_file(path)
        if found != facts.get("sha256"):
            raise PackageError(f"{path}: SHA-256 {found} differs from the manifest's {facts.get('sha256')}; the file "
                               "was changed after the package was made (or arrived damaged): refused, nothing "
                               "imported. Ask the sender to send it again")
    extra = sorted(set(_files_in(folder)) - set(listed) - {MANIFEST, MANIFEST_DIGEST})
    if extra:
        raise PackageError(f"{folder / extra[0]}: not listed in the manifest ({len(extra)} such file(s)): refused, "
                           "nothing imported")
    if ENTRIES not in listed:
        raise PackageError(f"{folder}: the manifest lists no {ENTRIES}: refused, nothing imported")
    return manifest, digest
