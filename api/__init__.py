"""The composition roots: the `wuye` command line and the HTTP server (API and pages)."""
