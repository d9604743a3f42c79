-- Rows a restore would overwrite: anything a person or a feed put in.
SELECT (SELECT count(*) FROM sources) + (SELECT count(*) FROM indicators)
     + (SELECT count(*) FROM alerts) + (SELECT count(*) FROM users)
     + (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM assets)
     + (SELECT count(*) FROM allowlist) + (SELECT count(*) FROM block_entries)
     + (SELECT count(*) FROM playbook_runs) + (SELECT count(*) FROM cases)
