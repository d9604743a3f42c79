//! The outbound services against real receivers on loopback: webhooks (each chat format and a
//! body template), retryable and permanent failures, timeouts, the rate limit, Splunk HEC,
//! ticketing webhooks, syslog over UDP and TCP, and HTTP lookups with their cache.
//!
//! Secrets come from the environment; setting a variable in a multi-threaded test binary is
//! unsound, so the tests read tokens from `PATH`, which is always set, and compare with it.

mod support;

use std::time::{Duration, Instant};

use rampart_model::{Indicator, IndicatorKind};
use rampart_respond::playbook::outbound::{Outbound, OutboundConfig};
use rampart_respond::playbook::{ActionServices, Facts, Message};
use serde_json::{Value, json};
use support::{Receiver, Reply};
use tokio::io::AsyncReadExt;

fn outbound(config: &str) -> Outbound {
    let config: OutboundConfig = toml::from_str(config).expect("the configuration parses");
    Outbound::new(&config).expect("the services build")
}

fn path_variable() -> String {
    std::env::var("PATH").expect("PATH is set")
}

/// Facts with values that try to break out of a JSON string, a CEF field or a syslog line.
fn hostile_facts() -> Facts {
    Facts::new(json!({
        "alert": {
            "id": 42,
            "rule": "Brute | force = \\ test",
            "rule_id": "sigma-4711",
            "severity": "high",
            "host": "web-1\"}, \"pwned\": {\"x\": \"\n",
            "count": 3,
            "techniques": ["T1110"],
            "matched": { "source.ip": ["203.0.113.7"], "user.name": ["bob=admin\\x\nCEF:0|forged"] },
        }
    }))
}

fn message(channel: &str) -> Message {
    Message {
        channel: channel.to_owned(),
        subject: "Brute force on web-1".to_owned(),
        text: "Rule \"Brute force\" matched {bob}\nsecond line".to_owned(),
        facts: hostile_facts(),
    }
}

#[tokio::test]
async fn each_webhook_format_sends_its_exact_json() {
    let receiver = Receiver::start().await;
    let base = &receiver.url;
    let services = outbound(&format!(
        r#"
        [[channels]]
        name = "slack"
        kind = "webhook"
        url = "{base}/slack"
        format = "slack"
        [[channels]]
        name = "teams"
        kind = "webhook"
        url = "{base}/teams"
        format = "teams"
        [[channels]]
        name = "mattermost"
        kind = "webhook"
        url = "{base}/mattermost"
        format = "mattermost"
        [[channels]]
        name = "json"
        kind = "webhook"
        url = "{base}/json"
        [[channels]]
        name = "custom"
        kind = "webhook"
        url = "{base}/custom"
        headers = [{{ name = "Authorization", env = "PATH", prefix = "Bearer " }}, {{ name = "X-Team", value = "soc" }}]
        body = '{{"title": "{{{{subject}}}}", "detail": "{{{{text}}}}", "host": "{{{{alert.host}}}}", "via": "{{{{channel}}}}"}}'
        "#
    ));
    for channel in ["slack", "teams", "mattermost", "json", "custom"] {
        let answer = services.notify(&message(channel)).await.expect(channel);
        assert_eq!(answer, json!({"status": 200}), "{channel}");
    }
    let received = receiver.received();
    let targets: Vec<&str> = received.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        ["/slack", "/teams", "/mattermost", "/json", "/custom"]
    );
    assert!(
        received
            .iter()
            .all(|r| r.headers["content-type"] == "application/json")
    );
    let text = "Rule \"Brute force\" matched {bob}\nsecond line";
    assert_eq!(
        received[0].json(),
        json!({"text": format!("*Brute force on web-1*\n{text}")})
    );
    assert_eq!(
        received[1].json(),
        json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": "Brute force on web-1",
            "title": "Brute force on web-1",
            "text": text,
        })
    );
    assert_eq!(
        received[2].json(),
        json!({"text": format!("**Brute force on web-1**\n{text}")})
    );
    assert_eq!(
        received[3].json(),
        json!({
            "channel": "json",
            "subject": "Brute force on web-1",
            "text": text,
            "facts": hostile_facts().root(),
        })
    );
    // The hostile host stays inside its string: still exactly four keys.
    assert_eq!(
        received[4].json(),
        json!({
            "title": "Brute force on web-1",
            "detail": text,
            "host": "web-1\"}, \"pwned\": {\"x\": \"\n",
            "via": "custom",
        })
    );
    let headers = &received[4].headers;
    assert_eq!(
        headers["authorization"],
        format!("Bearer {}", path_variable()).as_str()
    );
    assert_eq!(headers["x-team"], "soc");
}

#[tokio::test]
async fn failures_are_retryable_or_permanent_and_never_name_the_url() {
    let receiver = Receiver::start().await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let services = outbound(&format!(
        r#"
        [[channels]]
        name = "chat"
        kind = "webhook"
        url = "{}/hook/SECRET"
        timeout = "1s"
        [[channels]]
        name = "closed"
        kind = "webhook"
        url = "http://{closed}/hook/SECRET"
        "#,
        receiver.url
    ));
    receiver.plan([
        Reply::Status(500, "busy"),
        Reply::Status(200, "ok"),
        Reply::Status(429, ""),
        Reply::Status(400, "invalid_payload"),
        Reply::Hang,
    ]);
    let busy = services.notify(&message("chat")).await.unwrap_err();
    assert!(busy.retryable);
    assert_eq!(
        busy.message,
        "channel \"chat\": answered 500 Internal Server Error: busy"
    );
    assert_eq!(
        services.notify(&message("chat")).await.unwrap(),
        json!({"status": 200})
    );
    let throttled = services.notify(&message("chat")).await.unwrap_err();
    assert!(throttled.retryable, "{throttled:?}");
    let refused = services.notify(&message("chat")).await.unwrap_err();
    assert!(!refused.retryable);
    assert_eq!(
        refused.message,
        "channel \"chat\": answered 400 Bad Request: invalid_payload"
    );

    let started = Instant::now();
    let stalled = services.notify(&message("chat")).await.unwrap_err();
    let waited = started.elapsed();
    assert!(stalled.retryable);
    assert_eq!(stalled.message, "channel \"chat\": no answer within 1s");
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_secs(3),
        "{waited:?}"
    );

    let unreachable = services.notify(&message("closed")).await.unwrap_err();
    assert!(unreachable.retryable);
    assert!(
        unreachable
            .message
            .starts_with("channel \"closed\": cannot connect"),
        "{}",
        unreachable.message
    );
    for err in [busy, refused, stalled, unreachable] {
        assert!(!err.message.contains("SECRET"), "{}", err.message);
    }
    // A channel nobody configured is the rest's business: not set up here.
    let unknown = services.notify(&message("nowhere")).await.unwrap_err();
    assert!(!unknown.retryable);
}

#[tokio::test]
async fn a_channel_over_its_rate_refuses_and_sends_nothing_more() {
    let receiver = Receiver::start().await;
    // One a minute after a burst of two: the third message waits the better part of a minute.
    let services = outbound(&format!(
        "[[channels]]\nname = 'chat'\nkind = 'webhook'\nurl = '{0}/hook'\nrate_per_minute = 1\nburst = 2\n\
         [[channels]]\nname = 'other'\nkind = 'webhook'\nurl = '{0}/other'\n",
        receiver.url
    ));
    services.notify(&message("chat")).await.unwrap();
    services.notify(&message("chat")).await.unwrap();
    let limited = services.notify(&message("chat")).await.unwrap_err();
    assert!(limited.retryable);
    let prefix = "channel \"chat\": rate limited (1 a minute); a message can go in ";
    let wait: f64 = limited
        .message
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(" s"))
        .unwrap_or_else(|| panic!("{}", limited.message))
        .parse()
        .unwrap();
    assert!(wait > 50.0 && wait <= 60.0, "{wait}");
    assert_eq!(receiver.count(), 2, "the limited message was not sent");
    // Another channel has a bucket of its own; this one stays shut.
    services.notify(&message("other")).await.unwrap();
    assert!(services.notify(&message("chat")).await.is_err());
    let targets: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.target.clone())
        .collect();
    assert_eq!(targets, ["/hook", "/hook", "/other"]);
}

#[tokio::test]
async fn splunk_hec_gets_the_envelope_and_the_token() {
    let receiver = Receiver::start().await;
    let services = outbound(&format!(
        r#"
        [[destinations]]
        name = "splunk"
        kind = "splunk_hec"
        url = "{}/services/collector/event"
        token_env = "PATH"
        index = "security"
        host = "rampart-test"
        "#,
        receiver.url
    ));
    receiver.plan([
        Reply::Status(200, r#"{"text":"Success","code":0}"#),
        Reply::Status(503, r#"{"text":"Server is busy","code":9}"#),
        Reply::Status(403, r#"{"text":"Invalid token","code":4}"#),
    ]);
    let facts = hostile_facts();
    let answer = services.forward("splunk", &facts).await.unwrap();
    assert_eq!(answer, json!({"text": "Success", "code": 0}));
    let received = &receiver.received()[0];
    assert_eq!(received.target, "/services/collector/event");
    assert_eq!(
        received.headers["authorization"],
        format!("Splunk {}", path_variable()).as_str()
    );
    let mut body = received.json();
    let time = body["time"].as_f64().expect("time in seconds");
    let now = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
    assert!((now - time).abs() < 60.0, "{time} vs {now}");
    body.as_object_mut().unwrap().remove("time");
    assert_eq!(
        body,
        json!({
            "host": "rampart-test",
            "source": "rampart",
            "sourcetype": "rampart:alert",
            "index": "security",
            "event": facts.root(),
        })
    );
    assert!(
        services
            .forward("splunk", &facts)
            .await
            .unwrap_err()
            .retryable
    );
    let refused = services.forward("splunk", &facts).await.unwrap_err();
    assert!(!refused.retryable);
    assert!(
        refused.message.contains("Invalid token"),
        "{}",
        refused.message
    );
}

#[tokio::test]
async fn a_ticket_webhook_renders_its_body_and_returns_the_answer() {
    let receiver = Receiver::start().await;
    let services = outbound(&format!(
        r#"
        [[destinations]]
        name = "jira"
        kind = "webhook"
        url = "{base}/rest/api/2/issue"
        method = "PUT"
        headers = [{{ name = "Authorization", value = "Bearer inline" }}]
        body = '''
        {{"fields": {{"project": {{"key": "SOC"}}, "issuetype": {{"name": "Incident"}},
                    "summary": "{{{{alert.rule}}}} on {{{{alert.host}}}}",
                    "labels": ["rampart", "{{{{alert.techniques}}}}"]}}}}
        '''
        [[destinations]]
        name = "raw"
        kind = "webhook"
        url = "{base}/raw"
        "#,
        base = receiver.url
    ));
    receiver.plan([Reply::Status(201, r#"{"id":"10000","key":"SOC-1"}"#)]);
    let facts = hostile_facts();
    let answer = services.forward("jira", &facts).await.unwrap();
    assert_eq!(
        answer,
        json!({"status": 201, "answer": {"id": "10000", "key": "SOC-1"}})
    );
    services.forward("raw", &facts).await.unwrap();
    let received = receiver.received();
    assert_eq!(received[0].method, "PUT");
    assert_eq!(received[0].headers["authorization"], "Bearer inline");
    assert_eq!(
        received[0].json(),
        json!({"fields": {
            "project": {"key": "SOC"},
            "issuetype": {"name": "Incident"},
            "summary": "Brute | force = \\ test on web-1\"}, \"pwned\": {\"x\": \"\n",
            "labels": ["rampart", "T1110"],
        }})
    );
    assert_eq!(received[1].method, "POST");
    assert_eq!(&received[1].json(), facts.root());
}

/// The CEF line expected for [`hostile_facts`], `rt` and the timestamp aside.
fn expected_cef() -> String {
    format!(
        "CEF:0|Rampart|Rampart|{}|sigma-4711|Brute \\| force = \\\\ test|8|rt=RT cat=alert \
         externalId=42 cnt=3 shost=web-1\"}}, \"pwned\": {{\"x\": \"\\n src=203.0.113.7 \
         suser=bob\\=admin\\\\x\\nCEF:0|forged cs1Label=techniques cs1=T1110",
        env!("CARGO_PKG_VERSION")
    )
}

/// Checks the RFC 5424 header of a received line and returns its CEF message, `rt` masked.
fn cef_of(line: &str) -> String {
    let header = regex::Regex::new(r"^<(\d+)>1 (\S+) soc-1 rampart - alert - (CEF:.*)$").unwrap();
    let parts = header
        .captures(line)
        .unwrap_or_else(|| panic!("not RFC 5424: {line:?}"));
    // local4 (20) × 8 + error (3), for CEF severity 8.
    assert_eq!(&parts[1], "163");
    let at: jiff::Timestamp = parts[2].parse().expect("an RFC 3339 timestamp");
    assert!((jiff::Timestamp::now() - at).as_secs().abs() < 60, "{at}");
    assert!(parts[2].ends_with('Z'));
    let rt = regex::Regex::new(r"rt=\d+ ").unwrap();
    rt.replace(&parts[3], "rt=RT ").into_owned()
}

#[tokio::test]
async fn syslog_over_udp_carries_one_rfc5424_cef_line() {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let services = outbound(&format!(
        "[[destinations]]\nname = 'siem'\nkind = 'syslog'\naddress = '{}'\nfacility = 20\nhostname = 'soc-1'\n",
        socket.local_addr().unwrap()
    ));
    let answer = services.forward("siem", &hostile_facts()).await.unwrap();
    assert_eq!(answer["transport"], "udp");
    let mut datagram = vec![0u8; 65_536];
    let (length, _) = tokio::time::timeout(Duration::from_secs(5), socket.recv_from(&mut datagram))
        .await
        .expect("a datagram arrives")
        .unwrap();
    let line = std::str::from_utf8(&datagram[..length]).unwrap();
    assert_eq!(answer["bytes"], json!(length));
    assert!(!line.contains('\n'), "one line: {line:?}");
    assert_eq!(cef_of(line), expected_cef());
}

#[tokio::test]
async fn syslog_over_tcp_frames_by_octet_count() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let services = outbound(&format!(
        "[[destinations]]\nname = 'siem'\nkind = 'syslog'\naddress = '{}'\ntransport = 'tcp'\nfacility = 20\nhostname = 'soc-1'\n",
        listener.local_addr().unwrap()
    ));
    let reader = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).await.unwrap();
        bytes
    });
    services.forward("siem", &hostile_facts()).await.unwrap();
    let bytes = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let (length, line) = text.split_once(' ').expect("LENGTH SP MSG");
    assert_eq!(length.parse::<usize>().unwrap(), line.len());
    assert_eq!(cef_of(line), expected_cef());

    // Nobody listening: retryable.
    drop(services);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let services = outbound(&format!(
        "[[destinations]]\nname = 'siem'\nkind = 'syslog'\naddress = '{closed}'\ntransport = 'tcp'\n"
    ));
    assert!(
        services
            .forward("siem", &hostile_facts())
            .await
            .unwrap_err()
            .retryable
    );
}

#[tokio::test]
async fn lookups_encode_values_cache_answers_and_time_out() {
    let receiver = Receiver::start().await;
    let services = outbound(&format!(
        r#"
        [[lookups]]
        name = "intel"
        url = "{base}/api/{{{{kind}}}}/{{{{value}}}}?source=rampart"
        headers = [{{ name = "X-Api-Key", value = "k" }}]
        [[lookups]]
        name = "slow"
        url = "{base}/slow/{{{{value}}}}"
        timeout = "1s"
        "#,
        base = receiver.url
    ));
    let url = Indicator::parse(
        IndicatorKind::Url,
        "http://evil.example/a b?c=d&e=f\"x#frag",
    )
    .unwrap();
    assert_eq!(url.value(), "http://evil.example/a%20b?c=d&e=f%22x");
    let domain = Indicator::parse(IndicatorKind::Domain, "evil.example").unwrap();
    let long_text: &'static str = Box::leak("y".repeat(10_000).into_boxed_str());
    receiver.plan([
        Reply::Status(200, r#"{"verdict": "malicious"}"#),
        Reply::Status(404, "not found"),
    ]);
    let answer = services
        .lookup("intel", &[url.clone(), domain.clone()])
        .await
        .unwrap();
    assert_eq!(
        answer,
        json!({
            "http://evil.example/a%20b?c=d&e=f%22x": {"verdict": "malicious"},
            "evil.example": null,
        })
    );
    let targets: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.target.clone())
        .collect();
    assert_eq!(
        targets,
        [
            "/api/url/http%3A%2F%2Fevil.example%2Fa%2520b%3Fc%3Dd%26e%3Df%2522x?source=rampart",
            "/api/domain/evil.example?source=rampart",
        ]
    );
    assert_eq!(receiver.received()[0].headers["x-api-key"], "k");

    // Asked again: both answers (the 404 too) come from the cache.
    let again = services
        .lookup("intel", &[domain.clone(), url.clone()])
        .await
        .unwrap();
    assert_eq!(again, answer);
    assert_eq!(receiver.count(), 2, "the cache answered");

    // Text that is not JSON is kept, cut to 4 KiB.
    receiver.plan([Reply::Status(200, long_text)]);
    let ip = Indicator::parse(IndicatorKind::Ipv4, "203.0.113.7").unwrap();
    let answer = services
        .lookup("intel", std::slice::from_ref(&ip))
        .await
        .unwrap();
    assert_eq!(answer["203.0.113.7"], Value::String("y".repeat(4096)));

    // A lookup that hangs fails, retryably, when its timeout is up; nothing is cached.
    receiver.plan([Reply::Hang, Reply::Status(500, "")]);
    let started = Instant::now();
    let err = services
        .lookup("slow", std::slice::from_ref(&ip))
        .await
        .unwrap_err();
    assert!(err.retryable);
    assert_eq!(err.message, "lookup \"slow\": no answer within 1s");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(services.lookup("slow", &[ip]).await.unwrap_err().retryable);
}
