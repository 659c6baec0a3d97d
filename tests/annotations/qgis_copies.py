"""Run by Debian's Python with PyQGIS (python3-qgis), not the app's venv: open an export's
GeoPackage layers and Shapefile layers in QGIS, say what QGIS sees (CRS, geometry type, the
default style it loaded), and save each GeoPackage layer as QGIS does ("Export > Save
Features As") to a GeoPackage and a GeoJSON. Prints JSON on stdout.

    python3 qgis_copies.py EXPORT.gpkg SHAPEFILE_FOLDER OUTPUT_FOLDER
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsCoordinateTransformContext,
    QgsVectorFileWriter,
    QgsVectorLayer,
    QgsWkbTypes,
)


def seen(layer: QgsVectorLayer) -> dict[str, Any]:
    renderer = layer.renderer()
    categories = renderer.categories() if renderer.type() == "categorizedSymbol" else []
    return {
        "valid": layer.isValid(),
        "crs": layer.crs().authid(),
        "type": QgsWkbTypes.displayString(layer.wkbType()),
        "features": layer.featureCount(),
        "renderer": renderer.type(),
        "attribute": getattr(renderer, "classAttribute", lambda: "")(),
        "categories": {c.value(): c.symbol().color().name() for c in categories},
    }


def main(gpkg: Path, shapefiles: Path, out: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"gpkg": {}, "shp": {}, "copies": []}
    for name in ("annotations_points", "annotations_lines", "annotations_polygons"):
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        report["gpkg"][name] = seen(layer)
        for driver, extension in (("GPKG", ".gpkg"), ("GeoJSON", ".geojson")):
            options = QgsVectorFileWriter.SaveVectorOptions()
            options.driverName = driver
            target = out / f"qgis-{name}{extension}"
            error, message, _, _ = QgsVectorFileWriter.writeAsVectorFormatV3(
                layer, str(target), QgsCoordinateTransformContext(), options
            )
            if error != QgsVectorFileWriter.NoError:
                raise SystemExit(f"QGIS could not save {name} as {driver}: {message}")
            report["copies"].append(str(target))
    for shp in sorted(shapefiles.glob("*.shp")):
        report["shp"][shp.stem] = seen(QgsVectorLayer(str(shp), shp.stem, "ogr"))
    return report


if __name__ == "__main__":
    application = QgsApplication([], False)
    application.initQgis()
    try:
        found = main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
    finally:
        application.exitQgis()
    print(json.dumps(found))
