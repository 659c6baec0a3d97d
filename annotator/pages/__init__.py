"""Pages for people: one blueprint per screen, rendered from templates/."""
