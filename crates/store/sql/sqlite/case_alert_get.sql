SELECT case_id, alert_id, linked, linked_by FROM case_alerts WHERE alert_id = ?1
