DELETE FROM cursors WHERE source = $1
