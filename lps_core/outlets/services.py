"""Properties and outlets, and the check that every outlet's formula is installed and configured."""
from sqlalchemy import inspect, insert, select, update

from lps_core.earning.models import EarningRule
from lps_core.earning.rules import add_rule_version, clean_rule, rules_of_outlet
from lps_core.errors import ConfigurationError, Unprocessable
from lps_core.outlets.models import Outlet, Property
from lps_core.plugins import PluginError


def check_outlet_formulas(db, plugins):
    """Stop start-up, naming the outlet, if a formula any of its rule versions uses is missing or
    rejects the parameters stored with it: a late bill may still be earned under an old version."""
    if not inspect(db.connection()).has_table(EarningRule.__tablename__):
        raise ConfigurationError("the database has no LPS schema yet (or an old one): run `lps db upgrade` first")
    problems = []
    rows = db.execute(
        select(Outlet.code, EarningRule.version, EarningRule.formula, EarningRule.formula_params)
        .join(EarningRule, EarningRule.outlet_id == Outlet.id)
        .where(Outlet.active.is_(True)).order_by(Outlet.code, EarningRule.version)
    )
    for code, version, formula, params in rows:
        try:
            plugins.formula(formula).validate_params(params or {})
        except PluginError as exc:
            problems.append(f"outlet {code!r} (rule version {version}): {exc}")
        except ValueError as exc:
            problems.append(f"outlet {code!r} (rule version {version}): parameters of formula {formula!r} "
                            f"are invalid: {exc}")
    if problems:
        raise ConfigurationError("; ".join(problems))


def ensure_property(db, code, name, kind="hotel") -> int:
    property_id = db.scalar(select(Property.id).where(Property.code == code))
    if property_id is None:
        property_id = db.scalar(insert(Property).values(code=code, name=name, kind=kind).returning(Property.id))
    return property_id


def save_outlet(db, plugins, *, code, name, property_code, formula, params, bands=None) -> int:
    """Create or rename an outlet, and give it a new earning-rule version, in force now, when its
    current rule differs from `formula`, `params` and `bands`."""
    property_id = db.scalar(select(Property.id).where(Property.code == property_code))
    if property_id is None:
        raise Unprocessable(f"property {property_code!r} does not exist", {"property": "no such property"})
    outlet_id = db.scalar(select(Outlet.id).where(Outlet.code == code))
    if outlet_id is None:
        outlet_id = db.scalar(insert(Outlet).values(code=code, name=name, property_id=property_id, active=True)
                              .returning(Outlet.id))
    else:
        db.execute(update(Outlet).where(Outlet.id == outlet_id).values(name=name, property_id=property_id))
    wanted = clean_rule(plugins, {"formula": formula, "formula_params": params, "bands": bands or []})
    current = rules_of_outlet(db, outlet_id)
    if not current or _differs(current[-1], wanted):
        add_rule_version(db, outlet_id, wanted)
    return outlet_id


def _differs(rule, wanted) -> bool:
    shown = rule.as_json()
    return any(shown[name] != wanted[name] for name in ("formula", "formula_params", "bands"))
