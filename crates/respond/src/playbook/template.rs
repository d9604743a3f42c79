//! Text with `{{path}}` placeholders filled from a run's facts: `Blocked {{indicator.value}}`.
//!
//! Placeholders are parsed when the playbook loads, so a typo (an unclosed `{{`, an empty
//! path) stops the file there. Values are attacker-controlled text: what a template produces
//! is data for its destination, escaped by the caller's [`Escape`] (JSON string content for a
//! webhook body), and control characters never pass through.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::facts::Facts;

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(String),
}

/// Text that is not a template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {template:?}: {reason}")]
pub struct TemplateError {
    pub template: String,
    pub reason: String,
}

/// How filled-in values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As text, with control characters replaced by spaces (one line stays one line).
    Text,
    /// As the content of a JSON string (quotes, backslashes and controls escaped).
    JsonString,
}

impl TryFrom<String> for Template {
    type Error = TemplateError;

    fn try_from(source: String) -> Result<Template, TemplateError> {
        Template::parse(&source)
    }
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, TemplateError> {
        Template::parse_with(source, false)
    }

    /// Parses a template written inside text that uses braces itself — a JSON body, where
    /// `}}` closes two objects: there a `}}` outside a placeholder is text.
    pub fn parse_in_json(source: &str) -> Result<Template, TemplateError> {
        Template::parse_with(source, true)
    }

    fn parse_with(source: &str, closing_braces_are_text: bool) -> Result<Template, TemplateError> {
        let error = |reason: &str| TemplateError {
            template: source.to_owned(),
            reason: reason.to_owned(),
        };
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after
                .find("}}")
                .ok_or_else(|| error("a {{ is never closed"))?;
            let path = after[..close].trim();
            if path.is_empty() {
                return Err(error("an empty {{}}"));
            }
            if !path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(error(
                    "a placeholder names a field: letters, digits, '.', '_' and '-' only",
                ));
            }
            parts.push(Part::Field(path.to_owned()));
            rest = &after[close + 2..];
        }
        if !closing_braces_are_text && rest.contains("}}") {
            return Err(error("a }} without an opening {{"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// The field paths the template reads.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Field(path) => Some(path.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Fills the placeholders, escaping what they bring (the template's own text is the
    /// playbook author's and is kept as written): a list becomes its items joined by `, `, a
    /// missing field the empty string.
    pub fn render(&self, facts: &Facts, escape: Escape) -> String {
        let mut out = String::with_capacity(self.source.len() + 32);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(path) => {
                    let text = display(facts.first_value(path));
                    write_escaped(&mut out, &text, escape);
                }
            }
        }
        out
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Fills each placeholder with what `fill` gives for its path, as given (the caller has
    /// escaped it for its destination): URL-encoded lookup values, checks of a body's shape.
    pub(crate) fn render_with(&self, mut fill: impl FnMut(&str) -> String) -> String {
        let mut out = String::with_capacity(self.source.len() + 32);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Field(path) => out.push_str(&fill(path)),
            }
        }
        out
    }
}

impl fmt::Display for Template {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.source)
    }
}

/// A fact as text: strings bare, lists joined, objects as compact JSON.
fn display(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| display(Some(item)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

fn write_escaped(out: &mut String, text: &str, escape: Escape) {
    match escape {
        Escape::Text => out.extend(text.chars().map(|c| if c.is_control() { ' ' } else { c })),
        Escape::JsonString => {
            let quoted = Value::String(text.to_owned()).to_string();
            out.push_str(&quoted[1..quoted.len() - 1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn facts() -> Facts {
        Facts::new(json!({
            "indicator": {
                "value": "evil.example\"},\n{\"x\":1",
                "score": 87.5,
                "threats": ["FIN7", "Carbanak"],
            }
        }))
    }

    #[test]
    fn placeholders_are_filled_and_lists_joined() {
        let template =
            Template::parse("{{indicator.score}} for {{ indicator.threats }}{{nope}}!").unwrap();
        assert_eq!(
            template.render(&facts(), Escape::Text),
            "87.5 for FIN7, Carbanak!"
        );
        assert_eq!(
            template.fields().collect::<Vec<_>>(),
            ["indicator.score", "indicator.threats", "nope"]
        );
    }

    #[test]
    fn hostile_values_stay_data() {
        let template = Template::parse("{\"text\": \"Blocked {{indicator.value}}\"}").unwrap();
        let body = template.render(&facts(), Escape::JsonString);
        let parsed: Value = serde_json::from_str(&body).expect("still one JSON object");
        assert_eq!(parsed["text"], "Blocked evil.example\"},\n{\"x\":1");
        let line = Template::parse("{{indicator.value}}")
            .unwrap()
            .render(&facts(), Escape::Text);
        assert!(!line.contains('\n'));
    }

    #[test]
    fn malformed_templates_are_refused() {
        for bad in ["{{open", "{{}}", "{{ a b }}", "closed}}", "{{a}} then }}"] {
            assert!(Template::parse(bad).is_err(), "{bad:?}");
        }
    }
}
