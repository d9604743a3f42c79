-- Technique ids of alerts, through the attack-pattern objects that define them, to the
-- tactics (kill-chain phases of the mitre-attack chain) those list.
SELECT phase.value ->> '$.phase_name' AS label, COUNT(DISTINCT alerts.id) AS count
FROM alerts
JOIN json_each(alerts.body, '$.techniques') AS technique
JOIN objects ON objects.object_type = 'attack-pattern' AND objects.attack_id = technique.value
    AND objects.revoked = 0
JOIN json_each(objects.body, '$.kill_chain_phases') AS phase
WHERE (?1 IS NULL OR alerts.last_seen >= ?1)
  AND phase.value ->> '$.kill_chain_name' = 'mitre-attack'
GROUP BY label
ORDER BY count DESC, label
