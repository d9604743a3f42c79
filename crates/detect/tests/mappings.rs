//! Field mappings against real events: every field a mapping names occurs in the corpus (or,
//! for layouts the corpus lacks — ECS, Postfix, RPZ, Suricata, CEF — in this crate's own
//! fixtures), and the observables of chosen real events are the values read from the files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rampart_detect::Event;
use rampart_detect::decode::{self, Collect, Options};
use rampart_detect::mappings::{Direction, FieldMap, Observable, ObservableKind};

fn options() -> Options {
    Options {
        reference_time: "2026-11-27T00:00:00Z".parse().unwrap(),
        ..Options::default()
    }
}

fn decode_all(paths: &[PathBuf]) -> Vec<Event> {
    let mut sink = Collect::default();
    for path in paths {
        decode::decode_path(path, &options(), &mut sink).unwrap();
    }
    sink.events
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn map(name: &str) -> &'static FieldMap {
    FieldMap::builtin()
        .iter()
        .find(|map| map.name == name)
        .unwrap()
}

/// Asserts every path the mapping names has a value in at least one covered event.
fn assert_fields_occur(map: &FieldMap, events: &[Event]) {
    let covered: Vec<&Event> = events
        .iter()
        .filter(|event| map.covers(&event.format))
        .collect();
    assert!(
        !covered.is_empty(),
        "{}: no events of its formats",
        map.name
    );
    let mut paths: Vec<&str> = map.fields.iter().map(|spec| spec.path.as_str()).collect();
    for url in &map.urls {
        paths.push(&url.host);
        paths.push(&url.path);
        paths.extend(url.scheme.as_deref());
    }
    let missing: BTreeSet<&str> = paths
        .into_iter()
        .filter(|path| {
            !covered
                .iter()
                .any(|event| map.find(event, path).is_some_and(|value| !value.is_null()))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "{}: fields in no event: {missing:?}",
        map.name
    );
}

fn observed<'a>(
    map: &'a FieldMap,
    event: &'a Event,
) -> Vec<(ObservableKind, String, Option<Direction>)> {
    map.observables(event)
        .map(
            |Observable {
                 kind,
                 value,
                 direction,
                 ..
             }| (kind, value.into_owned(), direction),
        )
        .collect()
}

use Direction::{Destination, Source};
use ObservableKind::{Domain, Email, Hash, Ip, Url};

#[test]
fn fixture_layouts_have_every_mapped_field() {
    let events = decode_all(&[
        fixture("ecs.jsonl"),
        fixture("maillog"),
        fixture("bind-rpz.log"),
        fixture("unbound-rpz.log"),
        fixture("eve.json"),
        fixture("cef.log"),
    ]);
    for name in ["ecs", "postfix", "rpz", "suricata", "cef"] {
        assert_fields_occur(map(name), &events);
    }
    let alert = events
        .iter()
        .find(|event| event.format == "suricata.alert")
        .unwrap();
    assert_eq!(
        observed(map("suricata"), alert),
        [
            (Ip, "192.0.2.10".into(), Some(Source)),
            (Ip, "198.51.100.80".into(), Some(Destination)),
            (Domain, "evil.example".into(), Some(Destination)),
            (
                Url,
                "http://evil.example/payload.bin".into(),
                Some(Destination)
            ),
        ]
    );
    let email = events
        .iter()
        .find(|event| event.get("email.to.address").is_some())
        .unwrap();
    assert_eq!(
        observed(map("ecs"), email),
        [
            (Email, "attacker@evil.example".into(), Some(Source)),
            (Email, "bob@corp.example".into(), Some(Destination)),
            (Email, "carol@corp.example".into(), Some(Destination)),
        ]
    );
    let edr = events
        .iter()
        .find(|event| event.get_str("deviceProduct") == Some("EDR"))
        .unwrap();
    // `shost` is a name, `src` an address; no `suser`, so no email.
    assert_eq!(
        observed(map("cef"), edr),
        [
            (Ip, "192.0.2.12".into(), Some(Source)),
            (Domain, "ws12.corp.example".into(), Some(Source)),
            (
                Hash,
                "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f".into(),
                None
            ),
        ]
    );
}

#[test]
fn windows_mapping_fields_occur_in_evtx_and_flat_exports() {
    let Some(data) = rampart_testkit::corpus("windows_field_mapping") else {
        return;
    };
    let events = decode_all(&[
        data.join("logs/evtx"),
        data.join("logs/security-datasets/atomic/windows"),
        data.join("sigma/regression_data"),
    ]);
    assert_fields_occur(map("windows"), &events);
    // Sysmon 7 of the EDR-Freeze regression sample: the import hash is left out.
    let image_load = events
        .iter()
        .find(|event| {
            event.get_str("Event.EventData.ImageLoaded")
                == Some("C:\\Windows\\System32\\dbgcore.dll")
        })
        .unwrap();
    assert_eq!(
        observed(map("windows"), image_load),
        [
            (
                Hash,
                "5E4F2C531C549BB72A658ED9DD16D491EDDBB286".into(),
                None
            ),
            (Hash, "FAB4B30C1C4F0A9202A7B42DCF1729DC".into(), None),
            (
                Hash,
                "1B48A4F8D20026E6C56E3AB4CC4788FA6425C8A75F8D91C2869FA533DE6B209E".into(),
                None
            ),
        ]
    );
    // First line of cmd_lsass_memory_dumpert_syscalls: a 5156 exported flat.
    let flat = events
        .iter()
        .find(|event| {
            event.format == "jsonl.windows" && event.get_str("DestAddress") == Some("168.63.129.16")
        })
        .unwrap();
    assert_eq!(
        observed(map("windows"), flat),
        [
            (Ip, "192.168.2.5".into(), Some(Source)),
            (Ip, "168.63.129.16".into(), Some(Destination))
        ]
    );
}

#[test]
fn zeek_web_and_sshd_mappings_against_the_corpus() {
    let Some(data) = rampart_testkit::corpus("zeek_web_sshd_field_mapping") else {
        return;
    };
    let logs = data.join("logs");
    let zeek = decode_all(&[
        logs.join("zeek-wrccdc"),
        logs.join("security-datasets/compound"),
    ]);
    // `server_name`, `referrer` and `x_originating_ip` are declared by the corpus logs but
    // unset in every row, so two small fixtures of our own carry them.
    let mut with_fixtures = zeek.clone();
    with_fixtures.extend(decode_all(&[
        fixture("zeek-ssl.log"),
        fixture("zeek-http-smtp.json"),
    ]));
    assert_fields_occur(map("zeek"), &with_fixtures);
    let fixture_http = with_fixtures
        .iter()
        .find(|event| event.get_str("uid") == Some("Chttp01"))
        .unwrap();
    assert_eq!(
        observed(map("zeek"), fixture_http),
        [
            (Ip, "192.0.2.10".into(), Some(Source)),
            (Ip, "198.51.100.80".into(), Some(Destination)),
            (Domain, "evil.example".into(), Some(Destination)),
            (Url, "http://lure.example/mail".into(), None),
            (
                Url,
                "http://evil.example/login.php?u=1".into(),
                Some(Destination)
            ),
        ]
    );
    // First conn.log line of the LSASS campaign (TSV).
    let conn = zeek
        .iter()
        .find(|event| event.get_str("uid") == Some("Cnsu5m395zFmE9ikp4"))
        .unwrap();
    assert_eq!(
        observed(map("zeek"), conn),
        [
            (Ip, "192.168.1.41".into(), Some(Source)),
            (Ip, "192.168.1.4".into(), Some(Destination))
        ]
    );
    // First http.log record of the apt29 capture (JSON): host + uri make the URL.
    let http = zeek
        .iter()
        .find(|event| {
            event.get_str("uid") == Some("ChOJWf3yQbPwENbBK1") && event.format == "zeek.http"
        })
        .unwrap();
    assert_eq!(
        observed(map("zeek"), http),
        [
            (Ip, "10.0.1.4".into(), Some(Source)),
            (Ip, "192.168.0.4".into(), Some(Destination)),
            (Ip, "192.168.0.4".into(), Some(Destination)),
            (Url, "http://192.168.0.4/".into(), Some(Destination)),
        ]
    );

    let web = decode_all(&[
        logs.join("web/elastic-examples/apache_logs"),
        logs.join("loghub/Proxifier"),
    ]);
    assert_fields_occur(map("web"), &web);
    assert_eq!(
        observed(map("web"), &web[0]),
        [
            (Ip, "83.149.9.216".into(), Some(Source)),
            (
                Url,
                "http://semicomplete.com/presentations/logstash-monitorama-2013/".into(),
                None
            ),
        ]
    );
    let proxifier = web
        .iter()
        .find(|event| event.format == "proxifier")
        .unwrap();
    assert_eq!(
        observed(map("web"), proxifier),
        [
            (Domain, "proxy.cse.cuhk.edu.hk".into(), Some(Destination)),
            (Domain, "proxy.cse.cuhk.edu.hk".into(), None),
        ]
    );

    let sshd = decode_all(&[logs.join("loghub/OpenSSH/OpenSSH_2k.log")]);
    assert_fields_occur(map("sshd"), &sshd);
    // Line 1: reverse mapping failure; line 2: invalid user.
    assert_eq!(
        observed(map("sshd"), &sshd[0]),
        [
            (Ip, "173.234.31.186".into(), Some(Source)),
            (Domain, "ns.marryaldkfaczcz.com".into(), Some(Source))
        ]
    );
    assert_eq!(
        observed(map("sshd"), &sshd[1]),
        [(Ip, "173.234.31.186".into(), Some(Source))]
    );
}
