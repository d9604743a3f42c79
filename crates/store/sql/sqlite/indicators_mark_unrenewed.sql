-- Before withdrawing: points the indicators about to lose this source's statement at change ?1.
UPDATE indicators SET change_id = ?1
WHERE id IN (SELECT indicator_id FROM statements
             WHERE source = ?2 AND import_id <> ?3 AND withdrawn_at IS NULL)
