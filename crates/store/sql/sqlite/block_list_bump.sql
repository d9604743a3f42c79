INSERT INTO block_lists (name, revision, updated) VALUES (?1, 1, ?2)
ON CONFLICT (name) DO UPDATE SET revision = block_lists.revision + 1, updated = excluded.updated
