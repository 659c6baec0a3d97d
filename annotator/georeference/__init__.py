"""Georeferencing press imagery (issue 14): a JPEG, PNG or WebP picture placed by control
points becomes a capture (COG) with its placement's error stated; the API's routes, the
job that warps, and the residuals and preview the control-point editor asks for."""
