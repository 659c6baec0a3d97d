"""Import by URL: a file at an http(s):// or s3:// address copied into a local folder
through GDAL's virtual file systems, in a child process (the app's own processes keep
GDAL offline, imagery.gdal)."""
