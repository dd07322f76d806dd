"""Receipt template "classic": an 80 mm receipt in the style of a hotel bill.

An example of the hook ``lps_receipt_templates``: the plugin names its template, and staff choose
it in an outlet's receipt layout (``PUT /api/v1/outlets/{code}/receipt-layout`` with
``{"paper": "80mm", "template": "classic"}``). The template reuses LPS's shared receipt parts
(``macros['bill']``, ``macros['tenders']``...) and lays the items out its own way.

Its labels are in LPS's receipt domain ``lps_receipts``; the few of its own are translated by the
catalogs under ``locale/``, which ``lps_includeme`` adds to LPS's (Pyramid merges one domain's catalogs).
"""
from lps_core.contract import hookimpl


@hookimpl
def lps_receipt_templates():
    return {"classic": "lps_receipt_classic:templates/classic.pt"}


@hookimpl
def lps_includeme(config):
    config.add_translation_dirs("lps_receipt_classic:locale/")
