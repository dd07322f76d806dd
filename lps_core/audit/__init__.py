"""The audit log: who changed what, when, from where, with the values before and after.

Services and views call `lps_core.audit.services.record`; every successful write through the JSON
API is recorded by the tween in api_writes.py, and every successful POST of a signed-in operator on
the staff screens by the tween in staff_writes.py, each inside the request's own transaction."""


def includeme(config):
    # Under pyramid_tm, so an entry commits or rolls back with the request that made it.
    config.add_tween("lps_core.audit.api_writes.api_write_tween_factory",
                     under="pyramid_tm.tm_tween_factory", over="pyramid.tweens.excview_tween_factory")
    config.add_tween("lps_core.audit.staff_writes.staff_write_tween_factory",
                     under="pyramid_tm.tm_tween_factory", over="pyramid.tweens.excview_tween_factory")
