SELECT name, revision, updated,
       (SELECT count(*) FROM block_entries e
        WHERE e.list = l.name AND e.removed IS NULL AND (e.expires IS NULL OR e.expires > ?1)) AS standing
FROM block_lists l
ORDER BY name
