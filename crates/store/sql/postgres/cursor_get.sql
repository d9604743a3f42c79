SELECT value FROM cursors WHERE source = $1 AND key = $2
