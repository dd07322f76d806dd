"""Point exchanges: members' points moved to and from partner programmes through exchange adapters
(IPointExchange plugins), each transfer keyed by the partner's reference and posted in the ledger."""
