"""Fixtures come from lps_core.testing (loaded with -p in pyproject.toml), shared with plugin suites."""
