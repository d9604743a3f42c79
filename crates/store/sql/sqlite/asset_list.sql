SELECT name, kind, owner, criticality, tags, networks, hostnames, domains FROM assets ORDER BY name
