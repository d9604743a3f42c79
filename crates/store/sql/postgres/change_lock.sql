SELECT pg_advisory_xact_lock(hashtextextended('rampart change feed', 0))
