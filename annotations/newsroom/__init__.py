"""The newsroom: reports, claims, events, links, publishing and its outputs."""
