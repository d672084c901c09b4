"""The tamper-evident audit ledger: one hash-chained, append-only record per action on case data."""
