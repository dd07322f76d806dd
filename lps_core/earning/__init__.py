"""Earning: versioned rules per outlet, promotions, the points pipeline, bills and refunds."""
