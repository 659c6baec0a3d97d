"""Importing many features at once: the checks `parse_feature` makes of one Feature, made
on arrays of geometries (shapely 2) and on plain values, for the features that pass them
all. A feature any check would refuse is not judged here: the import hands it to the
one-by-one path, so every refusal keeps its exact reason and wording."""
