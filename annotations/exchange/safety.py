"""Checks on files that come from outside, made before GDAL or an XML parser opens them.

An import never opens a path or URL named inside the file, and extracts nothing outside
its own temporary folder: archive entries are checked from the central directory (names,
sizes, compression ratio) before one byte is written, and XML documents are refused if
they carry a DOCTYPE or an entity, so no external entity can be resolved.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import parse as parse_xml

from annotations.errors import InvalidInput, Malformed

CHUNK = 1024 * 1024
#: an archive entry may expand at most this many times (ZIP deflate reaches ~1000x only
#: on degenerate data, such as a zip bomb's runs of zeros; real GIS files stay far below)
MAX_RATIO = 100
MAX_ENTRIES = 10_000
#: the folder, inside an import's own, where an archive is unpacked
UNZIPPED = "unzipped"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$")


class UnsafeFile(InvalidInput):
    """An archive or document built to escape its folder, exhaust the disk, or read files."""


class UnreadableSource(InvalidInput):
    """A file of a known format that is corrupt or incomplete."""


class UnsupportedSource(Malformed):
    """A file whose format the import does not read."""


class SourceTooLarge(InvalidInput):
    """A file (or what an archive expands to) over the size limit."""


@dataclass(frozen=True)
class Staged:
    """A copy of the user's file in the import's own folder, under a name of ours."""

    path: Path
    sha256: str
    size: int


def check_regular_file(path: Path, max_bytes: int, shown: str | None = None) -> int:
    """The size of `path`, if it is a regular file within the limit; refused otherwise.
    Messages call the file `shown` (the name the user knows it by), else its path."""
    label = shown or str(path)
    try:
        info = path.stat()
    except OSError as exc:
        raise InvalidInput(f"{label}: {exc.strerror or 'cannot be read'}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise InvalidInput(f"{label} is not a regular file")
    if info.st_size > max_bytes:
        raise SourceTooLarge(
            f"{label} is {info.st_size / 1e6:.1f} MB, over the limit of {max_bytes / 1e6:.0f} MB"
        )
    if info.st_size == 0:
        raise UnreadableSource(f"{label} is empty")
    return info.st_size


def stage(
    source: IO[bytes], folder: Path, name: str, max_bytes: int, shown: str = "the file"
) -> Staged:
    """Copy a stream into `folder/name`, hashing it and stopping at `max_bytes`; messages
    call it `shown`, the name the user knows it by, never ours."""
    target = folder / name
    digest = hashlib.sha256()
    size = 0
    with target.open("xb") as out:
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > max_bytes:
                raise SourceTooLarge(f"{shown} is over the limit of {max_bytes / 1e6:.0f} MB")
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise UnreadableSource(f"{shown} is empty")
    return Staged(target, digest.hexdigest(), size)


def without_paths(text: str, folder: Path, shown: str) -> str:
    """`text` (a message from GDAL, SQLite or the OS) with every path inside `folder`, our
    private working folder, replaced by `shown`, the name the user sent; a file unpacked
    from their archive is called by its name in the archive."""

    def name(match: re.Match[str]) -> str:
        inside = match.group(1).lstrip("/")
        if inside.startswith(f"{UNZIPPED}/"):
            return inside.removeprefix(f"{UNZIPPED}/")
        return shown

    for base in dict.fromkeys((str(folder), str(folder.resolve()))):
        text = re.sub(re.escape(base) + r"""([^\s'",;:)]*)""", name, text)
    return text


#: a URL is a scheme and `://`; a CRS may name the OGC's own definitions by URL (GDAL and
#: PROJ read those without fetching), never anything else
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s\"'\]\[,)]*")
_OGC_CRS_URL = re.compile(r"^https?://www\.opengis\.net/(def/|gml/srs/)", re.IGNORECASE)


def refuse_urls(text: str, where: str) -> None:
    """Refuse a CRS (or other text GDAL or PROJ interprets) that names a URL: GDAL would
    fetch it (a GeoJSON `crs` link) or PROJ would (a grid named by URL)."""
    for match in _URL.finditer(text):
        if not _OGC_CRS_URL.match(match.group()):
            raise UnsafeFile(
                f"{where} names the URL {match.group()[:200]!r}; links are never followed. "
                "Give the CRS by its code (such as EPSG:3857) or its WKT"
            )


def extract_zip(archive: Path, folder: Path, max_bytes: int) -> list[Path]:
    """Extract every file of `archive` flat into `folder`, after checking all entries.

    Refused before anything is written: absolute names, `..`, drive letters or
    backslashes; links and devices; two entries with the same file name; more than
    MAX_ENTRIES entries; a declared total over `max_bytes`; an entry whose size over its
    compressed size exceeds MAX_RATIO (a zip bomb); compression other than stored or deflate
    (Python's bzip2 and lzma readers inflate a whole read at once, unbounded: 4 KiB of bzip2
    can be gigabytes, whatever the headers declare). While extracting, no entry may grow past
    the size it declared.
    """
    try:
        with zipfile.ZipFile(archive) as zipped:
            entries = [e for e in zipped.infolist() if not e.is_dir()]
            names = _check_entries(entries, max_bytes)
            folder.mkdir(parents=True, exist_ok=True)
            written: list[Path] = []
            for entry, name in zip(entries, names, strict=True):
                target = folder / name
                with zipped.open(entry) as source, target.open("xb") as out:
                    left = entry.file_size
                    while chunk := source.read(CHUNK):
                        left -= len(chunk)
                        if left < 0:
                            raise UnsafeFile(f"{entry.filename} expands past its declared size")
                        out.write(chunk)
                written.append(target)
            return written
    except zipfile.BadZipFile as exc:
        raise UnreadableSource(f"the zip archive is corrupt: {exc}") from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown compression
        raise UnreadableSource(f"the zip archive cannot be read: {exc}") from exc
    except (zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise UnreadableSource(f"the zip archive cannot be read: {exc}") from exc


def _check_entries(entries: list[zipfile.ZipInfo], max_bytes: int) -> list[str]:
    if len(entries) > MAX_ENTRIES:
        raise UnsafeFile(f"the zip holds {len(entries)} files, more than {MAX_ENTRIES}")
    total = 0
    names: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        raw = entry.filename
        pure = PurePosixPath(raw)
        if (
            raw.startswith(("/", "\\"))
            or "\\" in raw
            or ".." in pure.parts
            or re.match(r"^[A-Za-z]:", raw)
            or "\x00" in raw
        ):
            raise UnsafeFile(f"the zip holds {raw!r}, a path outside its own folder; refused")
        mode = entry.external_attr >> 16
        if mode and not (stat.S_ISREG(mode) or mode & 0o170000 == 0):
            raise UnsafeFile(f"the zip entry {raw!r} is a link or device, not a file; refused")
        name = pure.name
        if pure.parts and pure.parts[0] == "__MACOSX":
            name = f"__MACOSX-{len(names)}"  # Finder's resource forks: kept apart, never read
        elif not SAFE_NAME.match(name):
            raise UnsafeFile(f"the zip entry {raw!r} has a file name that is not allowed")
        if name.lower() in seen:
            raise UnsafeFile(f"the zip holds two files named {name!r}; keep one")
        seen.add(name.lower())
        if entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeFile(
                f"{raw!r} is compressed with zip method {entry.compress_type} (not deflate), "
                "whose reader cannot be bounded; refused. Zip it again with the usual (deflate) "
                "compression"
            )
        if entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            raise UnsafeFile(
                f"{raw!r} would expand {entry.file_size / max(entry.compress_size, 1):.0f} "
                f"times (over {MAX_RATIO}): a zip bomb? refused"
            )
        total += entry.file_size
        if total > max_bytes:
            raise UnsafeFile(f"the zip would expand to more than {max_bytes / 1e6:.0f} MB; refused")
        names.append(name)
    return names


def check_xml(path: Path) -> str:
    """Refuse any DOCTYPE, entity or external reference, and XML that is not well-formed;
    return the root element's local name. Nothing named in the document is opened."""
    try:
        tree = parse_xml(str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeFile(
            f"the XML declares a DOCTYPE or an entity ({type(exc).__name__}); such "
            "documents are refused, as they can make the reader fetch files or URLs"
        ) from exc
    except ParseError as exc:
        raise UnreadableSource(f"the XML is not well-formed: {exc}") from exc
    root = tree.getroot()
    tag = str(root.tag)
    return tag.rsplit("}", 1)[-1]


def xml_elements(path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Every element of a (checked) XML document: local name, text, attributes by local
    name."""
    tree = parse_xml(str(path), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    for element in tree.iter():
        attributes = {str(k).rsplit("}", 1)[-1]: str(v) for k, v in element.attrib.items()}
        yield str(element.tag).rsplit("}", 1)[-1], (element.text or "").strip(), attributes


def fresh_folder(parent: Path, prefix: str) -> Path:
    """A new private folder under `parent` (mode 700)."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
