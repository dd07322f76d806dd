"""Marking texts for translation: `_("Sign in")` is a TranslationString of the `lps` domain, a plain
str to code that does not translate and the catalog's text on a staff screen (lps_core/screens/shell/i18n.py).
Services use it for messages that reach staff screens; `make catalogs` extracts the marked texts."""
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory("lps")
