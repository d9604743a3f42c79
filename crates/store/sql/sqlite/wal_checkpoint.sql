-- Copies what it can of the WAL into the database without waiting for readers or writers.
PRAGMA wal_checkpoint(PASSIVE)
