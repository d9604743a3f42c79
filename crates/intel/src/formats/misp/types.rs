//! What each MISP attribute type means to Rampart, as data: which indicator kinds a value of
//! that type carries (and in which part of a composite `a|b` value), and which galaxy types
//! name threats or ATT&CK techniques. The export direction (kind → MISP type) lives here too,
//! so both sides read one table.
//!
//! The type names follow MISP's `describeTypes` list. Types that carry nothing of Rampart's ten
//! indicator kinds (`text`, `comment`, `filename`, `regkey`, `yara`, `ssdeep`, `AS`, `link`…)
//! map to [`Mapping::Skip`]: they are context, not rejections.

use rampart_model::{Direction, IndicatorKind};

/// How to read the value of one attribute type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mapping {
    /// Not an indicator of any of Rampart's kinds.
    Skip,
    /// The whole value is one indicator.
    Whole(Part),
    /// A composite `left|right` value (`domain|ip`, `ip-dst|port`, `filename|sha256`…).
    Pair(Part, Part),
}

/// What one part of a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// An indicator of a fixed kind.
    Kind(IndicatorKind),
    /// An IPv4 or IPv6 address or a CIDR network, told apart by the value.
    Ip,
    /// A URL only when it names a scheme (`uri` is usually a bare path such as `/gate.php`).
    AbsoluteUrl,
    /// A TCP/UDP port, kept in `Observation::port`.
    Port,
    /// Free text carried along (a file name): not an indicator.
    Ignored,
}

/// One row of the type table.
struct Row {
    misp_type: &'static str,
    mapping: Mapping,
    direction: Option<Direction>,
    /// A label added to observations of this type, where the kind alone would mislead (an MD5
    /// that is a certificate fingerprint, not a file hash).
    label: Option<&'static str>,
}

const fn row(misp_type: &'static str, mapping: Mapping) -> Row {
    Row {
        misp_type,
        mapping,
        direction: None,
        label: None,
    }
}

const fn directed(misp_type: &'static str, mapping: Mapping, direction: Direction) -> Row {
    Row {
        misp_type,
        mapping,
        direction: Some(direction),
        label: None,
    }
}

const fn labelled(misp_type: &'static str, mapping: Mapping, label: &'static str) -> Row {
    Row {
        misp_type,
        mapping,
        direction: None,
        label: Some(label),
    }
}

use IndicatorKind::{Domain, Email, Md5, Sha1, Sha256, Sha512, Url};
use Mapping::{Pair, Whole};
use Part::{AbsoluteUrl, Ignored, Ip, Kind, Port};

const SRC: Direction = Direction::Source;
const DST: Direction = Direction::Destination;

/// Every MISP type that carries an indicator. Anything not listed is skipped.
const TABLE: &[Row] = &[
    directed("ip-src", Whole(Ip), SRC),
    directed("ip-dst", Whole(Ip), DST),
    directed("ip-src|port", Pair(Ip, Port), SRC),
    directed("ip-dst|port", Pair(Ip, Port), DST),
    row("domain", Whole(Kind(Domain))),
    row("hostname", Whole(Kind(Domain))),
    row("domain|ip", Pair(Kind(Domain), Ip)),
    row("hostname|port", Pair(Kind(Domain), Port)),
    row("domain|port", Pair(Kind(Domain), Port)),
    row("url", Whole(Kind(Url))),
    row("uri", Whole(AbsoluteUrl)),
    row("email", Whole(Kind(Email))),
    directed("email-src", Whole(Kind(Email)), SRC),
    directed("email-dst", Whole(Kind(Email)), DST),
    labelled("email-reply-to", Whole(Kind(Email)), "misp:email-reply-to"),
    labelled(
        "whois-registrant-email",
        Whole(Kind(Email)),
        "misp:whois-registrant-email",
    ),
    labelled("dns-soa-email", Whole(Kind(Email)), "misp:dns-soa-email"),
    row("md5", Whole(Kind(Md5))),
    row("sha1", Whole(Kind(Sha1))),
    row("sha256", Whole(Kind(Sha256))),
    row("sha512", Whole(Kind(Sha512))),
    row("filename|md5", Pair(Ignored, Kind(Md5))),
    row("filename|sha1", Pair(Ignored, Kind(Sha1))),
    row("filename|sha256", Pair(Ignored, Kind(Sha256))),
    row("filename|sha512", Pair(Ignored, Kind(Sha512))),
    // A sample's value is `filename|md5`; the file itself is in `data`, which is ignored.
    row("malware-sample", Pair(Ignored, Kind(Md5))),
    labelled(
        "x509-fingerprint-md5",
        Whole(Kind(Md5)),
        "misp:x509-fingerprint",
    ),
    labelled(
        "x509-fingerprint-sha1",
        Whole(Kind(Sha1)),
        "misp:x509-fingerprint",
    ),
    labelled(
        "x509-fingerprint-sha256",
        Whole(Kind(Sha256)),
        "misp:x509-fingerprint",
    ),
];

/// How a value of `misp_type` is read, its direction and any label it adds.
pub(crate) fn mapping(misp_type: &str) -> (Mapping, Option<Direction>, Option<&'static str>) {
    TABLE
        .iter()
        .find(|row| row.misp_type == misp_type)
        .map_or((Mapping::Skip, None, None), |row| {
            (row.mapping, row.direction, row.label)
        })
}

/// The MISP type and category an indicator of `kind` is exported as. Addresses and networks
/// are `ip-src` only when every source said so; else `ip-dst`, the usual "talks to a bad host".
pub(crate) fn export_type(kind: IndicatorKind, source_only: bool) -> (&'static str, &'static str) {
    match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr if source_only => {
            ("ip-src", "Network activity")
        }
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => {
            ("ip-dst", "Network activity")
        }
        IndicatorKind::Domain => ("domain", "Network activity"),
        IndicatorKind::Url => ("url", "Network activity"),
        IndicatorKind::Email => ("email-src", "Payload delivery"),
        IndicatorKind::Md5 => ("md5", "Payload delivery"),
        IndicatorKind::Sha1 => ("sha1", "Payload delivery"),
        IndicatorKind::Sha256 => ("sha256", "Payload delivery"),
        IndicatorKind::Sha512 => ("sha512", "Payload delivery"),
    }
}

/// Galaxy types whose clusters name a threat (actor, malware family, tool, campaign kit).
const THREAT_GALAXIES: &[&str] = &[
    "threat-actor",
    "malpedia",
    "ransomware",
    "tool",
    "rat",
    "botnet",
    "banker",
    "stealer",
    "backdoor",
    "android",
    "exploit-kit",
    "cryptominers",
    "tds",
    "microsoft-activity-group",
    "mitre-tool",
    "mitre-enterprise-attack-tool",
    "mitre-mobile-attack-tool",
    "360net",
    "surveillance-vendor",
];

/// Whether clusters of galaxy `galaxy_type` name threats.
pub(crate) fn is_threat_galaxy(galaxy_type: &str) -> bool {
    THREAT_GALAXIES.contains(&galaxy_type)
        || galaxy_type.contains("malware")
        || galaxy_type.contains("intrusion-set")
        || galaxy_type.contains("threat-actor")
}

/// Whether clusters of galaxy `galaxy_type` are ATT&CK techniques (not mitigations, which
/// also carry `T` ids in older galaxies).
pub(crate) fn is_technique_galaxy(galaxy_type: &str) -> bool {
    galaxy_type.contains("attack-pattern") || galaxy_type == "mitre-ics-techniques"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_types_split_with_direction_and_unknown_types_skip() {
        assert_eq!(mapping("ip-dst|port"), (Pair(Ip, Port), Some(DST), None));
        assert_eq!(mapping("domain|ip").0, Pair(Kind(Domain), Ip));
        assert_eq!(mapping("filename|sha256").0, Pair(Ignored, Kind(Sha256)));
        assert_eq!(mapping("link").0, Mapping::Skip);
        assert_eq!(mapping("yara").0, Mapping::Skip);
        assert_eq!(
            mapping("IP-DST").0,
            Mapping::Skip,
            "MISP types are case-sensitive"
        );
    }

    #[test]
    fn every_kind_exports_to_a_type_the_import_reads_back_as_that_kind() {
        for kind in IndicatorKind::ALL {
            for source_only in [false, true] {
                let (misp_type, _) = export_type(kind, source_only);
                match mapping(misp_type).0 {
                    Whole(Kind(read)) => assert_eq!(read, kind),
                    Whole(Ip) => assert!(kind.is_network()),
                    other => panic!("{kind} exports as {misp_type}, read back as {other:?}"),
                }
            }
        }
    }

    #[test]
    fn galaxy_types_are_classified() {
        assert!(is_threat_galaxy("mitre-intrusion-set"));
        assert!(is_threat_galaxy("banker"));
        assert!(!is_threat_galaxy("guidelines"));
        assert!(is_technique_galaxy(
            "mitre-enterprise-attack-attack-pattern"
        ));
        assert!(!is_technique_galaxy("mitre-course-of-action"));
    }
}
