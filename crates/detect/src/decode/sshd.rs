//! OpenSSH server messages (`sshd[pid]: …` in syslog) decoded into an `sshd` object:
//! `event` (`failed_password`, `failed_publickey`, `accepted_password`, `invalid_user`,
//! `invalid_user_preauth`, `auth_failure`, `disconnect`, `connection_closed`,
//! `no_identification`, `too_many_failures`, `reverse_mapping_failed`), `user`, `ip`, `port`,
//! and `invalid_user: true` or `repeated: n` where the message says so. Messages not listed
//! stay plain syslog (the `message` field); their event has no `sshd` object.

use serde_json::{Map, Value};

/// Adds the `sshd` object to `fields` when the message is one of the known kinds.
pub(crate) fn parse(message: &str, fields: &mut Map<String, Value>) {
    let mut parsed = Map::new();
    if parse_into(message, &mut parsed) {
        fields.insert("sshd".into(), Value::Object(parsed));
    }
}

fn parse_into(message: &str, out: &mut Map<String, Value>) -> bool {
    let message = message.trim_end();
    let message = message.strip_prefix("error: ").unwrap_or(message);
    if let Some(rest) = message.strip_prefix("message repeated ") {
        // `message repeated 2 times: [ Failed password for root from … port …]`
        let Some((count, inner)) = rest.split_once(" times: [") else {
            return false;
        };
        let inner = inner.trim_end_matches(']').trim();
        if !parse_into(inner, out) {
            return false;
        }
        if let Ok(count) = count.parse::<u64>() {
            out.insert("repeated".into(), Value::from(count));
        }
        return true;
    }
    for (prefix, kind) in [("Failed ", "failed"), ("Accepted ", "accepted")] {
        if let Some(rest) = message.strip_prefix(prefix) {
            return auth_result(kind, rest, out);
        }
    }
    if let Some(rest) = message.strip_prefix("Invalid user ") {
        // The user name may be empty or contain spaces: the last ` from ` ends it.
        let Some((user, from)) = rest.rsplit_once(" from ") else {
            return false;
        };
        set(out, "event", "invalid_user");
        set(out, "user", user);
        address_and_port(from, out);
        return true;
    }
    if let Some(rest) = message.strip_prefix("input_userauth_request: invalid user ") {
        set(out, "event", "invalid_user_preauth");
        set(out, "user", rest.trim_end_matches(" [preauth]"));
        return true;
    }
    if let Some(rest) = message.strip_prefix("reverse mapping checking getaddrinfo for ") {
        let (Some(open), Some(close)) = (rest.find(" ["), rest.find(']')) else {
            return false;
        };
        if close < open {
            return false;
        }
        set(out, "event", "reverse_mapping_failed");
        set(out, "host", &rest[..open]);
        set(out, "ip", &rest[open + 2..close]);
        return true;
    }
    if let Some(rest) = message.strip_prefix("Received disconnect from ") {
        set(out, "event", "disconnect");
        let address = rest.split(':').next().unwrap_or_default();
        address_and_port(address, out);
        return true;
    }
    if let Some(rest) = message.strip_prefix("Connection closed by ") {
        set(out, "event", "connection_closed");
        address_and_port(rest.trim_end_matches(" [preauth]"), out);
        return true;
    }
    if let Some(rest) = message.strip_prefix("Did not receive identification string from ") {
        set(out, "event", "no_identification");
        address_and_port(rest, out);
        return true;
    }
    if let Some(rest) = message.strip_prefix("Disconnecting: Too many authentication failures for ")
    {
        set(out, "event", "too_many_failures");
        set(out, "user", rest.trim_end_matches(" [preauth]"));
        return true;
    }
    if message.contains("authentication failure") && message.contains(" rhost=") {
        // pam_unix(sshd:auth) and `PAM n more authentication failures` lines: `key=value` pairs.
        set(out, "event", "auth_failure");
        for pair in message.split([' ', ';']) {
            match pair.split_once('=') {
                Some(("rhost", host)) if !host.is_empty() => set(out, "ip", host),
                Some(("user", user)) if !user.is_empty() => set(out, "user", user),
                _ => {}
            }
        }
        return true;
    }
    false
}

/// `password for [invalid user ]USER from IP port PORT ssh2`
fn auth_result(kind: &str, rest: &str, out: &mut Map<String, Value>) -> bool {
    let Some((method, rest)) = rest.split_once(" for ") else {
        return false;
    };
    let Some((user, from)) = rest.rsplit_once(" from ") else {
        return false;
    };
    set(out, "event", &format!("{kind}_{method}"));
    set(out, "method", method);
    match user.strip_prefix("invalid user ") {
        Some(user) => {
            set(out, "user", user);
            out.insert("invalid_user".into(), Value::Bool(true));
        }
        None => set(out, "user", user),
    }
    address_and_port(from, out);
    true
}

/// `IP[ port N][ …]`
fn address_and_port(text: &str, out: &mut Map<String, Value>) {
    let mut words = text.split_whitespace();
    if let Some(address) = words.next() {
        set(out, "ip", address);
    }
    if words.next() == Some("port")
        && let Some(port) = words.next().and_then(|port| port.parse::<u16>().ok())
    {
        out.insert("port".into(), Value::from(port));
    }
}

fn set(out: &mut Map<String, Value>, name: &str, value: &str) {
    out.insert(name.into(), Value::from(value));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sshd(message: &str) -> Option<Map<String, Value>> {
        let mut fields = Map::new();
        parse(message, &mut fields);
        fields.get("sshd").and_then(Value::as_object).cloned()
    }

    #[test]
    fn failed_and_accepted_logins_give_user_ip_and_port() {
        let failed =
            sshd("Failed password for invalid user admin from 192.0.2.7 port 4242 ssh2").unwrap();
        assert_eq!(failed["event"], "failed_password");
        assert_eq!(failed["user"], "admin");
        assert_eq!(failed["invalid_user"], true);
        assert_eq!(failed["ip"], "192.0.2.7");
        assert_eq!(failed["port"], 4242);
        let accepted = sshd(
            "Accepted publickey for alice from 2001:db8::5 port 50022 ssh2: ED25519 SHA256:abc",
        )
        .unwrap();
        assert_eq!(accepted["event"], "accepted_publickey");
        assert_eq!(accepted["user"], "alice");
        assert_eq!(accepted["ip"], "2001:db8::5");
        let invalid = sshd("Invalid user  from 198.51.100.3").unwrap();
        assert_eq!(
            (invalid["event"].as_str(), invalid["user"].as_str()),
            (Some("invalid_user"), Some(""))
        );
        let repeated = sshd(
            "message repeated 3 times: [ Failed password for root from 192.0.2.1 port 22 ssh2]",
        )
        .unwrap();
        assert_eq!(
            (repeated["repeated"].as_u64(), repeated["user"].as_str()),
            (Some(3), Some("root"))
        );
    }

    #[test]
    fn unknown_and_truncated_messages_add_nothing() {
        assert_eq!(sshd("Server listening on 0.0.0.0 port 22."), None);
        assert_eq!(sshd("Failed password"), None);
        assert_eq!(sshd("reverse mapping checking getaddrinfo for x] [y"), None);
    }
}
