"""Properties and outlets, and the check that every outlet's formula is installed and configured."""
from sqlalchemy import inspect, insert, select, update

from lps_core.errors import ConfigurationError, Unprocessable
from lps_core.outlets.models import Outlet, Property
from lps_core.plugins import PluginError


def check_outlet_formulas(db, plugins):
    """Stop start-up, naming the outlet, if its formula is missing or its parameters are wrong."""
    if not inspect(db.connection()).has_table(Outlet.__tablename__):
        raise ConfigurationError("the database has no LPS schema yet: run `lps db upgrade` first")
    problems = []
    for outlet in db.scalars(select(Outlet).where(Outlet.active.is_(True)).order_by(Outlet.code)):
        try:
            plugins.formula(outlet.formula).validate_params(outlet.formula_params or {})
        except PluginError as exc:
            problems.append(f"outlet {outlet.code!r}: {exc}")
        except ValueError as exc:
            problems.append(f"outlet {outlet.code!r}: parameters of formula {outlet.formula!r} are invalid: {exc}")
    if problems:
        raise ConfigurationError("; ".join(problems))


def ensure_property(db, code, name, kind="hotel") -> int:
    property_id = db.scalar(select(Property.id).where(Property.code == code))
    if property_id is None:
        property_id = db.scalar(insert(Property).values(code=code, name=name, kind=kind).returning(Property.id))
    return property_id


def save_outlet(db, plugins, *, code, name, property_code, formula, params) -> int:
    """Create or update an outlet; the formula must be installed and accept the parameters."""
    try:
        cleaned = plugins.formula(formula).validate_params(params)
    except PluginError as exc:
        raise Unprocessable(str(exc), {"formula": "not installed"}) from None
    except ValueError as exc:
        raise Unprocessable(f"invalid parameters for {formula}: {exc}", {"formula_params": str(exc)}) from None
    property_id = db.scalar(select(Property.id).where(Property.code == property_code))
    if property_id is None:
        raise Unprocessable(f"property {property_code!r} does not exist", {"property": "no such property"})
    values = dict(name=name, property_id=property_id, formula=formula, formula_params=cleaned)
    outlet_id = db.scalar(select(Outlet.id).where(Outlet.code == code))
    if outlet_id is None:
        return db.scalar(insert(Outlet).values(code=code, active=True, **values).returning(Outlet.id))
    db.execute(update(Outlet).where(Outlet.id == outlet_id).values(**values))
    return outlet_id
