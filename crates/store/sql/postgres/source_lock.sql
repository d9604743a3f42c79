-- Imports of one source run one after the other: full-list withdrawal and the duplicate count
-- rely on no other import of the source writing meanwhile.
SELECT pg_advisory_xact_lock(hashtextextended('rampart import ' || $1, 0))
