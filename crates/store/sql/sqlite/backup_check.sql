-- Whether a file is a Rampart store, of any schema version: the tables of the first migration.
SELECT (SELECT count(*) FROM sources) + (SELECT count(*) FROM indicators)
