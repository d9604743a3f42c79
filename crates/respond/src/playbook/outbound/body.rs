//! JSON bodies written as templates (a custom webhook body, a Jira or ServiceNow ticket): every
//! placeholder must sit inside a JSON string, where its value is escaped, so no fact can add a
//! key or end the object. That is checked when the services are built.

use serde::Deserialize;
use serde_json::Value;

use super::OutboundError;
use crate::playbook::facts::Facts;
use crate::playbook::services::ActionError;
use crate::playbook::template::{Escape, Template, TemplateError};

/// A JSON body with `{{path}}` placeholders inside its strings:
/// `{"summary": "{{alert.rule}} on {{alert.host}}"}`. The `}}` that closes nested objects is
/// JSON, not a placeholder's end.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct BodyTemplate(pub Template);

impl TryFrom<String> for BodyTemplate {
    type Error = TemplateError;

    fn try_from(source: String) -> Result<BodyTemplate, TemplateError> {
        Template::parse_in_json(&source).map(BodyTemplate)
    }
}

/// Refuses a body that is not JSON, or that has a placeholder outside a JSON string.
pub(crate) fn check(body: &BodyTemplate, owner: &str) -> Result<(), OutboundError> {
    // A bare word is not JSON: a placeholder outside quotes makes the probe fail to parse.
    let probe = body.0.render_with(|_| "rampartPlaceholder".to_owned());
    serde_json::from_str::<Value>(&probe)
        .map(|_| ())
        .map_err(|err| {
            OutboundError::new(
                owner,
                format!("body: not JSON, or a {{{{placeholder}}}} outside a JSON string ({err})"),
            )
        })
}

/// The body filled from `facts`, each value escaped as JSON string content.
pub(crate) fn render(
    body: &BodyTemplate,
    facts: &Facts,
    owner: &str,
) -> Result<Value, ActionError> {
    let text = body.0.render(facts, Escape::JsonString);
    serde_json::from_str(&text)
        .map_err(|err| ActionError::permanent(format!("{owner}: the body is not JSON: {err}")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body(source: &str) -> BodyTemplate {
        BodyTemplate::try_from(source.to_owned()).unwrap()
    }

    #[test]
    fn placeholders_must_sit_inside_strings() {
        let good = body(r#"{"fields": {"summary": "{{alert.rule}} on {{alert.host}}"}}"#);
        assert!(check(&good, "x").is_ok());
        let bare = body(r#"{"count": {{alert.count}}}"#);
        let err = check(&bare, "destination \"jira\"").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("destination \"jira\": body: not JSON"),
            "{err}"
        );
        let broken = body(r#"{"a": "{{alert.rule}}""#);
        assert!(check(&broken, "x").is_err());
    }

    #[test]
    fn hostile_values_stay_inside_their_string() {
        let template = body(r#"{"summary": "{{alert.rule}}", "keep": true}"#);
        let facts = Facts::new(json!({"alert": {"rule": "x\", \"keep\": false, \"y\": \"\n}"}}));
        let rendered = render(&template, &facts, "x").unwrap();
        assert_eq!(
            rendered,
            json!({"summary": "x\", \"keep\": false, \"y\": \"\n}", "keep": true})
        );
    }
}
