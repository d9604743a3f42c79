//! The organisation's own assets, imported from CSV.
//!
//! Columns (header names, any order; lists separated by `;`):
//! `name,kind,owner,criticality,tags,networks,hostnames,domains`. Only `name` is required;
//! criticality is 1–5 (default 3). Networks are IPs or CIDRs and domains are canonicalised
//! like indicators, so that "own assets are never blocked" compares like with like.

use std::io::Read;

use rampart_model::{Indicator, IndicatorKind};
use rampart_store::Asset;

use crate::formats::Rejection;

/// Assets read from a CSV document, and the rows that were wrong.
#[derive(Debug, Default)]
pub struct AssetImport {
    pub assets: Vec<Asset>,
    pub rejections: Vec<Rejection>,
}

/// A CSV document that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error("line {line}: {reason}")]
    Csv { line: u64, reason: String },
    #[error(
        "the header has no \"name\" column (columns: name, kind, owner, criticality, tags, networks, hostnames, domains)"
    )]
    NoName,
}

/// Reads assets from CSV. Bad rows are rejected with their line; the rest are kept.
pub fn read_csv(input: impl Read) -> Result<AssetImport, AssetError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(input);
    let headers = reader
        .headers()
        .map_err(|err| AssetError::Csv {
            line: 1,
            reason: err.to_string(),
        })?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect::<Vec<_>>();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let name_column = column("name").ok_or(AssetError::NoName)?;
    let columns = [
        "kind",
        "owner",
        "criticality",
        "tags",
        "networks",
        "hostnames",
        "domains",
    ]
    .map(column);
    let mut import = AssetImport::default();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                let line = err.position().map_or(0, |p| p.line());
                return Err(AssetError::Csv {
                    line,
                    reason: err.to_string(),
                });
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let field =
            |index: Option<usize>| index.and_then(|i| record.get(i)).unwrap_or("").to_owned();
        let list = |index: Option<usize>| -> Vec<String> {
            field(index)
                .split(';')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match asset_from_row(field(Some(name_column)), &columns, &field, &list) {
            Ok(asset) => import.assets.push(asset),
            Err(reason) => import
                .rejections
                .push(Rejection::new(format!("line {line}"), reason)),
        }
    }
    Ok(import)
}

fn asset_from_row(
    name: String,
    columns: &[Option<usize>; 7],
    field: &dyn Fn(Option<usize>) -> String,
    list: &dyn Fn(Option<usize>) -> Vec<String>,
) -> Result<Asset, String> {
    let [kind, owner, criticality, tags, networks, hostnames, domains] = *columns;
    if name.is_empty() {
        return Err("empty name".into());
    }
    let criticality = match field(criticality).as_str() {
        "" => 3,
        text => match text.parse::<u8>() {
            Ok(value @ 1..=5) => value,
            _ => return Err(format!("criticality {text:?} is not 1–5")),
        },
    };
    let networks = list(networks)
        .into_iter()
        .map(|raw| {
            let kind = if raw.contains('/') {
                IndicatorKind::Cidr
            } else if raw.contains(':') {
                IndicatorKind::Ipv6
            } else {
                IndicatorKind::Ipv4
            };
            Indicator::parse(kind, &raw)
                .map(Indicator::into_value)
                .map_err(|err| format!("network {raw:?}: {err}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let canonical_domains = |values: Vec<String>, what: &str| {
        values
            .into_iter()
            .map(|raw| {
                Indicator::parse(IndicatorKind::Domain, &raw)
                    .map(Indicator::into_value)
                    .map_err(|err| format!("{what} {raw:?}: {err}"))
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(Asset {
        name,
        kind: Some(field(kind))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| "host".into()),
        owner: Some(field(owner)).filter(|o| !o.is_empty()),
        criticality,
        tags: list(tags),
        networks,
        hostnames: canonical_domains(list(hostnames), "hostname")?,
        domains: canonical_domains(list(domains), "domain")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_assets_and_rejects_bad_rows_with_their_line() {
        let csv = "name,kind,owner,criticality,tags,networks,hostnames,domains\n\
                   mail-gw,server,it-ops,5,mail;dmz,192.0.2.10;2001:db8::25,MX1.Corp.Example.,corp.example\n\
                   lab,network,,2,,198.51.100.77/24,,\n\
                   broken,server,,9,,,,\n\
                   worse,server,,,,300.1.1.1,,\n";
        let import = read_csv(csv.as_bytes()).unwrap();
        assert_eq!(import.assets.len(), 2);
        assert_eq!(import.assets[0].networks, ["192.0.2.10", "2001:db8::25"]);
        assert_eq!(import.assets[0].hostnames, ["mx1.corp.example"]);
        assert_eq!(import.assets[1].networks, ["198.51.100.0/24"]);
        let lines: Vec<_> = import
            .rejections
            .iter()
            .map(|r| r.reference.as_str())
            .collect();
        assert_eq!(lines, ["line 4", "line 5"]);
    }

    #[test]
    fn a_file_without_a_name_column_is_refused() {
        assert!(matches!(
            read_csv("host,ip\na,1.2.3.4\n".as_bytes()),
            Err(AssetError::NoName)
        ));
    }
}
