"""The batch folders: request files written whole and listed in a manifest of SHA-256 checksums
(the format of `sha256sum`, so the airline checks them with `sha256sum -c MANIFEST.sha256`), and
the airline's files read only when its own manifest lists them with a matching checksum, so that a
file still being copied is never half read."""
import csv
import fcntl
import hashlib
import io
import os
from contextlib import contextmanager
from pathlib import Path

MANIFEST = "MANIFEST.sha256"
LOCK = ".lock"


class ChecksumMismatch(Exception):
    """A file listed in the manifest whose content does not match its checksum (yet)."""


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def csv_bytes(header, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


@contextmanager
def locked(folder: Path):
    """One writer at a time in a folder, across processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write_atomically(path: Path, data: bytes):
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def read_manifest(folder: Path) -> dict[str, str]:
    """{file name: checksum} of a folder's manifest; empty when there is none."""
    path = folder / MANIFEST
    if not path.exists():
        return {}
    listed = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        checksum, _, name = line.strip().partition("  ")
        if checksum and name:
            listed[name.lstrip("*")] = checksum
    return listed


def publish(folder: Path, name: str, data: bytes) -> bool:
    """Write the file `name` and list it in the manifest, unless it is listed already (the request
    was sent before). True when it was written now."""
    with locked(folder):
        listed = read_manifest(folder)
        if name in listed:
            return False
        _write_atomically(folder / name, data)
        listed[name] = sha256_of(data)
        manifest = "".join(f"{checksum}  {listed_name}\n" for listed_name, checksum in sorted(listed.items()))
        _write_atomically(folder / MANIFEST, manifest.encode("utf-8"))
        return True


def listed_rows(folder: Path, prefix: str) -> list[dict]:
    """The rows of every CSV file named `<prefix>*.csv` that the folder's manifest lists, in name
    order; raises ChecksumMismatch when one does not match its checksum."""
    rows = []
    for name, checksum in sorted(read_manifest(folder).items()):
        if not (name.startswith(prefix) and name.endswith(".csv")):
            continue
        data = (folder / name).read_bytes() if (folder / name).exists() else b""
        if sha256_of(data) != checksum:
            raise ChecksumMismatch(name)
        rows.extend(dict(row, file=name) for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    return rows
