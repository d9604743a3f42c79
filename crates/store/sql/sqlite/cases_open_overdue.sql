SELECT COUNT(*) FROM cases
WHERE status IN ('new', 'in_progress') AND due IS NOT NULL AND due < ?1
