"""Discussion: comment threads on annotations and claims, @mentions, the activity feeds of
sites and reports, and each person's inbox."""
