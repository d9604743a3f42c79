SELECT s.name, s.format, s.reliability, s.default_confidence, s.default_tlp, s.full_list, s.settings,
       s.last_attempt, s.last_success, s.last_error, s.consecutive_failures, s.last_summary,
       (SELECT count(*) FROM statements st
         WHERE st.source = s.name AND st.withdrawn_at IS NULL AND st.revoked = 0) AS active_statements
FROM sources s
WHERE s.name = ?1
