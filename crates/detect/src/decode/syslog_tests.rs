use serde_json::json;

use super::*;

fn options() -> Options {
    Options {
        reference_time: "2024-03-10T12:00:00Z".parse().unwrap(),
        ..Options::default()
    }
}

fn decode(line: &str) -> Event {
    parse_syslog(line, EventRef::line("test.log", 1), &options()).unwrap()
}

#[test]
fn rfc5424_with_structured_data_and_bom() {
    let event = decode(
        "<165>1 2024-03-09T22:14:15.003Z mymachine.example evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"q\\]\"][other@1 a=\"b\"] \u{feff}An application event",
    );
    assert_eq!(event.format, "syslog");
    assert_eq!(event.time.unwrap().to_string(), "2024-03-09T22:14:15.003Z");
    assert_eq!(event.get_str("host"), Some("mymachine.example"));
    assert_eq!(event.get_str("program"), Some("evntslog"));
    assert_eq!(event.get("pid"), None);
    assert_eq!(event.get_str("msgid"), Some("ID47"));
    assert_eq!(event.get_str("facility"), Some("local4"));
    assert_eq!(event.get_str("severity"), Some("notice"));
    assert_eq!(
        event.get("structured_data"),
        Some(
            &json!({"exampleSDID@32473": {"iut": "3", "eventSource": "App\"q]"}, "other@1": {"a": "b"}})
        )
    );
    assert_eq!(event.get_str("message"), Some("An application event"));
}

#[test]
fn rfc5424_nil_values_and_errors() {
    let event = decode("<13>1 - - - - - -");
    assert_eq!(event.time, None);
    assert_eq!(event.get_str("message"), Some(""));
    let bad = parse_syslog(
        "<13>1 yesterday host app - - - m",
        EventRef::line("t", 1),
        &options(),
    );
    assert!(bad.unwrap_err().contains("not RFC 3339"));
    let unclosed = parse_syslog(
        "<13>1 - h a - - [x a=\"b] m",
        EventRef::line("t", 1),
        &options(),
    );
    assert!(unclosed.unwrap_err().contains("structured data"));
    assert!(parse_syslog("<999>x", EventRef::line("t", 1), &options()).is_err());
}

#[test]
fn rfc3164_with_and_without_priority_takes_the_year_from_the_reference() {
    let with = decode(
        "<38>Mar  9 22:14:15 gate sshd[4242]: Accepted password for root from 192.0.2.5 port 2200 ssh2",
    );
    assert_eq!(with.time.unwrap().to_string(), "2024-03-09T22:14:15Z");
    assert_eq!(with.get_str("facility"), Some("auth"));
    assert_eq!(with.get_str("host"), Some("gate"));
    assert_eq!(with.get_str("pid"), Some("4242"));
    assert_eq!(with.format, "sshd");
    assert_eq!(with.get_str("sshd.event"), Some("accepted_password"));
    assert_eq!(with.get_str("sshd.ip"), Some("192.0.2.5"));
    // December seen from March is last year's.
    let without = decode("Dec 31 23:59:59 host cron[1]: job");
    assert_eq!(without.time.unwrap().to_string(), "2023-12-31T23:59:59Z");
    assert_eq!(without.get("priority"), None);
    assert_eq!(without.get_str("program"), Some("cron"));
    // Within a month ahead is clock skew, not last year.
    let skewed = decode("Mar 20 00:00:00 host app: x");
    assert_eq!(skewed.time.unwrap().to_string(), "2024-03-20T00:00:00Z");
    // Feb 29 finds the leap year.
    let leap = parse_syslog(
        "Feb 29 10:00:00 host app: x",
        EventRef::line("t", 1),
        &Options {
            reference_time: "2025-06-01T00:00:00Z".parse().unwrap(),
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(leap.time.unwrap().to_string(), "2024-02-29T10:00:00Z");
}

#[test]
fn rsyslog_iso_timestamps_and_hostless_tags() {
    let iso = decode("2024-03-10T09:00:00.123456+01:00 web01 nginx: started");
    assert_eq!(iso.time.unwrap().to_string(), "2024-03-10T08:00:00.123456Z");
    assert_eq!(iso.get_str("host"), Some("web01"));
    assert_eq!(iso.get_str("program"), Some("nginx"));
    let hostless = decode("Mar  1 10:00:00 sshd(pam_unix)[19939]: check pass; user unknown");
    assert_eq!(hostless.get("host"), None);
    assert_eq!(hostless.get_str("program"), Some("sshd(pam_unix)"));
    let no_time = decode("just a message");
    assert_eq!(
        (no_time.time, no_time.get_str("message")),
        (None, Some("just a message"))
    );
}

#[test]
fn postfix_reject_milter_and_delivery_lines() {
    let reject = decode(
        "Mar 10 10:00:01 mx1 postfix/smtpd[2211]: NOQUEUE: reject: RCPT from unknown[192.0.2.44]: 554 5.7.1 <victim@corp.example>: Recipient address rejected: Access denied; from=<spam@evil.example> to=<victim@corp.example> proto=ESMTP helo=<evil.example>",
    );
    assert_eq!(reject.format, "postfix");
    let postfix = reject.get("postfix").unwrap();
    assert_eq!(
        postfix,
        &json!({"component": "smtpd", "queue_id": "NOQUEUE", "action": "reject", "stage": "RCPT",
            "client_ip": "192.0.2.44", "code": "554", "dsn": "5.7.1",
            "reason": "<victim@corp.example>: Recipient address rejected: Access denied",
            "from": "spam@evil.example", "to": "victim@corp.example", "proto": "ESMTP", "helo": "evil.example"})
    );
    let milter = decode(
        "Mar 10 10:00:02 mx1 postfix/cleanup[2212]: 4Bq2x71Hz2z9v: milter-reject: END-OF-MESSAGE from mail.sender.example[198.51.100.7]: 5.7.1 Phishing detected; from=<a@sender.example> to=<b@corp.example> proto=ESMTP helo=<mail.sender.example>",
    );
    assert_eq!(milter.get_str("postfix.action"), Some("milter-reject"));
    assert_eq!(milter.get_str("postfix.queue_id"), Some("4Bq2x71Hz2z9v"));
    assert_eq!(
        milter.get_str("postfix.client_host"),
        Some("mail.sender.example")
    );
    assert_eq!(milter.get_str("postfix.reason"), Some("Phishing detected"));
    let sent = decode(
        "Mar 10 10:00:03 mx1 postfix/smtp[2213]: 4Bq2x71Hz2z9v: to=<b@corp.example>, relay=mx.corp.example[2001:db8::25]:25, delay=0.5, delays=0.1/0/0.2/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 99)",
    );
    assert_eq!(sent.get_str("postfix.action"), Some("sent"));
    assert_eq!(sent.get_str("postfix.relay_ip"), Some("2001:db8::25"));
    assert_eq!(sent.get("postfix.relay_port"), Some(&json!(25)));
    assert_eq!(
        sent.get_str("postfix.reason"),
        Some("250 2.0.0 Ok: queued as 99")
    );
    let queued = decode(
        "Mar 10 10:00:02 mx1 postfix/qmgr[900]: 4Bq2x71Hz2z9v: from=<a@sender.example>, size=2048, nrcpt=1 (queue active)",
    );
    assert_eq!(queued.get_str("postfix.action"), Some("queued"));
    assert_eq!(queued.get("postfix.size"), Some(&json!(2048)));
    let connect =
        decode("Mar 10 10:00:00 mx1 postfix/smtpd[2211]: connect from unknown[192.0.2.44]");
    assert_eq!(connect.get_str("postfix.action"), Some("connect"));
    assert_eq!(connect.get_str("postfix.client_ip"), Some("192.0.2.44"));
    let other = decode("Mar 10 10:00:00 mx1 postfix/master[1]: daemon started -- version 3.7");
    assert_eq!(
        (other.format.as_str(), other.get("postfix")),
        ("postfix", None)
    );
}

#[test]
fn rpz_hits_through_syslog() {
    let bind = decode(
        "Mar 10 10:00:00 ns1 named[812]: client @0x7f3a1c0 192.0.2.1#53211 (evil.example): rpz QNAME NXDOMAIN rewrite evil.example/A/IN via evil.example.rpz.local",
    );
    assert_eq!(bind.format, "rpz.bind");
    assert_eq!(
        bind.get("rpz"),
        Some(
            &json!({"server": "bind", "client_ip": "192.0.2.1", "client_port": 53211, "qname": "evil.example",
            "qtype": "A", "qclass": "IN", "policy": "QNAME", "action": "nxdomain", "rule": "evil.example.rpz.local"})
        )
    );
    let unbound = decode(
        "Mar 10 10:00:00 ns2 unbound: [1234:0] info: rpz: applied [rpz.local] evil.example. nxdomain 192.0.2.1@53 evil.example. A IN",
    );
    assert_eq!(unbound.format, "rpz.unbound");
    assert_eq!(unbound.get_str("rpz.zone"), Some("rpz.local"));
    assert_eq!(unbound.get_str("rpz.qname"), Some("evil.example."));
    assert_eq!(unbound.get_str("rpz.client_ip"), Some("192.0.2.1"));
    let plain = decode("Mar 10 10:00:00 ns1 named[812]: zone example/IN: loaded serial 1");
    assert_eq!(plain.format, "syslog");
}

#[test]
fn rfc5424_app_name_with_a_pid_as_util_linux_logger_sends_it() {
    // `logger -n HOST -t 'sshd[1]' …` writes the pid into the APP-NAME.
    let event = decode(
        "<13>1 2026-11-27T14:57:34.869781+00:00 vm sshd[1] - - [timeQuality tzKnown=\"1\" isSynced=\"0\"] Failed password for root from 203.0.113.66 port 22 ssh2",
    );
    assert_eq!(event.format, "sshd");
    assert_eq!(event.get_str("program"), Some("sshd"));
    assert_eq!(event.get_str("pid"), Some("1"));
    assert_eq!(event.get_str("sshd.ip"), Some("203.0.113.66"));
}
