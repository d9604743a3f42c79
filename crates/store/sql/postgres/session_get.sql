SELECT s.created AS session_created, s.expires AS session_expires, s.csrf_token,
       u.id, u.username, u.role, u.password_hash, u.created, u.disabled, u.last_login
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.hash = $1
