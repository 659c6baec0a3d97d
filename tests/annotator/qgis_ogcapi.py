"""Run by Debian's Python with PyQGIS (python3-qgis), not the app's venv: add a collection of
/ogcapi as an OGC API - Features layer (QGIS's OAPIF provider) and say what QGIS sees.
The browser session's cookie is put in QGIS's cookie jar, as a signed-in user's would be.
Prints JSON on stdout.

    python3 qgis_ogcapi.py LANDING_URL COLLECTION COOKIE_NAME COOKIE_VALUE
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import QgsApplication, QgsNetworkAccessManager, QgsVectorLayer
from qgis.PyQt.QtCore import QUrl
from qgis.PyQt.QtNetwork import QNetworkCookie


def main(url: str, collection: str, name: str, value: str) -> dict[str, Any]:
    jar = QgsNetworkAccessManager.instance().cookieJar()
    jar.setCookiesFromUrl([QNetworkCookie(name.encode(), value.encode())], QUrl(url))
    layer = QgsVectorLayer(
        f"url='{url}' typename='{collection}' pagingEnabled='true'", collection, "OAPIF"
    )
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
        print(json.dumps(main(*sys.argv[1:5])), flush=True)
    finally:
        application.exitQgis()
