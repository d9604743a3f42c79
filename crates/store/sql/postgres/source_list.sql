SELECT s.name, s.format, s.reliability, s.default_confidence, s.default_tlp, s.full_list, s.settings,
       s.last_attempt, s.last_success, s.last_error, s.consecutive_failures, s.last_summary,
       coalesce(active.count, 0) AS active_statements
FROM sources s
LEFT JOIN (SELECT source, count(*) AS count FROM statements
            WHERE withdrawn_at IS NULL AND NOT revoked
            GROUP BY source) active ON active.source = s.name
ORDER BY s.name
