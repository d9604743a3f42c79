INSERT INTO assets (name, kind, owner, criticality, tags, networks, hostnames, domains)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
ON CONFLICT (name) DO UPDATE SET
    kind = excluded.kind,
    owner = excluded.owner,
    criticality = excluded.criticality,
    tags = excluded.tags,
    networks = excluded.networks,
    hostnames = excluded.hostnames,
    domains = excluded.domains
