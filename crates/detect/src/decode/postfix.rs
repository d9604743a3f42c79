//! Postfix maillog messages (`postfix/<component>[pid]: …` in syslog) decoded into a `postfix`
//! object, so rejected and delivered mail can be counted: `component` (smtpd, cleanup, qmgr,
//! smtp, …), `queue_id` (or `NOQUEUE`), `action` (`connect`, `disconnect`, `client`,
//! `reject`, `milter-reject`, `discard`, `hold`, `queued`, `removed`, or a delivery `status`
//! such as `sent`, `bounced`, `deferred`), and the parts present: `client_host`, `client_ip`,
//! `from`, `to`, `orig_to`, `helo`, `relay_host`, `relay_ip`, `relay_port`, `status`, `dsn`,
//! `code`, `stage`, `reason`, `message_id`, `size`, `nrcpt`. Addresses lose their `<>`.

use serde_json::{Map, Value};

/// Adds the `postfix` object to `fields`; returns whether the message was understood.
pub(crate) fn parse(program: &str, message: &str, fields: &mut Map<String, Value>) -> bool {
    let mut out = Map::new();
    let component = program.rsplit('/').next().unwrap_or(program);
    set(&mut out, "component", component);
    let understood = parse_into(message.trim_end(), &mut out);
    if understood {
        fields.insert("postfix".into(), Value::Object(out));
    }
    understood
}

fn parse_into(message: &str, out: &mut Map<String, Value>) -> bool {
    for (prefix, action) in [
        ("connect from ", "connect"),
        ("disconnect from ", "disconnect"),
    ] {
        if let Some(rest) = message.strip_prefix(prefix) {
            set(out, "action", action);
            let client = rest.split_whitespace().next().unwrap_or_default();
            host_and_ip(client, "client", out);
            return true;
        }
    }
    let Some((queue_id, body)) = message.split_once(": ") else {
        return false;
    };
    if queue_id != "NOQUEUE" && !queue_id.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return false;
    }
    set(out, "queue_id", queue_id);
    for action in [
        "reject",
        "milter-reject",
        "discard",
        "hold",
        "redirect",
        "filter",
    ] {
        if let Some(rest) = body
            .strip_prefix(action)
            .and_then(|rest| rest.strip_prefix(": "))
        {
            set(out, "action", action);
            policy_action(rest, out);
            return true;
        }
    }
    if body == "removed" {
        set(out, "action", "removed");
        return true;
    }
    key_values(body, out);
    let action = if let Some(status) = out.get("status").and_then(Value::as_str) {
        status.to_owned()
    } else if out.contains_key("client_ip") || out.contains_key("client_host") {
        "client".to_owned()
    } else if out.contains_key("from") {
        "queued".to_owned()
    } else if out.contains_key("message_id") {
        "message-id".to_owned()
    } else {
        return false;
    };
    set(out, "action", &action);
    true
}

/// `RCPT from host[ip]: 554 5.7.1 <rcpt>: Recipient address rejected: …; from=<a> to=<b> proto=ESMTP helo=<h>`
fn policy_action(rest: &str, out: &mut Map<String, Value>) {
    let (head, envelope) = match rest.rfind("; from=") {
        Some(at) => (&rest[..at], &rest[at + 2..]),
        None => (rest, ""),
    };
    if let Some((stage, after)) = head.split_once(" from ") {
        set(out, "stage", stage);
        let (client, reason) = after.split_once(": ").unwrap_or((after, ""));
        host_and_ip(client, "client", out);
        let mut words = reason.splitn(3, ' ');
        let first = words.next().unwrap_or_default();
        let reason = if first.len() == 3 && first.bytes().all(|byte| byte.is_ascii_digit()) {
            set(out, "code", first);
            let second = words.next().unwrap_or_default();
            if is_dsn(second) {
                set(out, "dsn", second);
                words.next().unwrap_or_default()
            } else {
                reason.get(4..).unwrap_or_default()
            }
        } else if is_dsn(first) {
            set(out, "dsn", first);
            reason.get(first.len() + 1..).unwrap_or_default()
        } else {
            reason
        };
        set(out, "reason", reason);
    }
    for pair in envelope.split(' ') {
        if let Some((key, value)) = pair.split_once('=') {
            match key {
                "from" | "to" | "helo" | "orig_to" => set(out, key, unbracket(value)),
                "proto" => set(out, key, value),
                _ => {}
            }
        }
    }
}

/// `to=<b>, relay=mx[198.51.100.2]:25, delay=1, dsn=2.0.0, status=sent (250 ok)`
fn key_values(body: &str, out: &mut Map<String, Value>) {
    for pair in body.split(", ") {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        match key {
            "from" | "to" | "orig_to" => set(out, key, unbracket(value)),
            "message-id" => set(out, "message_id", unbracket(value)),
            "client" => host_and_ip(value, "client", out),
            "relay" => {
                host_and_ip(value, "relay", out);
            }
            "dsn" => set(out, "dsn", value),
            "size" | "nrcpt" => {
                let number = value.split_whitespace().next().unwrap_or_default();
                if let Ok(number) = number.parse::<u64>() {
                    out.insert(key.into(), Value::from(number));
                }
            }
            "status" => {
                let (status, reason) = value.split_once(' ').unwrap_or((value, ""));
                set(out, "status", status);
                let reason = reason.trim();
                let reason = reason
                    .strip_prefix('(')
                    .and_then(|inner| inner.strip_suffix(')'))
                    .unwrap_or(reason);
                if !reason.is_empty() {
                    set(out, "reason", reason);
                }
            }
            _ => {}
        }
    }
}

/// `name[ip]` or `name[ip]:port`; `unknown` names are left out.
fn host_and_ip(text: &str, prefix: &str, out: &mut Map<String, Value>) {
    let text = text.trim_end_matches(',');
    let Some(open) = text.find('[') else {
        set(out, &format!("{prefix}_host"), text);
        return;
    };
    let host = &text[..open];
    if !host.is_empty() && host != "unknown" {
        set(out, &format!("{prefix}_host"), host);
    }
    if let Some(close) = text[open..].find(']').map(|close| open + close) {
        let ip = &text[open + 1..close];
        let ip = ip.strip_prefix("IPv6:").unwrap_or(ip);
        set(out, &format!("{prefix}_ip"), ip);
        if let Some(port) = text[close + 1..]
            .strip_prefix(':')
            .and_then(|port| port.parse::<u16>().ok())
        {
            out.insert(format!("{prefix}_port"), Value::from(port));
        }
    }
}

fn is_dsn(text: &str) -> bool {
    let mut parts = text.split('.');
    matches!(parts.next(), Some("2" | "4" | "5"))
        && parts.clone().count() == 2
        && parts.all(|part| !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_digit()))
}

fn unbracket(value: &str) -> &str {
    value
        .strip_prefix('<')
        .and_then(|inner| inner.strip_suffix('>'))
        .unwrap_or(value)
}

fn set(out: &mut Map<String, Value>, name: &str, value: &str) {
    out.insert(name.into(), Value::from(value));
}
