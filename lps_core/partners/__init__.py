"""Partner merchants and franchise stores: their standing in the programme (active, suspended,
ended), their versioned contracts, and what they owe and are owed (statements)."""
