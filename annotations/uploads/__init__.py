"""Uploads that arrive in pieces: resumable chunked uploads kept in the data folder's tmp
(chunks), and the sidecar files that travel with an image (sidecars). No Flask here."""
