"""Importing the very same file again, in one query: the files imported whole are remembered.

An import that accounted for every feature of its file by import key (each one made, or
found already stored under its key; none refused, none a duplicate, none left out) writes
one row here, in its own transaction: the file's SHA-256, a fingerprint of everything else
its plan depended on, and the keys of all its features. When a file with the same SHA-256
comes again under the same fingerprint, and every one of those keys is still carried by an
annotation (deleted ones too, as the whole plan's `stored_keys` finds them), the plan the
import would make is known without reading the file: nothing to make, every feature already
imported, nothing refused. One query checks the keys.

The fingerprint holds the file's name (a GeoJSON file's layer is named after it), the
import's options (image, label field, label map), every catalogued image with its footprint
(another image may make a feature's placement ambiguous, a new footprint may leave it
outside), and the taxonomy's label ids (a label gone makes a feature invalid). Anything that
changes it, any key no longer stored (an annotation purged), or another SHA-256 (an edited
file) sends the import through the whole plan, feature by feature. STAC items are never
remembered: the files they link to are not part of the item's SHA-256."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import shapely
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from annotations.catalogue.images import list_images
from annotations.exchange.batch.tables import ImportedFile
from annotations.labels.taxonomy import Taxonomy

#: formats whose SHA-256 does not cover every byte the import reads
NOT_REMEMBERED = ("stac",)


def fingerprint(
    session: Session,
    name: str,
    image_id: str | None,
    label_field: str | None,
    label_map: dict[str, str],
    taxonomy: Taxonomy,
) -> str:
    """Everything besides the file's bytes that the plan of an import depends on."""
    digest = hashlib.sha256()
    options = {
        "name": name,
        "image_id": image_id or None,
        "label_field": label_field or None,
        "label_map": sorted(label_map.items()),
        "labels": [label.id for label in taxonomy],
    }
    digest.update(json.dumps(options, ensure_ascii=False).encode())
    for image in list_images(session):
        digest.update(f"\n{image.id}\n".encode())
        digest.update(shapely.to_wkb(image.footprint, output_dimension=2, byte_order=1))
    return digest.hexdigest()


def remembered(session: Session, sha256: str, print_: str) -> dict[str, Any] | None:
    """The summary of the plan of an import of this file (`remember`), when that import
    accounted for every feature by key and every one of those keys is still stored."""
    found = session.execute(
        select(ImportedFile.features, ImportedFile.summary_json, ImportedFile.keys).where(
            ImportedFile.sha256 == sha256, ImportedFile.fingerprint == print_
        )
    ).first()
    if found is None:
        return None
    features, summary_json, blob = found
    keys = [blob[i : i + 32].hex() for i in range(0, len(blob), 32)]
    if len(keys) != features or stored_count(session, keys) != features:
        return None
    summary: dict[str, Any] = json.loads(summary_json)
    return summary


def stored_count(session: Session, keys: list[str]) -> int:
    """How many annotations carry one of `keys` (distinct keys: the column is unique)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        found = connection.exec_driver_sql(
            "SELECT count(*) FROM annotations WHERE import_key IN (SELECT value FROM json_each(?))",
            (json.dumps(keys),),
        ).scalar_one()
    else:
        found = connection.exec_driver_sql(
            "SELECT count(*) FROM annotations WHERE import_key = ANY(string_to_array(%s, ','))",
            (",".join(keys),),
        ).scalar_one()
    return int(found)


def remember(
    session: Session,
    sha256: str,
    print_: str,
    summary: dict[str, Any],
    keys: Iterable[str],
    actor: str,
) -> None:
    """Write (or replace) the row of a file whose every feature has the key in `keys`."""
    # in order: the check then walks the key index from one end to the other
    blob = b"".join(bytes.fromhex(key) for key in sorted(keys))
    session.execute(
        delete(ImportedFile).where(
            ImportedFile.sha256 == sha256, ImportedFile.fingerprint == print_
        )
    )
    session.add(
        ImportedFile(
            sha256=sha256,
            fingerprint=print_,
            features=len(blob) // 32,
            summary_json=json.dumps(summary, ensure_ascii=False),
            keys=blob,
            imported_by=actor,
        )
    )
    session.flush()
