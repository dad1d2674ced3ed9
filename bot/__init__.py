"""Settings, app wiring, entry points and the command line."""
