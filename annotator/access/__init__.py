"""Access for clients that cannot send headers: read-only keys, the page where users make and
revoke their own, and the WMTS capabilities that hand QGIS and GDAL a site's captures."""
