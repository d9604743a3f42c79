SELECT count(*) FROM alerts WHERE last_seen < $1
