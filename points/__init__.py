"""Points: the append-only ledger and each advocate's balance."""
