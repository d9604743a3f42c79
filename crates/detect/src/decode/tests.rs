//! Registry, sniffing, path helpers, hostile input and the network listeners.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use proptest::prelude::*;

use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn options() -> Options {
    Options {
        reference_time: "2024-03-11T00:00:00Z".parse().unwrap(),
        ..Options::default()
    }
}

fn decode_fixture(name: &str) -> (Collect, Summary) {
    let mut sink = Collect::default();
    let summary = decode_path(&fixture(name), &options(), &mut sink).unwrap();
    (sink, summary)
}

#[test]
fn every_decoder_is_found_by_its_name() {
    for decoder in DECODERS {
        assert_eq!(
            by_name(decoder.name()).map(|found| found.name()),
            Some(decoder.name())
        );
    }
    assert!(by_name("nope").is_none());
    let error = decode_reader(
        "nope",
        "x",
        &mut &b""[..],
        &options(),
        &mut Collect::default(),
    )
    .unwrap_err();
    assert!(error.to_string().contains("known: evtx, zeek"));
}

#[test]
fn fixtures_are_sniffed_to_their_decoder() {
    for (file, expected) in [
        ("maillog", "syslog"),
        ("bind-rpz.log", "rpz"),
        ("unbound-rpz.log", "rpz"),
        ("eve.json", "suricata"),
        ("cef.log", "cef"),
    ] {
        let decoder = for_path(&fixture(file)).unwrap();
        assert_eq!(decoder.name(), expected, "{file}");
    }
}

#[test]
fn postfix_fixture_counts_rejects_and_deliveries() {
    let (sink, summary) = decode_fixture("maillog");
    assert_eq!(
        summary,
        Summary {
            events: 13,
            errors: 0
        }
    );
    let actions: Vec<&str> = sink
        .events
        .iter()
        .filter_map(|event| event.get_str("postfix.action"))
        .collect();
    assert_eq!(
        actions,
        [
            "connect",
            "reject",
            "disconnect",
            "connect",
            "client",
            "message-id",
            "milter-reject",
            "client",
            "queued",
            "sent",
            "deferred",
            "bounced",
            "removed"
        ]
    );
    assert!(sink.events.iter().all(|event| event.format == "postfix"));
}

#[test]
fn rpz_fixtures_decode_and_the_stray_line_is_a_counted_error() {
    let (bind, summary) = decode_fixture("bind-rpz.log");
    assert_eq!(
        summary,
        Summary {
            events: 3,
            errors: 1
        }
    );
    assert_eq!(
        bind.errors[0].reference().unwrap().locator,
        Locator::Line(4)
    );
    assert_eq!(
        bind.events[0].time.unwrap().to_string(),
        "2024-03-10T10:00:00.123Z"
    );
    assert_eq!(
        bind.events[2].get_str("rpz.client_ip"),
        Some("2001:db8::53")
    );
    assert_eq!(bind.events[2].get_str("rpz.action"), Some("local-data"));
    assert_eq!(bind.events[2].get_str("rpz.policy"), Some("IP"));
    let (unbound, summary) = decode_fixture("unbound-rpz.log");
    assert_eq!(
        summary,
        Summary {
            events: 2,
            errors: 0
        }
    );
    assert_eq!(unbound.events[1].get_str("rpz.action"), Some("local-data"));
    assert_eq!(
        unbound.events[1].get_str("rpz.rule"),
        Some("*.bad.example.")
    );
    assert_eq!(
        unbound.events[0].time.unwrap().to_string(),
        "2024-03-10T10:00:00Z"
    );
}

#[test]
fn suricata_events_are_typed_by_event_type() {
    let (sink, summary) = decode_fixture("eve.json");
    assert_eq!(
        summary,
        Summary {
            events: 7,
            errors: 1
        }
    );
    let formats: Vec<&str> = sink
        .events
        .iter()
        .map(|event| event.format.as_str())
        .collect();
    assert_eq!(
        formats,
        [
            "suricata.alert",
            "suricata.dns",
            "suricata.http",
            "suricata.tls",
            "suricata.fileinfo",
            "suricata.flow",
            "suricata.smtp"
        ]
    );
    assert_eq!(
        sink.events[0].time.unwrap().to_string(),
        "2024-03-10T10:00:00.123456Z"
    );
    assert!(
        sink.errors[0]
            .to_string()
            .contains("eve.json:8: suricata: eve record without a string event_type")
    );
}

#[test]
fn cef_fixture() {
    let (sink, summary) = decode_fixture("cef.log");
    assert_eq!(
        summary,
        Summary {
            events: 3,
            errors: 1
        }
    );
    assert_eq!(sink.events[1].get_str("deviceProduct"), Some("Mail|Guard"));
    assert_eq!(
        sink.events[1].get_str("msg"),
        Some("first line\nsecond line with a = sign")
    );
    assert_eq!(
        sink.events[2].get_str("filePath"),
        Some(r"C:\Users\x\a.exe")
    );
}

#[test]
fn gzip_is_recognised_by_content_and_directories_are_walked() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();
    let log = std::fs::read(fixture("eve.json")).unwrap();
    // Named without `.gz` on purpose: the magic bytes decide.
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(nested.join("eve.rotated")).unwrap(),
        flate2::Compression::fast(),
    );
    encoder.write_all(&log).unwrap();
    encoder.finish().unwrap();
    std::fs::copy(fixture("cef.log"), dir.path().join("cef.log")).unwrap();
    std::fs::write(dir.path().join("junk.bin"), [0u8, 1, 2, 3, 0xff]).unwrap();
    std::fs::write(dir.path().join(".hidden"), "ignored").unwrap();
    let mut sink = Collect::default();
    let summary = decode_path(dir.path(), &options(), &mut sink).unwrap();
    // 7 + 3 events; 1 + 1 bad lines and the binary file.
    assert_eq!(
        summary,
        Summary {
            events: 10,
            errors: 3
        }
    );
    assert!(sink.errors.iter().any(
        |error| matches!(error, DecodeError::UnknownFormat { input } if input.ends_with("junk.bin"))
    ));
    let from_gzip = sink
        .events
        .iter()
        .find(|event| event.reference.source.ends_with("eve.rotated"))
        .unwrap();
    assert_eq!(from_gzip.reference.locator, Locator::Line(1));
}

#[test]
fn overlong_lines_are_errors_and_decoding_goes_on() {
    let mut text = "x".repeat(lines::MAX_LINE + 10);
    text.push_str("\n{\"a\":1}\n");
    let mut sink = Collect::default();
    let summary =
        decode_reader("jsonl", "big", &mut text.as_bytes(), &options(), &mut sink).unwrap();
    assert_eq!(
        summary,
        Summary {
            events: 1,
            errors: 1
        }
    );
    assert_eq!(sink.events[0].reference.locator, Locator::Line(2));
}

#[test]
fn evtx_rejects_files_that_are_not_evtx() {
    let mut sink = Collect::default();
    let error = decode_reader(
        "evtx",
        "fake.evtx",
        &mut &b"ElfFile\0 but then nothing"[..],
        &options(),
        &mut sink,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("fake.evtx: evtx: not a readable evtx file"),
        "{error}"
    );
}

const LINE_DECODERS: [&str; 9] = [
    "jsonl",
    "syslog",
    "cef",
    "apache",
    "zeek",
    "rpz",
    "suricata",
    "proxifier",
    "text",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Hostile bytes never panic a line decoder, and every line is an event or an error.
    #[test]
    fn line_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        for name in LINE_DECODERS {
            let mut sink = Collect::default();
            let summary = decode_reader(name, "fuzz", &mut bytes.as_slice(), &options(), &mut sink);
            prop_assert!(summary.is_ok());
        }
    }

    /// Near-miss text (shapes of the real formats with random parts) never panics either.
    #[test]
    fn near_miss_lines_never_panic(
        prefix in prop::sample::select(vec!["<13>1 ", "<34>", "Mar  9 10:00:00 h p[1]: ", "CEF:0|", "[10.30 16:49:06] a - ", "#separator \\x09\n#fields\ta\tb\n#types\tset[count]\ttime\n", "1.2.3.4 - - [", "{\"event_type\":", "client @0x1 ", "rpz: applied ["]),
        body in "[ -~\\\\\\[\\]|=\"#@:<>\u{e9}\u{feff}]{0,120}",
    ) {
        let line = format!("{prefix}{body}\n{body}\n");
        for name in LINE_DECODERS {
            let mut sink = Collect::default();
            prop_assert!(decode_reader(name, "fuzz", &mut line.as_bytes(), &options(), &mut sink).is_ok());
        }
        let _ = parse_syslog(&line, crate::event::EventRef::line("fuzz", 1), &options());
    }
}

#[tokio::test]
async fn udp_listener_counts_events_and_garbage() {
    let sink = Arc::new(Mutex::new(Collect::default()));
    let listener = listen_udp("127.0.0.1:0".parse().unwrap(), options(), Arc::clone(&sink))
        .await
        .unwrap();
    let client = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr();
    client
        .send_to(
            b"<34>Mar 10 10:00:00 gate sshd[1]: Invalid user x from 192.0.2.9\n",
            target,
        )
        .await
        .unwrap();
    client
        .send_to(&[0u8, 159, 146, 150, 1, 2], target)
        .await
        .unwrap();
    client
        .send_to(b"<13>1 2024-03-10T10:00:00Z h app - - - hello", target)
        .await
        .unwrap();
    wait_for(|| listener.counters().snapshot().0 >= 3).await;
    let counters = listener.shutdown().await;
    assert_eq!(counters.snapshot(), (3, 2, 1, 0));
    let sink = sink.lock().unwrap();
    assert_eq!(sink.events[0].get_str("sshd.ip"), Some("192.0.2.9"));
    assert!(
        sink.events[0]
            .reference
            .source
            .starts_with("syslog+udp://127.0.0.1:")
    );
    assert!(sink.errors[0].to_string().contains("binary data"));
}

#[tokio::test]
async fn tcp_listener_accepts_both_framings_and_survives_garbage() {
    use tokio::io::AsyncWriteExt;
    let sink = Arc::new(Mutex::new(Collect::default()));
    let listener = listen_tcp("127.0.0.1:0".parse().unwrap(), options(), Arc::clone(&sink))
        .await
        .unwrap();
    let target = listener.local_addr();
    let mut framed = tokio::net::TcpStream::connect(target).await.unwrap();
    let first = "<13>1 2024-03-10T10:00:00Z h app - - - one\nline";
    let message = format!("{} {first}", first.len());
    // Split writes so frames straddle reads.
    framed.write_all(&message.as_bytes()[..10]).await.unwrap();
    framed.flush().await.unwrap();
    framed.write_all(&message.as_bytes()[10..]).await.unwrap();
    framed
        .write_all(b"2024-03-10T10:00:01Z host app: newline framed\n<13>Mar 10 10:00:02 h a: tail")
        .await
        .unwrap();
    framed.shutdown().await.unwrap();
    drop(framed);
    let mut garbage = tokio::net::TcpStream::connect(target).await.unwrap();
    garbage.write_all(b"99999999 \x00\x01\x02").await.unwrap();
    drop(garbage);
    let mut after = tokio::net::TcpStream::connect(target).await.unwrap();
    after
        .write_all(b"<13>Mar 10 10:00:03 h a: still listening\n")
        .await
        .unwrap();
    drop(after);
    wait_for(|| listener.counters().snapshot().0 >= 5).await;
    let counters = listener.shutdown().await;
    assert_eq!(counters.snapshot(), (5, 4, 1, 3));
    let sink = sink.lock().unwrap();
    let messages: Vec<&str> = sink
        .events
        .iter()
        .filter_map(|event| event.get_str("message"))
        .collect();
    assert!(messages.contains(&"one\nline"), "{messages:?}");
    assert!(messages.contains(&"newline framed"));
    assert!(messages.contains(&"tail"));
    assert!(messages.contains(&"still listening"));
}

/// A sink with room for one event: what a full pipeline looks like to a listener.
struct Narrow(tokio::sync::mpsc::Sender<Event>);

impl StreamSink for Narrow {
    async fn event(&self, event: Event) {
        let _ = self.0.send(event).await;
    }
    fn error(&self, error: DecodeError) {
        panic!("unexpected error {error}");
    }
}

#[tokio::test]
async fn a_full_sink_stops_tcp_reads_and_the_sender_waits_without_loss() {
    use tokio::io::AsyncWriteExt;
    let (sender, mut receiver) = tokio::sync::mpsc::channel(1);
    let listener = listen_tcp("127.0.0.1:0".parse().unwrap(), options(), Narrow(sender))
        .await
        .unwrap();
    let target = listener.local_addr();
    // Far more than the kernel buffers of a loopback connection hold.
    let total = 200_000u64;
    let writer = tokio::spawn(async move {
        let mut stream = tokio::net::TcpStream::connect(target).await.unwrap();
        let mut batch = String::new();
        for n in 0..total {
            batch.push_str(&format!(
                "<13>Mar 10 10:00:02 host app: message number {n:08}\n"
            ));
            if batch.len() > 64 * 1024 {
                stream.write_all(batch.as_bytes()).await.unwrap();
                batch.clear();
            }
        }
        stream.write_all(batch.as_bytes()).await.unwrap();
        stream.shutdown().await.unwrap();
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (messages, ..) = listener.counters().snapshot();
    assert!(messages <= 3, "read on while the sink was full: {messages}");
    assert!(!writer.is_finished(), "the sender was not held back");
    let mut received = 0u64;
    while received < total {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), receiver.recv())
            .await
            .expect("events keep coming")
            .expect("listener alive");
        let expected = format!("message number {received:08}");
        assert_eq!(event.get_str("message"), Some(expected.as_str()));
        received += 1;
    }
    writer.await.unwrap();
    let counters = listener.shutdown().await;
    assert_eq!(counters.snapshot(), (total, total, 0, 1));
}

async fn wait_for(mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
