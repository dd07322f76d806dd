"""Marking the portal's texts for translation in its own domain, `lps_portal`.

The catalog extractor files a text under a domain other than `lps` only when the call names that
domain, so Python code writes `dgettext("lps_portal", "...")` out in full."""
from pyramid.i18n import TranslationString

DOMAIN = "lps_portal"


def dgettext(domain, message, mapping=None) -> TranslationString:
    return TranslationString(message, domain=domain, mapping=mapping)
