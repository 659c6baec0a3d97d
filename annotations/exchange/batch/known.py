"""Importing the same file again, key first: the features an import of this very file
(the same SHA-256) already made are found by their import key before any of their
properties are checked, and counted "already imported".

A feature counts as already made when an annotation carries the key it would get now
(a hash of its feature id, image and geometry), came from a file with the same SHA-256,
and has the label the import's label field and map give the feature now. Such a
feature's properties are the bytes that were checked when it was imported, so checking
them again would only say the same (unless the taxonomy has changed since). A file that
holds the same feature twice still reports the second as a duplicate: the import counts
the keys it meets in the file's order.

Any other feature, and so every feature of an edited file (another SHA-256), goes
through the whole plan: what an import of an edited file reports is unchanged. The
import looks for such features in its first batch, and only if it finds some there in
the rest of the file (one query: on PostgreSQL a query per batch was a scan of the table
each time), so a new file pays for one batch's lookup."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from annotations.exchange.batch.geometries import (
    ACCEPTED,
    geometry_array,
    normalise_many,
    one_parts,
)
from annotations.exchange.batch.lookups import labels_imported_from
from annotations.exchange.sources import SourceFeature

#: the image of each geometry, or None (as `Placement.place_many`)
PlaceMany = Callable[[np.ndarray, list[Any]], list[str | None]]
#: the import key of each (feature id, geometry, image id) (as `imports._keys`)
KeysOf = Callable[[list[str], np.ndarray, list[str]], list[str]]
#: the label id a feature gets now, or None when it gets none
LabelOf = Callable[[SourceFeature], str | None]


def already_made(
    session: Session,
    sha256: str,
    features: Sequence[SourceFeature],
    place_many: PlaceMany,
    keys_of: KeysOf,
    label_of: LabelOf,
) -> dict[int, str]:
    """Position in `features` -> import key, for each feature an import of this same file
    already made (see the module's text); the others are left out."""
    candidates = [
        position
        for position, feature in enumerate(features)
        if feature.problem is None and feature.geometry is not None
    ]
    if not candidates:
        return {}
    read = one_parts(geometry_array([features[i].geometry for i in candidates]))
    usable = np.isin(shapely.get_type_id(read), ACCEPTED) & ~shapely.is_empty(read)
    candidates = np.asarray(candidates)[usable].tolist()
    if not candidates:
        return {}
    try:
        geometries = normalise_many(read[usable])
    except shapely.errors.GEOSException:  # the whole plan says what is wrong with it
        return {}
    places = place_many(geometries, [features[i].properties.get("image_id") for i in candidates])
    placed = [slot for slot, image_id in enumerate(places) if image_id is not None]
    keys = keys_of(
        [features[candidates[slot]].feature_id for slot in placed],
        geometries[placed],
        [str(places[slot]) for slot in placed],
    )
    labels = labels_imported_from(session, keys, sha256)
    found: dict[int, str] = {}
    for slot, key in zip(placed, keys, strict=True):
        label = labels.get(key)
        if label is not None and label == label_of(features[candidates[slot]]):
            found[candidates[slot]] = key
    return found
