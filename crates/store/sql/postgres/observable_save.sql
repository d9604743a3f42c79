UPDATE case_observables SET ioc = $2, sighted = $3, tlp = $4, tags = $5, message = $6,
    indicator_id = $7
WHERE id = $1
