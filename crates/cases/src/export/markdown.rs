//! A case as Markdown, for people: title, a metadata table, the description, the tasks as a
//! checklist, the observables and alerts as tables, and the timeline.
//!
//! Titles, tags, values, messages and actors may come from attackers (a mail subject, an
//! imported alert): they are escaped so that they stay text — no table cell ends early, no
//! link, image, code span or HTML appears, a newline shows as `\n`. Indicator values are also
//! defanged (`hxxp://evil[.]example`) so that no renderer turns them into live links. The
//! description is Markdown written for the case and kept as such, with raw HTML neutralised and
//! headings demoted so that it cannot pose as a section of the export.

use std::fmt::Write;

use rampart_model::{Indicator, IndicatorKind, TaskStatus, Timestamp};

use super::{CaseBundle, CaseRenderer};

/// The Markdown renderer.
pub(super) struct Markdown;

/// Alerts' matched values listed per alert, at most.
const MATCHED_SHOWN: usize = 5;

impl CaseRenderer for Markdown {
    fn media_type(&self) -> &'static str {
        "text/markdown; charset=utf-8"
    }

    fn extension(&self) -> &'static str {
        "md"
    }

    fn render(&self, bundle: &CaseBundle) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = write_case(&mut out, bundle);
        out
    }
}

/// Whether a character reorders text around it (bidirectional overrides and isolates), which
/// could make a value read differently from what it is.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// Escapes text for one line of Markdown (a heading, a list item, a table cell): Markdown's
/// inline punctuation is backslash-escaped (with `:` and the dot of `www.`, which start links in
/// GitHub's Markdown), line breaks become a visible `\n`, other control and bidirectional
/// characters become U+FFFD.
pub fn escape_inline(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '!' | '&' | '$'
            | '{' | '}' | ':' => {
                escaped.push('\\');
                escaped.push(c);
            }
            // `www.` starts a link in GitHub's Markdown, as `:` of `https:` does.
            '.' if ends_with_www(&escaped) => escaped.push_str("\\."),
            '\n' => escaped.push_str("\\\\n"),
            '\r' => escaped.push_str("\\\\r"),
            '\t' => escaped.push(' '),
            c if c.is_control() || is_bidi_control(c) => escaped.push('\u{fffd}'),
            c => escaped.push(c),
        }
    }
    escaped
}

fn ends_with_www(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 3 && bytes[bytes.len() - 3..].eq_ignore_ascii_case(b"www")
}

/// Keeps Markdown as Markdown without its raw HTML: `<` becomes `&lt;`, control and
/// bidirectional characters (but newlines and tabs) become U+FFFD, and headings are demoted to
/// text so that the description cannot add sections.
pub fn neutralise_html(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    for line in markdown.lines() {
        let indent = line.len() - line.trim_start().len();
        let (lead, rest) = line.split_at(indent);
        out.push_str(lead);
        if rest.starts_with('#') {
            out.push('\\');
        }
        for c in rest.chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '\t' => out.push('\t'),
                c if c.is_control() || is_bidi_control(c) => out.push('\u{fffd}'),
                c => out.push(c),
            }
        }
        out.push('\n');
    }
    out
}

/// An indicator value made safe to show: `hxxp`, `[.]` and `[@]` so that it is not a link.
fn defang(value: &str) -> String {
    let value = if let Some(rest) = value.strip_prefix("http://") {
        format!("hxxp://{rest}")
    } else if let Some(rest) = value.strip_prefix("https://") {
        format!("hxxps://{rest}")
    } else {
        value.to_owned()
    };
    value.replace('.', "[.]").replace('@', "[@]")
}

/// An observable's value, defanged unless it is a hash, then escaped.
fn show_indicator(indicator: &Indicator) -> String {
    if indicator.kind().is_hash() {
        return escape_inline(indicator.value());
    }
    escape_inline(&defang(indicator.value()))
}

/// A matched event value: defanged when it reads as an address, domain, URL or mail address.
fn show_value(value: &str) -> String {
    match Indicator::guess(value) {
        Ok(indicator) if !indicator.kind().is_hash() && indicator.kind() != IndicatorKind::Cidr => {
            escape_inline(&defang(value))
        }
        _ => escape_inline(value),
    }
}

fn when(timestamp: Option<Timestamp>) -> String {
    timestamp.map_or_else(|| "—".to_owned(), |at| at.to_string())
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

fn joined(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().collect();
    if items.is_empty() {
        "—".to_owned()
    } else {
        items.join(", ")
    }
}

fn write_case(out: &mut String, bundle: &CaseBundle) -> std::fmt::Result {
    let case = &bundle.case;
    writeln!(out, "# Case {}: {}", case.id, escape_inline(&case.title))?;
    writeln!(out)?;
    writeln!(out, "| Field | Value |")?;
    writeln!(out, "| --- | --- |")?;
    let mut row = |field: &str, value: String| writeln!(out, "| {field} | {value} |");
    row("Status", case.status.as_str().to_owned())?;
    if let Some(original) = case.duplicate_of {
        row("Duplicate of", format!("case {original}"))?;
    }
    row("Severity", case.severity.as_str().to_owned())?;
    row("TLP", case.tlp.label().to_owned())?;
    row("PAP", case.pap.label().to_owned())?;
    row(
        "Assignee",
        case.assignee
            .as_deref()
            .map_or_else(|| "—".to_owned(), escape_inline),
    )?;
    row(
        "Opened",
        format!("{} by {}", case.created, escape_inline(&case.created_by)),
    )?;
    row("Updated", case.updated.to_string())?;
    row("Due", when(case.due))?;
    row("Closed", when(case.closed))?;
    row(
        "Campaign",
        case.campaign
            .as_deref()
            .map_or_else(|| "—".to_owned(), escape_inline),
    )?;
    row(
        "Tags",
        joined(case.tags.iter().map(|tag| escape_inline(tag))),
    )?;
    row(
        "Techniques",
        joined(case.techniques.iter().map(|id| id.as_str().to_owned())),
    )?;

    writeln!(out, "\n## Description\n")?;
    if case.description.trim().is_empty() {
        writeln!(out, "_None._")?;
    } else {
        out.push_str(&neutralise_html(case.description.trim_end()));
    }
    if let Some(resolution) = &case.resolution {
        writeln!(out, "\n## Resolution\n")?;
        out.push_str(&neutralise_html(resolution.trim_end()));
    }

    writeln!(out, "\n## Tasks\n")?;
    if bundle.tasks.is_empty() {
        writeln!(out, "_None._")?;
    }
    for task in &bundle.tasks {
        let check = if task.status == TaskStatus::Done {
            "x"
        } else {
            " "
        };
        let mut notes = vec![task.status.as_str().replace('_', " ")];
        if let Some(assignee) = &task.assignee {
            notes.push(format!("assigned to {}", escape_inline(assignee)));
        }
        if let Some(due) = task.due {
            notes.push(format!("due {due}"));
        }
        writeln!(
            out,
            "- [{check}] {} ({})",
            escape_inline(&task.title),
            notes.join(", ")
        )?;
    }

    writeln!(out, "\n## Observables\n")?;
    if bundle.observables.is_empty() {
        writeln!(out, "_None._")?;
    } else {
        writeln!(
            out,
            "| Kind | Value | IOC | Sighted | TLP | Tags | Message |"
        )?;
        writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |")?;
    }
    for observable in &bundle.observables {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            observable.indicator.kind(),
            show_indicator(&observable.indicator),
            yes_no(observable.ioc),
            yes_no(observable.sighted),
            observable.tlp.label(),
            joined(observable.tags.iter().map(|tag| escape_inline(tag))),
            observable
                .message
                .as_deref()
                .map_or_else(|| "—".to_owned(), escape_inline),
        )?;
    }

    writeln!(out, "\n## Alerts\n")?;
    if bundle.alerts.is_empty() {
        writeln!(out, "_None._")?;
    } else {
        writeln!(
            out,
            "| Alert | Severity | Detection | Matched | First seen | Last seen | Count | Linked by |"
        )?;
        writeln!(out, "| --- | --- | --- | --- | --- | --- | --- | --- |")?;
    }
    for linked in &bundle.alerts {
        let alert = &linked.alert.alert;
        let mut matched: Vec<String> = alert
            .matched
            .iter()
            .take(MATCHED_SHOWN)
            .map(|pair| format!("{}={}", escape_inline(&pair.field), show_value(&pair.value)))
            .collect();
        if alert.matched.len() > MATCHED_SHOWN {
            matched.push(format!("… {} more", alert.matched.len() - MATCHED_SHOWN));
        }
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            linked.alert.id,
            alert.severity,
            escape_inline(&alert.detection.label()),
            joined(matched),
            alert.first_seen,
            alert.last_seen,
            alert.count,
            escape_inline(&linked.link.linked_by),
        )?;
    }

    writeln!(out, "\n## Timeline\n")?;
    if bundle.timeline.is_empty() {
        writeln!(out, "_None._")?;
    } else {
        writeln!(out, "| When | Actor | What | Message |")?;
        writeln!(out, "| --- | --- | --- | --- |")?;
    }
    for entry in &bundle.timeline {
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            entry.at,
            escape_inline(&entry.actor),
            entry.kind.as_str().replace('_', " "),
            escape_inline(&entry.message),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fixture::hostile_bundle;
    use super::*;

    /// The cells of a Markdown table row, split on the pipes that are not escaped.
    fn cells(line: &str) -> Vec<String> {
        let mut cells = vec![String::new()];
        let mut chars = line.trim().trim_matches('|').chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    cells.last_mut().unwrap().push(c);
                    if let Some(next) = chars.next() {
                        cells.last_mut().unwrap().push(next);
                    }
                }
                '|' => cells.push(String::new()),
                c => cells.last_mut().unwrap().push(c),
            }
        }
        cells
    }

    #[test]
    fn escaping_keeps_attacker_text_inert() {
        assert_eq!(
            escape_inline("a|b `c` <x> [l](u) *e*\nnext"),
            "a\\|b \\`c\\` \\<x\\> \\[l\\](u) \\*e\\*\\\\nnext"
        );
        assert_eq!(
            escape_inline("bad\u{202e}txt.exe\u{7}"),
            "bad\u{fffd}txt.exe\u{fffd}"
        );
        assert_eq!(
            escape_inline("see https://WWW.evil.example"),
            "see https\\://WWW\\.evil.example"
        );
        assert_eq!(
            neutralise_html("# Title\n  ## sub\nok <script>x</script>\u{1b}[0m"),
            "\\# Title\n  \\## sub\nok &lt;script>x&lt;/script>\u{fffd}[0m\n"
        );
        assert_eq!(defang("https://evil.example/a"), "hxxps://evil[.]example/a");
        assert_eq!(defang("eve@evil.example"), "eve[@]evil[.]example");
    }

    #[test]
    fn hostile_case_renders_as_intact_tables_and_text() {
        let bundle = hostile_bundle();
        let markdown = Markdown.render(&bundle);
        // The title stays on the heading line, escaped.
        let first = markdown.lines().next().unwrap();
        assert_eq!(
            first,
            "# Case 12: Invoice \\| \\<script\\>alert(1)\\</script\\> \\`x\\` \\*\\*bold\\*\\*\\\\n\\# injected"
        );
        assert!(!markdown.contains("<script>"));
        assert!(!markdown.contains("<img"));
        assert!(markdown.contains("&lt;img src=x onerror=alert(1)>"));
        // Every table row has exactly as many cells as its header.
        let mut expected = 0;
        for line in markdown.lines() {
            if !line.starts_with('|') {
                expected = 0;
                continue;
            }
            let count = cells(line).len();
            if expected == 0 {
                expected = count;
            }
            assert_eq!(count, expected, "row breaks its table: {line}");
        }
        assert!(markdown.contains("| Tags | phishing, a\\|b |"));
        assert!(markdown.contains("- [x] Collect headers (done)"));
        assert!(markdown.contains("- [ ] Block \\[sender\\](http\\://x) (waiting)"));
        // Values are defanged and escaped; the message's newline shows as \n.
        assert!(
            markdown.contains("hxxp\\://evil\\[.\\]example/a\\|b"),
            "{markdown}"
        );
        assert!(markdown.contains("line one\\\\nline two \\| \\<b\\>"));
        assert!(markdown.contains("observable.domain=evil\\[.\\]example"));
        assert!(markdown.contains("Beacon to \\[evil\\](http\\://evil.example)"));
        assert!(markdown.contains("| playbook\\:c2 | alert linked | 1 alert linked \\| \\<i\\> |"));
        assert!(!markdown.contains("\n## Resolution"));
    }
}
