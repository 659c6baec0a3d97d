"""Sidecars travel with their image: which of the files sent together belong to which image,
and the names they get in the folder GDAL opens the image from.

A sidecar is a file named like its image (same stem) with one of the endings GDAL or a
vendor reads next to an image: an external mask (`scene.tif.msk`), PAM metadata
(`scene.tif.aux.xml`), a world file (`scene.tfw`, `.tifw`, `.wld`), a projection
(`scene.prj`), RPCs (`scene_rpc.txt`, `scene.RPB`) and vendor metadata (`scene.IMD`,
`scene.XML`, `scene.TIL`, DIMAP `.DIM`). Everything else sent is an image.

Nothing the client sends is used as a path: each image is stored as `<n><its extension>` and
each sidecar as `<n><what follows the image's stem in its name>`, both checked against a
short pattern, so `scene.tif` + `scene.tif.msk` + `scene.tfw` become `0.tif`, `0.tif.msk`
and `0.tfw`, side by side as GDAL expects them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

#: the endings a sidecar may have after its image's stem (case does not matter)
SIDECAR = re.compile(
    r"^(\.[A-Za-z0-9]{1,5})?"
    r"(\.msk|\.aux\.xml|\.tfw|\.tifw|\.tiffw|\.wld|\.prj|\.rpb|\.imd|\.xml|\.til|\.dim)$"
    r"|^_rpc\.txt$",
    re.IGNORECASE,
)
#: what is kept of an image's own extension (anything else is stored without one)
EXTENSION = re.compile(r"^\.[A-Za-z0-9]{1,5}$")


class SidecarError(ValueError):
    """A file that looks like a sidecar came without its image."""


@dataclass
class Placement:
    """One image of the batch: which of the sent files it is, the name the user knows it by,
    its stored name, and its sidecars as (index of the sent file, stored name)."""

    index: int
    name: str
    stored: str
    sidecars: list[tuple[int, str]] = field(default_factory=list)

    def stored_names(self) -> dict[int, str]:
        """Every file of the group: index of the sent file -> stored name."""
        return {self.index: self.stored, **dict(self.sidecars)}


def base_name(name: str) -> str:
    """The last component of a client's file name (browsers may send a path)."""
    last = re.split(r"[/\\]", name)[-1]
    return "".join(ch for ch in last if ch.isprintable()).strip()


def _stem_and_extension(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name, ""
    return stem, f".{ext}"


def sidecar_ending(name: str, stem: str) -> str | None:
    """What follows `stem` in `name` if `name` is a sidecar of an image with that stem."""
    if not stem or not name.startswith(stem):
        return None
    rest = name[len(stem) :]
    return rest if SIDECAR.match(rest) else None


def looks_like_sidecar(name: str) -> bool:
    return any(SIDECAR.match(name[i:]) for i in range(1, len(name)))


def place(names: Sequence[str]) -> list[Placement]:
    """Group the files sent together (their client names, in order) into images with their
    sidecars. A file is a sidecar when an image of the batch has its stem (the longest stem
    wins); a sidecar-looking file with no image is refused (SidecarError)."""
    clean = [base_name(n) for n in names]
    stems = {i: _stem_and_extension(n)[0] for i, n in enumerate(clean)}
    is_sidecar = {
        i
        for i, name in enumerate(clean)
        if any(sidecar_ending(name, stems[j]) for j in stems if j != i)
    }
    images = [i for i in range(len(clean)) if i not in is_sidecar]
    sidecar_of: dict[int, int] = {}
    for i in sorted(is_sidecar):
        owners = [j for j in images if sidecar_ending(clean[i], stems[j])]
        if not owners:
            raise SidecarError(f"{clean[i]} is a sidecar, but no image with its stem came with it")
        sidecar_of[i] = max(owners, key=lambda j: len(stems[j]))
    for i in images:
        if looks_like_sidecar(clean[i]) and not _is_image_name(clean[i]):
            raise SidecarError(
                f"{clean[i] or 'a file'} is a sidecar, but no image with its stem came with it"
            )
    placements: dict[int, Placement] = {}
    for number, i in enumerate(images):
        ext = _stem_and_extension(clean[i])[1]
        stored = f"{number}{ext if EXTENSION.match(ext) else '.tif'}"
        placements[i] = Placement(index=i, name=clean[i] or f"file #{i + 1}", stored=stored)
    for i, owner in sorted(sidecar_of.items()):
        ending = sidecar_ending(clean[i], stems[owner])
        assert ending is not None
        stored = f"{images.index(owner)}{ending}"
        if stored in placements[owner].stored_names().values():
            raise SidecarError(f"{clean[i]} was sent twice")
        placements[owner].sidecars.append((i, stored))
    return [placements[i] for i in images]


def _is_image_name(name: str) -> bool:
    ext = _stem_and_extension(name)[1].lower()
    return ext in {".tif", ".tiff", ".gtif", ".ntf", ".nitf", ".jp2", ".img"}
