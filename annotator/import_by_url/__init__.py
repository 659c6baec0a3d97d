"""Import by URL over the API: `POST /api/v1/images` with a JSON body {"url": ...}, for
admins only (annotator.import_by_url.request)."""
