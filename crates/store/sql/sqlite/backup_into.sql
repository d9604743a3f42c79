-- A consistent copy of the database, even under WAL with writers running.
VACUUM INTO ?1
