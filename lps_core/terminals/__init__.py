"""Card-reading terminals: a cashier's PC with a card reader, registered per outlet with a key of
its own, that sends each swipe to LPS (the agent, `lps terminal`); LPS hands the swipe to the cashier
screen of the operators the terminal feeds (long-polling, lps_core.terminals.waiting)."""


def includeme(config):
    """Register the process's SwipeWaiters (lps.terminals.* settings) on the database's engine."""
    from lps_core.terminals.waiting import ISwipeWaiters, PollSettings, SwipeWaiters

    settings = PollSettings.from_mapping(config.registry.settings)
    config.registry.registerUtility(SwipeWaiters(config.registry["db_engine"], settings), ISwipeWaiters)
