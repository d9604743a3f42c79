//! The RPZ zone as BIND reads it: `named-checkzone` must load it, and a real `named` using it
//! as its response policy must answer NXDOMAIN for listed names, their subdomains and answers
//! holding listed addresses — and nothing else — without complaining about a trigger name.

mod common;

use std::net::{TcpListener, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{hostile_items, item, mixed_items, render, run, text, tool, write};
use rampart_model::IndicatorKind;
use rampart_respond::blocklist::{Format, RenderOptions, RpzPolicy};

#[test]
fn named_checkzone_accepts_the_rpz_zone() {
    let Some(checkzone) = tool("named-checkzone") else {
        rampart_testkit::skip_service(
            "named_checkzone_accepts_the_rpz_zone",
            "named-checkzone",
            "install bind9-utils",
        );
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let mut items = mixed_items();
    items.extend(hostile_items());
    for (policy, subdomains) in [
        (RpzPolicy::Nxdomain, true),
        (RpzPolicy::Nodata, false),
        (RpzPolicy::Drop, true),
        (RpzPolicy::Redirect("walled-garden.example.".into()), true),
    ] {
        let mut options = RenderOptions::default();
        options.rpz.policy = policy.clone();
        options.rpz.subdomains = subdomains;
        let rendered = render(Format::Rpz, "c2", &options, &items);
        assert_eq!(rendered.rejected.len(), 5, "{:?}", rendered.rejected);
        assert!(
            rendered
                .body
                .contains("\n128.1.0.0.1.zz.db8.2001.rpz-ip CNAME ")
        );
        assert!(
            rendered
                .body
                .contains("\n48.zz.abcd.db8.2001.rpz-ip CNAME ")
        );
        assert!(rendered.body.contains("\n24.0.113.0.203.rpz-ip CNAME "));
        assert_eq!(
            rendered.body.contains("\n*.evil.example CNAME "),
            subdomains
        );
        let path = write(directory.path(), "c2.rpz.zone", &rendered.body);
        let output = run(Command::new(&checkzone)
            .args(["-k", "fail", "-n", "fail", "-i", "full", "rpz.rampart"])
            .arg(&path));
        assert!(
            output.status.success(),
            "{policy:?}: {}\n{}",
            text(&output),
            rendered.body
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains("loaded serial 7") && stdout.trim_end().ends_with("OK"),
            "{stdout}"
        );
    }

    // The zone names its origin: loaded under another zone name it fails instead of silently
    // holding nothing.
    let rendered = render(Format::Rpz, "c2", &RenderOptions::default(), &mixed_items());
    let path = write(directory.path(), "c2.rpz.zone", &rendered.body);
    let output = run(Command::new(&checkzone).arg("rpz.other").arg(&path));
    assert!(!output.status.success(), "{}", text(&output));
}

/// A running `named`, killed on drop.
struct Named(Child);

impl Drop for Named {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    // A port free for both UDP and TCP, as named listens on both.
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn query(dig: &std::path::Path, port: u16, name: &str, record: &str) -> String {
    let output = run(Command::new(dig).args([
        "@127.0.0.1",
        "-p",
        &port.to_string(),
        "+tries=1",
        "+time=2",
        name,
        record,
    ]));
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .split("status: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or("no answer")
        .to_owned()
}

#[test]
// A synchronous test polling a child process: sleeping between polls blocks nothing else.
#[allow(clippy::disallowed_methods)]
fn named_applies_the_policy_to_names_subdomains_and_addresses() {
    let (Some(named), Some(dig)) = (tool("named"), tool("dig")) else {
        rampart_testkit::skip_service(
            "named_applies_the_policy_to_names_subdomains_and_addresses",
            "named",
            "install bind9 and bind9-dnsutils",
        );
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let items = [
        item(1, IndicatorKind::Domain, "evil.example", "c2"),
        item(2, IndicatorKind::Ipv4, "198.51.100.7", ""),
        item(3, IndicatorKind::Ipv6, "2001:db8:0:0:1:0:0:1", ""),
        item(4, IndicatorKind::Cidr, "203.0.113.0/24", ""),
        item(5, IndicatorKind::Url, "http://phish.example/login", ""),
        item(6, IndicatorKind::Ipv6, "2001:db8:0:1:1:1:1:1", ""),
        item(7, IndicatorKind::Cidr, "2001:db8:abcd::/48", ""),
    ];
    let rendered = render(Format::Rpz, "c2", &RenderOptions::default(), &items);
    write(directory.path(), "rpz.zone", &rendered.body);
    // An authoritative zone whose answers the policy rewrites.
    write(
        directory.path(),
        "example.zone",
        "$TTL 60\n@ SOA ns.example. hostmaster.example. 1 60 60 60 60\n@ NS ns.example.\n\
         ns A 127.0.0.1\nevil A 192.0.2.10\nsub.evil A 192.0.2.11\nnotevil A 192.0.2.12\n\
         phish A 192.0.2.13\nlisted-v4 A 198.51.100.7\nlisted-v6 AAAA 2001:db8::1:0:0:1\n\
         single-zero AAAA 2001:db8:0:1:1:1:1:1\nin-v6-net AAAA 2001:db8:abcd::99\n\
         in-net A 203.0.113.9\nclean A 192.0.2.99\nclean-v6 AAAA 2001:db8:ffff::1\n",
    );
    let port = free_port();
    let root = directory.path().display();
    write(
        directory.path(),
        "named.conf",
        &format!(
            "options {{ directory \"{root}\"; pid-file \"{root}/named.pid\"; \
             listen-on port {port} {{ 127.0.0.1; }}; listen-on-v6 {{ none; }}; \
             recursion yes; allow-recursion {{ 127.0.0.1; }}; dnssec-validation no; \
             response-policy {{ zone \"rpz.rampart\"; }} qname-wait-recurse no; }};\n\
             zone \"example\" {{ type primary; file \"example.zone\"; }};\n\
             zone \"rpz.rampart\" {{ type primary; file \"rpz.zone\"; allow-query {{ none; }}; }};\n"
        ),
    );
    let log_path = directory.path().join("named.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = Command::new(&named)
        .args(["-g", "-c"])
        .arg(directory.path().join("named.conf"))
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let _named = Named(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while query(&dig, port, "clean.example", "A") != "NOERROR" {
        assert!(
            Instant::now() < deadline,
            "named did not start:\n{}",
            std::fs::read_to_string(&log_path).unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let cases = [
        ("evil.example", "A", "NXDOMAIN"),
        ("sub.evil.example", "A", "NXDOMAIN"),
        ("notevil.example", "A", "NOERROR"),
        ("phish.example", "A", "NXDOMAIN"),
        ("listed-v4.example", "A", "NXDOMAIN"),
        ("listed-v6.example", "AAAA", "NXDOMAIN"),
        ("single-zero.example", "AAAA", "NXDOMAIN"),
        ("in-v6-net.example", "AAAA", "NXDOMAIN"),
        ("in-net.example", "A", "NXDOMAIN"),
        ("clean.example", "A", "NOERROR"),
        ("clean-v6.example", "AAAA", "NOERROR"),
    ];
    let log = || std::fs::read_to_string(&log_path).unwrap();
    for (name, record, expected) in cases {
        assert_eq!(
            query(&dig, port, name, record),
            expected,
            "{name} {record}\n{}\n{}",
            rendered.body,
            log()
        );
    }
    let log = log();
    assert!(
        log.contains("rpz: rpz.rampart: reload done: success"),
        "{log}"
    );
    assert!(
        !log.contains("invalid rpz") && !log.contains("is not the canonical"),
        "{log}"
    );
}
