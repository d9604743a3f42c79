//! All MISP warninglists of the corpus (`misp/warninglists/lists`, 136 lists) loaded into one
//! index, and the lookups the data README names.
//!
//! Independent figures, from Python over the same files (run in `misp/warninglists`):
//!
//! ```text
//! python3 -c 'import json,glob,ipaddress
//! raw=blank=bad=0
//! for f in glob.glob("lists/*/list.json"):
//!     d=json.load(open(f)); raw+=len(d["list"]); blank+=sum(not e.strip() for e in d["list"])
//!     if d["type"]=="cidr":
//!         for e in d["list"]:
//!             try: ipaddress.ip_network(e.strip(), strict=False)
//!             except ValueError: bad+=1
//! print(raw, blank, bad)'
//! ```
//!
//! printed `528972 0 0`: 528,972 entries, none blank, every CIDR entry a valid address or
//! network — so every entry is either indexed or reported as skipped, and only non-CIDR lists
//! can skip any.

use std::time::Instant;

use rampart_intel::import::Suppress;
use rampart_intel::warninglist::{ListType, Warninglists};
use rampart_model::Indicator;

fn load() -> Option<(Warninglists, rampart_intel::warninglist::LoadReport)> {
    let root = rampart_testkit::corpus("warninglists_corpus")?;
    let started = Instant::now();
    let loaded =
        Warninglists::load_dir(&root.join("misp/warninglists")).expect("lists directory loads");
    eprintln!("loaded in {:?} (debug build)", started.elapsed());
    Some(loaded)
}

fn ids(lists: &Warninglists, raw: &str) -> Vec<String> {
    let indicator = Indicator::guess(raw).unwrap_or_else(|err| panic!("{raw}: {err}"));
    lists
        .matches(&indicator)
        .iter()
        .map(|list| list.id.clone())
        .collect()
}

#[test]
fn all_lists_load_and_the_known_values_match() {
    let Some((lists, report)) = load() else {
        return;
    };
    for problem in &report.problems {
        eprintln!("problem: {problem}");
    }
    eprintln!(
        "{} lists, {} entries indexed, {} skipped",
        report.lists, report.entries, report.skipped_entries
    );
    assert_eq!(report.lists, 136);
    assert_eq!(lists.lists().len(), 136);
    assert_eq!(report.entries + report.skipped_entries, 528_972);
    // Every skipped entry is in a list that is not CIDR (see the Python check above).
    let skipping: Vec<&str> = report.problems.iter().map(|p| p.list.as_str()).collect();
    for list in lists
        .lists()
        .iter()
        .filter(|list| skipping.contains(&list.id.as_str()))
    {
        assert_ne!(list.list_type, ListType::Cidr, "{}", list.id);
    }
    // Types as the data README counts them: cidr 80, string 32, hostname 19, substring 3, regex 2.
    let count = |wanted: ListType| {
        lists
            .lists()
            .iter()
            .filter(|list| list.list_type == wanted)
            .count()
    };
    assert_eq!(
        [
            ListType::Cidr,
            ListType::String,
            ListType::Hostname,
            ListType::Substring,
            ListType::Regex
        ]
        .map(count),
        [80, 32, 19, 3, 2]
    );

    // Expected list sets from a Python emulation of the matching rules (ipaddress containment
    // for CIDR lists; for host values: exact string entries, leading-dot string entries and
    // hostname entries as suffixes, substrings; only lists whose matching_attributes name the
    // MISP type — `ip-dst`, `domain`, `url`, `md5`, `email-dst`).
    assert_eq!(ids(&lists, "8.8.8.8"), ["public-dns-v4", "vpn-ipv4"]);
    // rfc5735 (special-use IPv4) also holds 10.0.0.0/8.
    assert_eq!(ids(&lists, "10.1.2.3"), ["rfc1918", "rfc5735"]);
    let top_sites = [
        "cisco_top10k",
        "cisco_top20k",
        "cloudflare-top100k",
        "cloudflare-top10k",
        "cloudflare-top20k",
        "cloudflare-top50k",
        "cloudflare-top5k",
        "link-in-bio",
        "lots-project",
        "majestic_million",
        "moz-top500",
        "tranco10k",
        "url-shortener",
    ];
    let sorted = |raw: &str| {
        let mut found = ids(&lists, raw);
        found.sort();
        found
    };
    assert_eq!(sorted("bit.ly"), top_sites);
    // majestic_million names only hostname and domain, not url.
    let url_lists: Vec<&str> = top_sites
        .iter()
        .copied()
        .filter(|id| *id != "majestic_million")
        .collect();
    assert_eq!(sorted("https://bit.ly/x"), url_lists);
    assert_eq!(
        sorted("d41d8cd98f00b204e9800998ecf8427e"),
        [
            "common-ioc-false-positive",
            "empty-hashes",
            "ti-falsepositives"
        ]
    );
    // The single regex of common-contact-emails (`/^(security|noc|soc|abuse)\@.*\..*$/i`).
    assert_eq!(ids(&lists, "Abuse@corp.example"), ["common-contact-emails"]);
    // Documentation networks are special-use (rfc5735); these are on no list at all.
    assert_eq!(ids(&lists, "203.0.113.77"), ["rfc5735"]);
    assert_eq!(ids(&lists, "193.0.6.139"), Vec::<String>::new());
    assert_eq!(ids(&lists, "2a02:6b8::2:242"), Vec::<String>::new());
    assert_eq!(
        ids(&lists, "qzv-unlisted-7f3k.example"),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&lists, "http://qzv-unlisted-7f3k.example/a.exe"),
        Vec::<String>::new()
    );

    let dns = Indicator::guess("8.8.8.8").unwrap();
    assert_eq!(
        lists.reason(&dns).as_deref(),
        Some("warninglist: List of known IPv4 public DNS resolvers")
    );
}

#[test]
fn lists_without_our_kinds_never_match() {
    let Some((lists, _)) = load() else { return };
    // phone_numbers (phone-number, whois-registrant-phone) and microsoft-azure-appid name no
    // attribute type Rampart has.
    for id in ["phone_numbers", "microsoft-azure-appid"] {
        let list = lists.lists().iter().find(|list| list.id == id).unwrap();
        assert!(list.kinds.is_empty(), "{id}: {:?}", list.kinds);
    }
}
