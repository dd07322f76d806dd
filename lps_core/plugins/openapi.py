"""The plugins API's operations (the components, and their switches per scope) and the schemas of
their answers."""
from lps_core.api.document import answer, problems
from lps_core.api.operations import Operation
from lps_core.plugins.schemas import ComponentPath, SwitchIn, SwitchPath

SCOPE = "plugins.manage"
PROGRAMME_SCOPE = "plugins.programme"
REACH = (f"A key with `{PROGRAMME_SCOPE}` reaches every switch. A key with `{SCOPE}` only reaches its own "
         "outlet's: it sees the programme's, its property's and its outlet's rows and its outlet's state, and "
         "changes its outlet's switch; another outlet answers 404, like an unknown one, and the programme's "
         "and properties' switches 403.")
TIMESTAMP = {"type": "string", "format": "date-time"}

OPERATIONS = [
    Operation("api.plugins", "get", "listPlugins", "Every component the installed plugins provide, by kind",
              {"200": answer("The components", "PluginList"), **problems(401, 403)}, scope=SCOPE,
              description=f"Also allowed with `{PROGRAMME_SCOPE}`. Tenders, promotion kinds, exchange partners and "
                          "channels are switched per outlet (`switched`); LPS's own are on by default, a third "
                          "party's off until switched on."),
    Operation("api.plugin_switches", "get", "getPluginSwitches",
              "A component's switch at each scope, and its state at each outlet",
              {"200": answer("The switches", "PluginSwitches"), **problems(401, 403, 404)}, scope=SCOPE,
              path=ComponentPath, description=REACH),
    Operation("api.plugin_switch", "put", "setPluginSwitch", "Set a component's switch and settings at one scope",
              {"200": answer("The component's switches after the change", "PluginSwitches"),
               **problems(401, 403, 404, 413, 422)},
              scope=SCOPE, body=SwitchIn, path=SwitchPath,
              description="The narrowest switch wins: the outlet's, else its property's, else the programme's, "
                          "else the component's default. Settings the component's schema refuses, or a field "
                          "that does not belong to the scope (`outlet` for a property switch), answer 422 naming "
                          "it (`settings.<field>`); an unknown outlet or property 404. Secret settings "
                          "(`writeOnly`) are never answered; a change that leaves one out keeps it. " + REACH),
]

SCHEMAS = {
    "PluginComponent": {"type": "object", "properties": {
        "kind": {"type": "string", "example": "tender"},
        "name": {"type": "string", "example": "cash"},
        "label": {"type": "string"},
        "plugin": {"type": "string", "description": "The pluggy plugin that provides it"},
        "distribution": {"type": "string", "description": "The installed distribution; lps for LPS's own"},
        "origin": {"type": "string", "enum": ["core", "third_party"]},
        "switched": {"type": "boolean", "description": "Switched on or off per outlet"},
        "enabled_by_default": {"type": "boolean", "nullable": True,
                               "description": "Where no switch says otherwise; null when not switched"},
        "settings_schema": {"type": "object", "nullable": True,
                            "description": "The JSON Schema of its per-outlet settings; null: none"},
        "secret_settings": {"type": "array", "items": {"type": "string"},
                            "description": "Settings that are stored but never answered"},
    }},
    "PluginList": {"type": "object", "properties": {
        "kinds": {"type": "object", "additionalProperties": {
            "type": "array", "items": {"$ref": "#/components/schemas/PluginComponent"}},
            "description": "Components by kind (tender, promotion_kind, exchange, channel, formula, ...)"}}},
    "PluginSwitchRow": {"type": "object", "properties": {
        "scope": {"type": "string", "enum": ["programme", "property", "outlet"]},
        "scope_id": {"type": "integer", "description": "The property's or outlet's id; 0 for the programme"},
        "code": {"type": "string", "nullable": True, "description": "The property's or outlet's code"},
        "enabled": {"type": "boolean", "nullable": True, "description": "null: inherits the wider scope's"},
        "settings": {"type": "object", "nullable": True, "description": "null: the wider scope's apply"},
        "updated_at": {**TIMESTAMP, "nullable": True},
        "updated_by": {"type": "string", "nullable": True},
    }},
    "PluginOutletState": {"type": "object", "properties": {
        "outlet": {"type": "string"},
        "property": {"type": "string"},
        "enabled": {"type": "boolean"},
        "source": {"type": "string", "enum": ["outlet", "property", "programme", "default"],
                   "description": "The scope whose switch decides"},
        "settings": {"type": "object", "nullable": True,
                     "description": "The settings in force (secret ones left out); null: the component has none"},
    }},
    "PluginSwitches": {"type": "object", "properties": {
        "component": {"$ref": "#/components/schemas/PluginComponent"},
        "switches": {"type": "array", "items": {"$ref": "#/components/schemas/PluginSwitchRow"},
                     "description": "The programme, then each property and each outlet, by code"},
        "outlets": {"type": "array", "items": {"$ref": "#/components/schemas/PluginOutletState"}},
    }},
}
