//! The email channel against a real SMTP server on loopback: aiosmtpd (PyPI), which writes what
//! it receives to a Maildir; Python's own `email` package reads the mail back, so the check
//! does not trust our writer.
//!
//! aiosmtpd comes from `$RAMPART_AIOSMTPD_PYTHON`, else `<workspace>/.venv-smtp/bin/python`
//! (`python3 -m venv .venv-smtp && .venv-smtp/bin/pip install aiosmtpd`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use rampart_respond::playbook::outbound::{Outbound, OutboundConfig};
use rampart_respond::playbook::{ActionServices, Facts, Message};
use serde_json::{Value, json};

/// The Python with aiosmtpd, or `None` (the skip is recorded) when there is none.
fn python_with_aiosmtpd(test: &str) -> Option<PathBuf> {
    let python = match std::env::var_os("RAMPART_AIOSMTPD_PYTHON") {
        Some(path) => PathBuf::from(path),
        None => rampart_testkit::workspace_root().join(".venv-smtp/bin/python"),
    };
    let importable = std::process::Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if importable {
        return Some(python);
    }
    rampart_testkit::skip_service(
        test,
        "aiosmtpd",
        &format!(
            "{} cannot import aiosmtpd (python3 -m venv .venv-smtp && .venv-smtp/bin/pip install aiosmtpd, or set RAMPART_AIOSMTPD_PYTHON)",
            python.display()
        ),
    );
    None
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Starts aiosmtpd on `port`, writing mail into `maildir`; returns once it accepts connections.
async fn start_smtp(python: &Path, port: u16, maildir: &Path) -> tokio::process::Child {
    let child = tokio::process::Command::new(python)
        .args(["-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("aiosmtpd starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "aiosmtpd never listened on {port}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child
}

/// Every mail in the Maildir, as Python's email package reads it.
fn read_maildir(python: &Path, maildir: &Path) -> Vec<Value> {
    let script = r#"
import json, mailbox, sys
from email.header import decode_header, make_header
mails = []
for message in mailbox.Maildir(sys.argv[1], create=False):
    mails.append({
        "subject": str(make_header(decode_header(message["Subject"]))),
        "from": message["From"],
        "to": message["To"],
        "envelope_from": message["X-MailFrom"],
        "envelope_to": message["X-RcptTo"],
        "content_type": message.get_content_type(),
        "body": message.get_payload(decode=True).decode(message.get_content_charset() or "ascii"),
    })
print(json.dumps(mails))
"#;
    let output = std::process::Command::new(python)
        .args(["-c", script])
        .arg(maildir)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON from the reader")
}

#[tokio::test]
async fn an_email_reaches_a_real_smtp_server() {
    let test = "an_email_reaches_a_real_smtp_server";
    let Some(python) = python_with_aiosmtpd(test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("mail");
    let port = free_port();
    let _server = start_smtp(&python, port, &maildir).await;
    let config: OutboundConfig = toml::from_str(&format!(
        r#"
        [[channels]]
        name = "soc-mail"
        kind = "email"
        smtp_port = {port}
        from = "Rampart <rampart@example.org>"
        to = ["soc@example.org", "On Call <oncall@example.org>"]
        "#
    ))
    .unwrap();
    let services = Outbound::new(&config).expect("the services build");
    let message = Message {
        channel: "soc-mail".into(),
        subject: "Blocked évil.example — phishing".into(),
        text: "Rampart blocked évil.example.\nReason: campaign Storm-1234\n".into(),
        facts: Facts::new(json!({})),
    };
    let answer = services.notify(&message).await.expect("sent");
    assert_eq!(answer["smtp"], "250");
    assert_eq!(
        answer["to"],
        json!(["soc@example.org", "oncall@example.org"])
    );

    let mails = read_maildir(&python, &maildir);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let mail = &mails[0];
    assert_eq!(mail["subject"], "Blocked évil.example — phishing");
    assert_eq!(mail["from"], "Rampart <rampart@example.org>");
    assert_eq!(
        mail["to"],
        "soc@example.org, \"On Call\" <oncall@example.org>"
    );
    assert_eq!(mail["envelope_from"], "rampart@example.org");
    assert_eq!(mail["envelope_to"], "soc@example.org, oncall@example.org");
    assert_eq!(mail["content_type"], "text/plain");
    // The transfer encoding ends the body with a line break of its own.
    assert_eq!(
        mail["body"]
            .as_str()
            .unwrap()
            .replace("\r\n", "\n")
            .trim_end(),
        "Rampart blocked évil.example.\nReason: campaign Storm-1234"
    );
}

#[tokio::test]
async fn an_smtp_server_that_is_down_is_a_retryable_failure() {
    let port = free_port();
    let config: OutboundConfig = toml::from_str(&format!(
        "[[channels]]\nname = 'mail'\nkind = 'email'\nsmtp_port = {port}\nfrom = 'rampart@example.org'\nto = ['soc@example.org']\n"
    ))
    .unwrap();
    let services = Outbound::new(&config).unwrap();
    let message = Message {
        channel: "mail".into(),
        subject: "s".into(),
        text: "t".into(),
        facts: Facts::new(json!({})),
    };
    let err = services.notify(&message).await.unwrap_err();
    assert!(err.retryable, "{err:?}");
    assert!(
        err.message.starts_with("channel \"mail\": "),
        "{}",
        err.message
    );
}
