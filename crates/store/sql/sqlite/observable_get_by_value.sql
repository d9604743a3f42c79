SELECT id, case_id, kind, value, ioc, sighted, tlp, tags, message, indicator_id, created
FROM case_observables WHERE case_id = ?1 AND kind = ?2 AND value = ?3
