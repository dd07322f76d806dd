"""The outlet form of the configuration screens: creating an outlet, renaming it or moving it to
another property. Whether the code is taken and the property exists is the service's to say; the
earning rule's formula parameters are checked by the rule's own schema (lps_core.earning.rules)."""
from lps_core.validation import Code, LenientQuery, Text


class OutletForm(LenientQuery):
    """Renaming an outlet or moving it to another property."""

    name: Text(200)
    property: Code()


class NewOutletForm(OutletForm):
    code: Code()
    formula: Code(64)
