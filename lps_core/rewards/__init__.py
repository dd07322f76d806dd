"""The rewards catalogue and redemption of points for rewards at the desk."""
