"""`annotator demo`: the synthetic Hmeimim scene and the demo accounts."""
