DELETE FROM sessions WHERE expires <= $1
