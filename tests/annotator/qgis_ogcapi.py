"""Run by Debian's Python with PyQGIS (python3-qgis), not the app's venv: add a collection of
/ogcapi as an OGC API - Features layer (QGIS's OAPIF provider) and say what QGIS sees.
QGIS signs in as a user would set it up: a read-only key as the password of the
connection's Basic authentication (any user name). Prints JSON on stdout.

    python3 qgis_ogcapi.py LANDING_URL COLLECTION KEY
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsVectorLayer


def main(url: str, collection: str, key: str) -> dict[str, Any]:
    source = f"url='{url}' typename='{collection}' username='qgis' password='{key}'"
    layer = QgsVectorLayer(source, collection, "OAPIF")
    features = list(layer.getFeatures()) if layer.isValid() else []
    return {
        "valid": layer.isValid(),
        "crs": layer.crs().authid(),
        "features": len(features),
        "fields": [field.name() for field in layer.fields()],
    }


if __name__ == "__main__":
    application = QgsApplication([], False)
    application.initQgis()
    try:
        print(json.dumps(main(*sys.argv[1:4])), flush=True)
    finally:
        application.exitQgis()
