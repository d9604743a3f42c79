//! Value transformations done once at compile time: Sigma strings with wildcards become byte
//! pieces, and the encoding modifiers (`base64`, `base64offset`, `wide`/`utf16*`, `windash`)
//! and `expand` placeholders rewrite those pieces into the literal variants the event must
//! contain.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rsigma_parser::{SigmaString, SpecialChar, StringPart};

/// A compiled Sigma string: literal bytes and wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Bytes(Vec<u8>),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
}

pub(crate) type Pieces = Vec<Piece>;

/// Upper bound on the variants one value may expand into (windash, expand, base64offset).
pub(crate) const MAX_VARIANTS: usize = 4096;

pub(crate) fn pieces_of(value: &SigmaString) -> Pieces {
    let mut pieces = Vec::new();
    for part in &value.parts {
        match part {
            StringPart::Plain(text) => push_bytes(&mut pieces, text.as_bytes()),
            StringPart::Special(SpecialChar::WildcardMulti) => pieces.push(Piece::Star),
            StringPart::Special(SpecialChar::WildcardSingle) => pieces.push(Piece::One),
        }
    }
    pieces
}

pub(crate) fn literal(text: &str) -> Pieces {
    let mut pieces = Vec::new();
    push_bytes(&mut pieces, text.as_bytes());
    pieces
}

fn push_bytes(pieces: &mut Pieces, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    if let Some(Piece::Bytes(last)) = pieces.last_mut() {
        last.extend_from_slice(bytes);
    } else {
        pieces.push(Piece::Bytes(bytes.to_vec()));
    }
}

fn plain_bytes(pieces: &Pieces, modifier: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Bytes(bytes) => out.extend_from_slice(bytes),
            Piece::Star | Piece::One => {
                return Err(format!("{modifier} cannot encode a value with wildcards"));
            }
        }
    }
    Ok(out)
}

pub(crate) fn base64(pieces: &Pieces) -> Result<Pieces, String> {
    let bytes = plain_bytes(pieces, "base64")?;
    Ok(literal(&STANDARD.encode(bytes)))
}

/// The three encodings of `value` as it may appear at any offset inside a longer base64 text:
/// the characters that depend on neighbouring bytes are cut away.
pub(crate) fn base64_offsets(pieces: &Pieces) -> Result<Vec<Pieces>, String> {
    let bytes = plain_bytes(pieces, "base64offset")?;
    let mut variants = Vec::new();
    for shift in 0..3usize {
        let mut padded = vec![0u8; shift];
        padded.extend_from_slice(&bytes);
        let encoded = STANDARD.encode(&padded);
        let start = [0, 2, 3][shift];
        let end_trim = [0, 3, 2][(bytes.len() + shift) % 3];
        let end = encoded.len().saturating_sub(end_trim);
        if start >= end {
            continue;
        }
        let slice = &encoded[start..end];
        let piece = literal(slice);
        if !variants.contains(&piece) {
            variants.push(piece);
        }
    }
    Ok(variants)
}

pub(crate) enum Utf16 {
    Le,
    Be,
    /// Little endian with a byte-order mark, as the `utf16` modifier specifies.
    Bom,
}

pub(crate) fn utf16(pieces: &Pieces, kind: Utf16) -> Result<Pieces, String> {
    let mut out = Vec::new();
    if matches!(kind, Utf16::Bom) {
        push_bytes(&mut out, &[0xFF, 0xFE]);
    }
    for piece in pieces {
        match piece {
            Piece::Bytes(bytes) => {
                let text = std::str::from_utf8(bytes)
                    .map_err(|_| "utf16 encoding of a value that is not text".to_string())?;
                let mut encoded = Vec::with_capacity(text.len() * 2);
                for unit in text.encode_utf16() {
                    let pair = match kind {
                        Utf16::Be => unit.to_be_bytes(),
                        Utf16::Le | Utf16::Bom => unit.to_le_bytes(),
                    };
                    encoded.extend_from_slice(&pair);
                }
                push_bytes(&mut out, &encoded);
            }
            other => out.push(other.clone()),
        }
    }
    Ok(out)
}

/// Every `-` may also be written `/`, en dash, em dash or horizontal bar on a Windows command
/// line; all combinations are produced, bounded by [`MAX_VARIANTS`].
pub(crate) fn windash(pieces: &Pieces) -> Result<Vec<Pieces>, String> {
    const DASHES: [&str; 5] = ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"];
    let mut variants: Vec<Pieces> = vec![Vec::new()];
    for piece in pieces {
        match piece {
            Piece::Bytes(bytes) => {
                for chunk in bytes.split_inclusive(|b| *b == b'-') {
                    let (body, dash) = match chunk.strip_suffix(b"-") {
                        Some(body) => (body, true),
                        None => (chunk, false),
                    };
                    for variant in &mut variants {
                        push_bytes(variant, body);
                    }
                    if dash {
                        let mut next = Vec::with_capacity(variants.len() * DASHES.len());
                        for variant in &variants {
                            for dash in DASHES {
                                let mut copy = variant.clone();
                                push_bytes(&mut copy, dash.as_bytes());
                                next.push(copy);
                            }
                        }
                        if next.len() > MAX_VARIANTS {
                            return Err(format!(
                                "windash: too many dashes ({} variants, at most {MAX_VARIANTS})",
                                next.len()
                            ));
                        }
                        variants = next;
                    }
                }
            }
            other => {
                for variant in &mut variants {
                    variant.push(other.clone());
                }
            }
        }
    }
    Ok(variants)
}

/// Replaces `%name%` placeholders with each configured value (all combinations). A percent
/// sign written `\%` is plain text, as the rules specification's placeholder section says.
pub(crate) fn expand(
    text: &str,
    placeholders: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<String>, String> {
    let mut results = vec![String::new()];
    let mut plain = String::new();
    let mut rest = text;
    loop {
        let Some(at) = rest.find(['%', '\\']) else {
            plain.push_str(rest);
            break;
        };
        plain.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("\\%") {
            plain.push('%');
            rest = after;
            continue;
        }
        if let Some(after) = tail.strip_prefix("\\\\") {
            // An escaped backslash: kept whole for the wildcard parser, and the `%` after it
            // (if any) opens a placeholder.
            plain.push_str("\\\\");
            rest = after;
            continue;
        }
        if let Some(after) = tail.strip_prefix('\\') {
            // Any other backslash stays for the wildcard parser to read.
            plain.push('\\');
            rest = after;
            continue;
        }
        let after = &tail[1..];
        let Some(close) = after.find('%') else {
            plain.push_str(tail);
            break;
        };
        let name = &after[..close];
        let Some(values) = placeholders.get(name) else {
            return Err(format!("expand: placeholder %{name}% is not configured"));
        };
        let mut next = Vec::with_capacity(results.len() * values.len());
        for result in &results {
            for value in values {
                next.push(format!("{result}{plain}{value}"));
            }
        }
        if next.len() > MAX_VARIANTS {
            return Err(format!("expand: %{name}% gives too many variants"));
        }
        results = next;
        plain.clear();
        rest = &after[close + 1..];
    }
    for result in &mut results {
        result.push_str(&plain);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pieces: &Pieces) -> String {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                Piece::Star => "*".into(),
                Piece::One => "?".into(),
            })
            .collect()
    }

    #[test]
    fn base64_offsets_are_found_inside_longer_encodings() {
        let needle = b"http://";
        let variants = base64_offsets(&literal("http://")).expect("plain value");
        assert_eq!(variants.len(), 3);
        for prefix in ["", "a", "ab", "abc", "xyzw"] {
            let mut whole = prefix.as_bytes().to_vec();
            whole.extend_from_slice(needle);
            whole.extend_from_slice(b"example");
            let encoded = STANDARD.encode(&whole);
            assert!(
                variants.iter().any(|v| encoded.contains(&text(v))),
                "prefix {prefix:?}: {encoded} has none of {:?}",
                variants.iter().map(text).collect::<Vec<_>>()
            );
        }
        assert_eq!(
            text(&base64(&literal("whoami")).expect("plain")),
            "d2hvYW1p"
        );
        assert!(base64(&pieces_of(&SigmaString::new("who*"))).is_err());
    }

    #[test]
    fn utf16_and_windash_variants() {
        let wide = utf16(&literal("ab"), Utf16::Le).expect("text");
        assert_eq!(wide, vec![Piece::Bytes(vec![b'a', 0, b'b', 0])]);
        let be = utf16(&literal("ab"), Utf16::Be).expect("text");
        assert_eq!(be, vec![Piece::Bytes(vec![0, b'a', 0, b'b'])]);
        let bom = utf16(&literal("a"), Utf16::Bom).expect("text");
        assert_eq!(bom, vec![Piece::Bytes(vec![0xFF, 0xFE, b'a', 0])]);
        let dashes = windash(&literal("-a -b")).expect("two dashes");
        assert_eq!(dashes.len(), 25);
        let texts: Vec<String> = dashes.iter().map(text).collect();
        assert!(texts.contains(&"/a \u{2014}b".to_string()));
        assert!(
            windash(&literal("-a-b-c-d-e-f")).is_err(),
            "5^6 variants exceed the cap"
        );
    }

    #[test]
    fn expand_uses_every_configured_value() {
        let mut placeholders = BTreeMap::new();
        placeholders.insert("admins".to_string(), vec!["root".into(), "admin".into()]);
        let out = expand("user=%admins%;", &placeholders).expect("configured");
        assert_eq!(out, vec!["user=root;", "user=admin;"]);
        assert!(expand("%missing%", &placeholders).is_err());
        assert_eq!(
            expand("100%", &placeholders).expect("lone percent"),
            vec!["100%"]
        );
        // `\%` is a plain percent sign, not the start of a placeholder.
        assert_eq!(
            expand("\\%plain%admins%", &placeholders).expect("escaped percent"),
            vec!["%plainroot", "%plainadmin"]
        );
        assert_eq!(
            expand("C:\\dir\\*%admins%", &placeholders).expect("backslashes kept"),
            vec!["C:\\dir\\*root", "C:\\dir\\*admin"]
        );
        assert_eq!(
            expand("\\\\%admins%", &placeholders).expect("escaped backslash"),
            vec!["\\\\root", "\\\\admin"]
        );
    }
}
