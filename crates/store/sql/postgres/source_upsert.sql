INSERT INTO sources (name, format, reliability, default_confidence, default_tlp, full_list, settings)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (name) DO UPDATE SET
    format = excluded.format,
    reliability = excluded.reliability,
    default_confidence = excluded.default_confidence,
    default_tlp = excluded.default_tlp,
    full_list = excluded.full_list,
    settings = excluded.settings
