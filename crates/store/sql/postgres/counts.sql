SELECT (SELECT count(*) FROM indicators) AS indicators,
       (SELECT count(*) FROM statements) AS statements,
       (SELECT count(*) FROM indicators WHERE suppressed IS NOT NULL) AS suppressed,
       (SELECT count(*) FROM objects) AS objects,
       (SELECT count(*) FROM sources) AS sources,
       (SELECT count(*) FROM assets) AS assets
