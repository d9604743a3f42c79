SELECT coalesce(max(seq), 0)::bigint FROM changes
