//! A strict reader of the Prometheus text exposition format (0.0.4), to check what `/metrics`
//! serves and to look samples up by name and labels.

use std::collections::BTreeMap;

/// One sample of a scrape: family name and labels.
pub type Series = (String, BTreeMap<String, String>);

/// Parses the Prometheus text exposition format (0.0.4) strictly: every line is a `# HELP`,
/// a `# TYPE` or a sample of a typed family, names and labels are well formed, values are
/// numbers. Returns every sample.
pub fn parse_exposition(text: &str) -> BTreeMap<Series, f64> {
    fn is_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let context = || format!("line {}: {line:?}", number + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .unwrap_or_else(|| panic!("{}", context()));
            assert!(is_name(name), "{}", context());
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{}",
                context()
            );
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "TYPE twice: {}",
                context()
            );
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(is_name(name), "{}", context());
            continue;
        }
        assert!(!line.starts_with('#'), "unknown comment: {}", context());
        let (series, value) = match line.find('{') {
            Some(open) => {
                let close = line.rfind('}').unwrap_or_else(|| panic!("{}", context()));
                let name = &line[..open];
                let mut labels = BTreeMap::new();
                let mut rest = &line[open + 1..close];
                while !rest.is_empty() {
                    let (key, after) = rest
                        .split_once("=\"")
                        .unwrap_or_else(|| panic!("{}", context()));
                    assert!(is_name(key), "label name: {}", context());
                    let mut value = String::new();
                    let mut chars = after.char_indices();
                    let end = loop {
                        match chars.next() {
                            Some((_, '\\')) => match chars.next() {
                                Some((_, 'n')) => value.push('\n'),
                                Some((_, escaped @ ('\\' | '"'))) => value.push(escaped),
                                _ => panic!("bad escape: {}", context()),
                            },
                            Some((at, '"')) => break at,
                            Some((_, c)) => value.push(c),
                            None => panic!("unterminated label: {}", context()),
                        }
                    };
                    labels.insert(key.to_owned(), value);
                    rest = after[end + 1..].trim_start_matches(',');
                }
                ((name.to_owned(), labels), line[close + 1..].trim())
            }
            None => {
                let (name, value) = line
                    .split_once(' ')
                    .unwrap_or_else(|| panic!("{}", context()));
                ((name.to_owned(), BTreeMap::new()), value.trim())
            }
        };
        assert!(is_name(&series.0), "{}", context());
        let family = types
            .keys()
            .filter(|family| series.0.starts_with(family.as_str()))
            .max_by_key(|family| family.len())
            .unwrap_or_else(|| panic!("sample without a TYPE: {}", context()));
        let suffix = &series.0[family.len()..];
        assert!(
            ["", "_bucket", "_sum", "_count"].contains(&suffix),
            "{}",
            context()
        );
        let value = value.split(' ').next().unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other
                .parse()
                .unwrap_or_else(|_| panic!("value: {}", context())),
        };
        samples.insert(series, value);
    }
    samples
}

pub fn sample(samples: &BTreeMap<Series, f64>, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let labels = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    samples.get(&(name.to_owned(), labels)).copied()
}
