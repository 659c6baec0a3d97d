"""Vendor formats through rasterio's GDAL: JPEG 2000 with a DIMAP file beside it (Pléiades,
SPOT), NITF with a WorldView .IMD and with the USE00A header extension; their capture
facts; and the safety rules (first bytes, one driver, no file or URL named inside a file
followed, hostile sidecars ignored)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.io import MemoryFile
from rasterio.shutil import copy
from shapely.geometry import box, shape

from imagery import gdal
from imagery.errors import NotAGeoTIFF
from imagery.georef.sidecars import find, parse_dimap, parse_imd
from imagery.ingest import ingest

TRANSFORM = Affine.translation(500000, 4000000) * Affine.scale(2, -2)
SIZE = 64

DIMAP = """<?xml version="1.0" encoding="UTF-8"?>
<Dimap_Document xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Metadata_Identification>
    <METADATA_FORMAT version="2.0">DIMAP</METADATA_FORMAT>
    <METADATA_PROFILE>PHR_SENSOR</METADATA_PROFILE>
  </Metadata_Identification>
  <Dataset_Identification>
    <DATASET_NAME>DS_PHR1A_201307161044255_FR1_PX_E014N37_0418_01234</DATASET_NAME>
  </Dataset_Identification>
  <Production>
    <JOB_ID>P1234567</JOB_ID>
    <PRODUCT_TYPE>SENSOR</PRODUCT_TYPE>
    <Producer_Information><PRODUCER_NAME>Airbus DS</PRODUCER_NAME></Producer_Information>
  </Production>
  <Dataset_Sources>
    <Source_Identification>
      <SOURCE_ID>DS_PHR1A_201307161044255</SOURCE_ID>
      <Strip_Source>
        <MISSION>PHR</MISSION>
        <MISSION_INDEX>1A</MISSION_INDEX>
        <INSTRUMENT>PHR</INSTRUMENT>
        <INSTRUMENT_INDEX>1A</INSTRUMENT_INDEX>
        <IMAGING_DATE>2013-07-16</IMAGING_DATE>
        <IMAGING_TIME>10:44:25.5Z</IMAGING_TIME>
      </Strip_Source>
    </Source_Identification>
  </Dataset_Sources>
  <Geometric_Data>
    <Use_Area>
      <Located_Geometric_Values>
        <LOCATION_TYPE>Center</LOCATION_TYPE>
        <TIME>2013-07-16T10:44:26.1Z</TIME>
        <Acquisition_Angles>
          <INCIDENCE_ANGLE unit="deg">15.24</INCIDENCE_ANGLE>
          <AZIMUTH_ANGLE unit="deg">180.1</AZIMUTH_ANGLE>
        </Acquisition_Angles>
        <Solar_Incidences>
          <SUN_AZIMUTH unit="deg">150.12</SUN_AZIMUTH>
          <SUN_ELEVATION unit="deg">62.31</SUN_ELEVATION>
        </Solar_Incidences>
      </Located_Geometric_Values>
    </Use_Area>
  </Geometric_Data>
</Dimap_Document>
"""

IMD = """version = "28.3";
generationTime = 2016-02-08T21:48:44.000000Z;
productOrderId = "056128839010_01_P001";
productCatalogId = "A0100100E1D1AF00";
imageDescriptor = "ORStandard2A";
bandId = "P";
numRows = 64;
numColumns = 64;
productLevel = "LV2A";
bitsPerPixel = 8;
BEGIN_GROUP = BAND_P
\tULLon = 9.00000000;
\tabsCalFactor = 5.678345e-02;
\teffectiveBandwidth = 2.846000e-01;
END_GROUP = BAND_P
outputFormat = "NITF21NCL";
BEGIN_GROUP = IMAGE_1
\tsatId = "WV03";
\tmode = "FullSwath";
\tscanDirection = "Reverse";
\tCatId = "104001001648F800";
\tfirstLineTime = 2016-01-29T07:43:57.447349Z;
\tavgLineRate = 10465.00;
\tmeanSunAz = 152.6;
\tminSunEl = 38.9;
\tmeanSunEl = 39.0;
\tmeanSatAz = 247.0;
\tmeanSatEl = 74.2;
\tmeanInTrackViewAngle = -7.3;
\tmeanCrossTrackViewAngle = 12.5;
\tmeanOffNadirViewAngle = 14.4;
\tcloudCover = 0.000;
END_GROUP = IMAGE_1
END;
"""

#: USE00A: angle to north, GSD, dynamic range, obliquity 21.30, roll, ... sun 45.2 / 150.7
USE00A = (
    "000"
    + "00.50"
    + " "
    + "00255"
    + " " * 7
    + "21.30"
    + "+003.1"
    + " " * 37
    + "00"
    + "00000"
    + "001"
    + "000000"
    + " " * 12
    + "045.2"
    + "150.7"
)


def raster(bands: int = 3) -> np.ndarray[Any, Any]:
    rows, cols = np.mgrid[0:SIZE, 0:SIZE]
    return np.stack(
        [(30 + (rows * 7 + cols * 3 + b * 40) % 200).astype("uint8") for b in range(bands)]
    )


def convert(path: Path, driver: str, bands: int = 3, **options: str) -> Path:
    with MemoryFile() as memory:
        with memory.open(
            driver="GTiff",
            width=SIZE,
            height=SIZE,
            count=bands,
            dtype="uint8",
            crs="EPSG:32633",
            transform=TRANSFORM,
        ) as dataset:
            dataset.write(raster(bands))
        with memory.open() as dataset:
            copy(dataset, path, driver=driver, **options)
    return path


def placed_exactly(footprint: dict[str, Any]) -> None:
    """The footprint is the source's extent: JPEG 2000 and NITF carry a plain geotransform
    here, so the only difference is the footprint's 1e-7 degree rounding."""
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:32633", "EPSG:4326", always_xy=True)
    west, south = to_wgs84.transform(500000, 4000000 - 2 * SIZE)
    east, north = to_wgs84.transform(500000 + 2 * SIZE, 4000000)
    outline = shape(footprint)
    assert outline.symmetric_difference(box(west, south, east, north)).area / outline.area < 0.01


def test_jpeg2000_with_dimap_beside_it(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    image = convert(
        folder / "IMG_PHR1A_PMS_001.JP2", "JP2OpenJPEG", QUALITY="100", REVERSIBLE="YES"
    )
    (folder / "DIM_PHR1A_PMS_001.XML").write_text(DIMAP)
    facts = ingest(image, tmp_path / "store")
    placed_exactly(facts.footprint)
    assert facts.georeferencing["text"] == "north-up geotransform"
    assert facts.acquisition == {
        "captured_at": "2013-07-16T10:44:25.5Z",
        "platform": "PHR 1A",
        "instrument": "PHR 1A",
        "provider": "Airbus DS",
        "off_nadir_deg": "15.24",
        "sun_azimuth_deg": "150.12",
        "sun_elevation_deg": "62.31",
        "source": "dimap",
    }
    assert facts.captured_at == datetime(2013, 7, 16, 10, 44, 25, 500000, tzinfo=UTC)
    assert facts.captured_source == "dimap"
    with rasterio.open(facts.cog_path) as cog:  # the pixels came through losslessly
        assert (cog.read() == raster()).all()


def test_nitf_with_imd_and_header(tmp_path: Path) -> None:
    image = convert(
        tmp_path / "16JAN29074357-P2AS-056128839010_01_P001.NTF",
        "NITF",
        bands=1,
        IDATIM="20160129074400",
        ISORCE="WV03",
        TRE=f"USE00A={USE00A}",
    )
    bare = ingest(image, tmp_path / "store-bare")
    assert bare.acquisition == {
        "captured_at": "2016-01-29T07:44:00Z",
        "platform": "WV03",
        "off_nadir_deg": "21.3",
        "sun_azimuth_deg": "150.7",
        "sun_elevation_deg": "45.2",
        "source": "nitf-header",
    }
    assert bare.captured_source == "nitf-header"
    placed_exactly(bare.footprint)
    # the .IMD is read first; the header fills in nothing it leaves open here
    image.with_suffix(".IMD").write_text(IMD)
    facts = ingest(image, tmp_path / "store")
    assert facts.acquisition == {
        "captured_at": "2016-01-29T07:43:57.447349Z",
        "platform": "WV03",
        "off_nadir_deg": "14.4",
        "sun_azimuth_deg": "152.6",
        "sun_elevation_deg": "39.0",
        "source": "imd, nitf-header",
    }
    assert facts.captured_at == datetime(2016, 1, 29, 7, 43, 57, 447349, tzinfo=UTC)


def test_a_time_the_user_gives_wins_over_the_vendors(tmp_path: Path) -> None:
    image = convert(tmp_path / "scene.ntf", "NITF", bands=1, IDATIM="20160129074400")
    given = datetime(2020, 5, 1, 12, 0, tzinfo=UTC)
    facts = ingest(image, tmp_path / "store", captured=given)
    assert (facts.captured_at, facts.captured_source) == (given, "user")
    assert facts.acquisition["captured_at"] == "2016-01-29T07:44:00Z"  # still kept


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "scene.ntf",
            b'<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand band="1">'
            b"<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource>"
            b"</VRTRasterBand></VRTDataset>",
        ),
        ("scene.jp2", b"/vsicurl/http://127.0.0.1:9/scene.tif"),
        ("scene.ntf", b"NITF02.10" + b"\x00" * 50),
        ("scene.jp2", b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00" * 40),
    ],
    ids=["vrt-named-ntf", "url-named-jp2", "nitf-header-only", "jp2-signature-only"],
)
def test_files_that_are_not_what_they_say_are_refused_in_one_line(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NotAGeoTIFF) as info:
        ingest(path, tmp_path / "store")
    assert "\n" not in str(info.value) and name in str(info.value)
    assert not list((tmp_path / "store").iterdir())


def test_a_jp2_naming_a_url_fetches_nothing(tmp_path: Path) -> None:
    """GMLJP2 may hold a GML document whose xlinks point anywhere: opened offline, GDAL
    asks for nothing (or is refused), and the image is placed by its own header."""
    gdal.go_offline()
    before = list(gdal.refused_urls)
    gml = (
        '<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml" '
        'xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<gml:featureMember xlink:href="http://127.0.0.1:9/remote.gml"/>'
        "</gml:FeatureCollection>"
    )
    image = convert(
        tmp_path / "scene.jp2",
        "JP2OpenJPEG",
        GMLJP2V2_DEF=(
            '{"root_instance": {"gml_filelist": [{"remote_resource": "http://127.0.0.1:9/x.gml"}],'
            f'"annotations": [], "metadata": ["{gml.replace(chr(34), chr(92) + chr(34))}"]}}}}'
        ),
        QUALITY="100",
        REVERSIBLE="YES",
    )
    facts = ingest(image, tmp_path / "store")
    placed_exactly(facts.footprint)
    assert all("127.0.0.1:9" in url for url in gdal.refused_urls[len(before) :])


def test_hostile_sidecars_are_ignored(tmp_path: Path) -> None:
    outside = tmp_path / "secret.IMD"
    outside.write_text(IMD)
    folder = tmp_path / "upload"
    folder.mkdir()
    image = convert(folder / "scene.tif", "GTiff")
    os.symlink(outside, folder / "scene.IMD")  # a link out of the folder
    (folder / "scene.XML").write_text(
        '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<Dimap_Document><MISSION>&x;</MISSION></Dimap_Document>"
    )
    assert find(image).imd is None
    assert parse_dimap((folder / "scene.XML").read_text()) == {}
    facts = ingest(image, tmp_path / "store")
    assert facts.acquisition == {}
    assert facts.captured_source == "unknown"


def test_imd_and_dimap_parsers_keep_only_numbers_for_angles() -> None:
    assert "off_nadir_deg" not in parse_imd('meanOffNadirViewAngle = "<script>";')
    assert parse_imd(IMD)["platform"] == "WV03"
    assert "sun_azimuth_deg" not in parse_dimap(DIMAP.replace("150.12", "east"))
