-- Alerts with techniques of which no attack-pattern object names a mitre-attack tactic.
SELECT COUNT(*) FROM alerts
WHERE (?1 IS NULL OR alerts.last_seen >= ?1)
  AND json_array_length(alerts.body, '$.techniques') > 0
  AND NOT EXISTS (
    SELECT 1 FROM json_each(alerts.body, '$.techniques') AS technique
    JOIN objects ON objects.object_type = 'attack-pattern' AND objects.attack_id = technique.value
        AND objects.revoked = 0
    JOIN json_each(objects.body, '$.kill_chain_phases') AS phase
    WHERE phase.value ->> '$.kill_chain_name' = 'mitre-attack')
