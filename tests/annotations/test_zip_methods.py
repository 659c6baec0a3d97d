"""Every zip the server reads from a user (an import's zip or KMZ, an evidence bundle) is read
only if its members are stored or deflated: Python's bzip2 and lzma readers inflate a whole read
at once, with no bound (4 KiB of bzip2 is gigabytes of zeros), whatever the headers declare."""

from __future__ import annotations

import bz2
import zipfile
from pathlib import Path

import pytest

from annotations.exchange.safety import UnsafeFile, extract_zip
from annotations.newsroom.bundle import verify_bundle


def test_bzip2_inflates_a_whole_read_at_once() -> None:
    """Why: the reader zipfile uses for bzip2 has no output bound per call."""
    compressed = bz2.compress(bytes(64 << 20), 9)
    assert len(compressed) < 4096
    assert len(bz2.BZ2Decompressor().decompress(compressed[:4096])) == 64 << 20


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_an_import_zip_of_another_method_is_refused(tmp_path: Path, method: int) -> None:
    archive = tmp_path / "layer.zip"
    with zipfile.ZipFile(archive, "w", compression=method) as out:
        out.writestr("layer.geojson", b'{"type": "FeatureCollection", "features": []}')
    with pytest.raises(UnsafeFile, match=f"'layer.geojson' is compressed with zip method {method}"):
        extract_zip(archive, tmp_path / "out", 1 << 30)
    assert not (tmp_path / "out" / "layer.geojson").exists()
    assert verify_bundle(archive)[0].startswith(f"layer.geojson: compression method {method}")


@pytest.mark.parametrize("method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_stored_and_deflated_zips_still_extract(tmp_path: Path, method: int) -> None:
    archive = tmp_path / "layer.zip"
    with zipfile.ZipFile(archive, "w", compression=method) as out:
        out.writestr("layer.geojson", b"{}")
    [written] = extract_zip(archive, tmp_path / "out", 1 << 30)
    assert written.read_bytes() == b"{}"
