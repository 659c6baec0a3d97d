"""GIS exchange: annotations out to the formats analysts use, and back in from them."""
