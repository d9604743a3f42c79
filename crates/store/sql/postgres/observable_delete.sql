DELETE FROM case_observables WHERE id = $1
