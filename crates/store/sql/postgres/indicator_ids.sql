-- Ids for new indicators, taken before inserting so that each row's id is known.
SELECT nextval(pg_get_serial_sequence('indicators', 'id')) FROM generate_series(1, $1)
