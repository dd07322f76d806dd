"""earning feature."""
