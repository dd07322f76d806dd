"""What the API and the desk share to serve a receipt page: the Content-Security-Policy that lets it
show nothing but itself, and Chameleon's translate function for its template."""
from pyramid.i18n import TranslationString

# A receipt page runs no script and loads nothing but images (the outlet's logo).
RECEIPT_CSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'"


def receipt_translator(request):
    """Chameleon's translate function, answering from the catalogs of the request's language."""
    localizer = request.localizer

    def translate(msgid, domain=None, mapping=None, default=None, context=None, target_language=None):
        return localizer.translate(TranslationString(msgid, domain=domain, mapping=mapping, default=default))

    return translate
