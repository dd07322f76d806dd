"""apikeys feature."""
