"""Everything that knows SQLite or PostgreSQL: store settings, the stored-event codec,
read-model engines, the SQLite write gate, and the bounds and classification of outages."""
