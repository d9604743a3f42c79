-- Technique ids of alerts, through the attack-pattern objects that define them, to the
-- tactics (kill-chain phases of the mitre-attack chain) those list.
SELECT phase.value ->> 'phase_name' AS label, COUNT(DISTINCT alerts.id) AS count
FROM alerts
CROSS JOIN LATERAL jsonb_array_elements_text(alerts.body::jsonb -> 'techniques') AS technique(value)
JOIN objects ON objects.object_type = 'attack-pattern' AND objects.attack_id = technique.value
    AND NOT objects.revoked
CROSS JOIN LATERAL jsonb_array_elements(objects.body::jsonb -> 'kill_chain_phases') AS phase(value)
WHERE ($1::BIGINT IS NULL OR alerts.last_seen >= $1)
  AND phase.value ->> 'kill_chain_name' = 'mitre-attack'
GROUP BY label
ORDER BY count DESC, label
