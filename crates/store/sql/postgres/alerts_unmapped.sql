-- Alerts with techniques of which no attack-pattern object names a mitre-attack tactic.
SELECT COUNT(*) FROM alerts
WHERE ($1::BIGINT IS NULL OR alerts.last_seen >= $1)
  AND jsonb_array_length(alerts.body::jsonb -> 'techniques') > 0
  AND NOT EXISTS (
    SELECT 1
    FROM jsonb_array_elements_text(alerts.body::jsonb -> 'techniques') AS technique(value)
    JOIN objects ON objects.object_type = 'attack-pattern' AND objects.attack_id = technique.value
        AND NOT objects.revoked
    CROSS JOIN LATERAL jsonb_array_elements(objects.body::jsonb -> 'kill_chain_phases') AS phase(value)
    WHERE phase.value ->> 'kill_chain_name' = 'mitre-attack')
