"""What every benchmark shares, written once: timing and CPU-noise accounting (`timing`), the
machine and package versions (`system`), the servers and the HTTP client (`servers`), the
command line with its smoke mode (`options`) and the reports rendered from Jinja templates
(`report`)."""
