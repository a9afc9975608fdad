"""Use cases: the ledger (commands in atomic batches), activity input shapes, output views,
bulk import and the HTTP group writer. Below the entry points, above storage and the domain."""
