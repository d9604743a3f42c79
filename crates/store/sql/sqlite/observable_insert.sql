-- A new observable, or nothing (no row returned) when the case has its value already.
INSERT INTO case_observables (case_id, kind, value, ioc, sighted, tlp, tags, message, indicator_id,
                              created)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
ON CONFLICT (case_id, kind, value) DO NOTHING
RETURNING id
