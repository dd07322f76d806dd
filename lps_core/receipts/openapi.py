"""The OpenAPI description of this feature's /api/v1 routes, merged into lps_core.api.openapi.DOCUMENT."""

PATHS = {}
SCHEMAS = {}
