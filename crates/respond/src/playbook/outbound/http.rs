//! What every HTTP service shares: the one client, configured headers (values from the
//! environment), timeouts, and how an answer or a failure becomes an action's result or a
//! retryable/permanent [`ActionError`].
//!
//! Webhook URLs often carry their secret (a Slack hook's path is its token), so no message
//! built here names the URL: errors say which channel, destination or lookup failed instead.

use std::error::Error as _;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use serde_json::Value;

use super::OutboundError;
use crate::playbook::definition::Span;
use crate::playbook::services::ActionError;

/// The most of an answer's body that is read; the rest is dropped.
pub(crate) const ANSWER_LIMIT: usize = 1024 * 1024;

/// The longest text kept from an answer that is not JSON.
pub(crate) const TEXT_LIMIT: usize = 4096;

/// A header sent with every request of a channel, destination or lookup. Give the value in
/// the environment (`env`, recommended for secrets) or inline (`value`):
///
/// ```toml
/// headers = [{ name = "Authorization", env = "SOC_WEBHOOK_TOKEN", prefix = "Bearer " }]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderConfig {
    /// The header's name (`Authorization`, `X-Api-Key`).
    pub name: String,
    /// The value, written in the configuration file.
    #[serde(default)]
    pub value: Option<String>,
    /// The environment variable that holds the value, read when the services are built.
    #[serde(default)]
    pub env: Option<String>,
    /// Text put before the value (`"Bearer "`).
    #[serde(default)]
    pub prefix: String,
}

/// The HTTP client all outbound services share: rustls with ring (installed as the process's
/// provider if none is yet, as the binary does), no redirects followed (a webhook that
/// redirects is misconfigured, and following would turn a POST into a GET).
pub(crate) fn client() -> Result<reqwest::Client, OutboundError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|err| OutboundError::new("the HTTP client", describe(&err)))
}

/// Reads the value of an environment variable holding a secret.
pub(crate) fn env_secret(variable: &str, owner: &str) -> Result<String, OutboundError> {
    match std::env::var(variable) {
        Ok(value) if !value.is_empty() => Ok(value),
        Ok(_) => Err(OutboundError::new(
            owner,
            format!("environment variable {variable} is empty"),
        )),
        Err(_) => Err(OutboundError::new(
            owner,
            format!("environment variable {variable} is not set"),
        )),
    }
}

/// The configured headers, values resolved and marked sensitive (kept out of debug output).
pub(crate) fn headers(
    configured: &[HeaderConfig],
    owner: &str,
) -> Result<HeaderMap, OutboundError> {
    let mut map = HeaderMap::new();
    for header in configured {
        let name = HeaderName::from_bytes(header.name.as_bytes()).map_err(|_| {
            OutboundError::new(owner, format!("{:?} is not a header name", header.name))
        })?;
        let value = match (&header.value, &header.env) {
            (Some(value), None) => value.clone(),
            (None, Some(variable)) => env_secret(variable, owner)?,
            _ => {
                return Err(OutboundError::new(
                    owner,
                    format!(
                        "header {}: give exactly one of `value` and `env`",
                        header.name
                    ),
                ));
            }
        };
        let mut value =
            HeaderValue::from_str(&format!("{}{value}", header.prefix)).map_err(|_| {
                OutboundError::new(
                    owner,
                    format!(
                        "header {}: the value has characters a header cannot hold",
                        header.name
                    ),
                )
            })?;
        value.set_sensitive(true);
        map.append(name, value);
    }
    Ok(map)
}

/// Checks a configured URL: absolute, `http` or `https`.
pub(crate) fn url(text: &str, owner: &str) -> Result<Url, OutboundError> {
    let url = Url::parse(text).map_err(|err| OutboundError::new(owner, format!("url: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(OutboundError::new(owner, "url: use http or https"));
    }
    Ok(url)
}

/// A configured timeout as a std duration: more than zero, at most the engine's 60 s cap on
/// one attempt (a longer one could never be waited for).
pub(crate) fn timeout(span: Span, owner: &str) -> Result<Duration, OutboundError> {
    let duration = span.0;
    if !duration.is_positive() || duration.as_secs() > 60 {
        return Err(OutboundError::new(
            owner,
            format!("timeout {duration}: give more than 0s and at most 60s"),
        ));
    }
    Ok(duration.unsigned_abs())
}

/// A successful answer: its status and (the first [`ANSWER_LIMIT`] bytes of) its body.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON, else as text cut to [`TEXT_LIMIT`] bytes; `None` when empty.
    pub fn json_or_text(&self) -> Option<Value> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        if let Ok(value) = serde_json::from_slice::<Value>(&self.body) {
            return Some(value);
        }
        Some(Value::String(truncated_text(&self.body, TEXT_LIMIT)))
    }
}

/// Sends a request and waits at most `timeout` for the whole answer. Connection failures,
/// timeouts, 408, 429 and 5xx answers are retryable; other 4xx and redirects are not.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    owner: &str,
) -> Result<Answer, ActionError> {
    let answer = exchange(request, timeout, owner).await?;
    check_status(&answer, owner)?;
    Ok(answer)
}

/// Sends a request and waits at most `timeout` for the whole answer, whatever its status.
pub(crate) async fn exchange(
    request: reqwest::RequestBuilder,
    timeout: Duration,
    owner: &str,
) -> Result<Answer, ActionError> {
    let whole = async {
        let mut response = request
            .timeout(timeout)
            .send()
            .await
            .map_err(|err| transport_error(&err, timeout, owner))?;
        let status = response.status();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| transport_error(&err, timeout, owner))?
        {
            let room = ANSWER_LIMIT - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() == ANSWER_LIMIT {
                break;
            }
        }
        Ok::<_, ActionError>(Answer { status, body })
    };
    // reqwest's own timeout covers the body too; this one also bounds a stalled body stream.
    tokio::time::timeout(timeout, whole)
        .await
        .map_err(|_| no_answer(timeout, owner))?
}

/// Whether the status is a success, or which kind of failure it is.
pub(crate) fn check_status(answer: &Answer, owner: &str) -> Result<(), ActionError> {
    let status = answer.status;
    if status.is_success() {
        return Ok(());
    }
    let mut message = format!("{owner}: answered {status}");
    let excerpt = truncated_text(&answer.body, 200);
    if !excerpt.trim().is_empty() {
        message.push_str(&format!(": {}", excerpt.trim()));
    }
    let retryable = status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT;
    if status.is_redirection() {
        message.push_str(" (a redirect: configure the final URL)");
    }
    Err(ActionError { message, retryable })
}

fn no_answer(timeout: Duration, owner: &str) -> ActionError {
    ActionError::retryable(format!("{owner}: no answer within {timeout:?}"))
}

fn transport_error(err: &reqwest::Error, timeout: Duration, owner: &str) -> ActionError {
    if err.is_timeout() {
        return no_answer(timeout, owner);
    }
    if err.is_builder() {
        return ActionError::permanent(format!("{owner}: {}", describe(err)));
    }
    ActionError::retryable(format!("{owner}: {}", describe(err)))
}

/// What went wrong, without the URL (it may hold a secret): the error's kind and the
/// innermost cause (`connection refused`…).
pub(crate) fn describe(err: &reqwest::Error) -> String {
    let kind = if err.is_connect() {
        "cannot connect"
    } else if err.is_body() || err.is_decode() {
        "the answer broke off"
    } else if err.is_request() {
        "the request failed"
    } else {
        "HTTP error"
    };
    let mut cause: Option<&dyn std::error::Error> = err.source();
    let mut innermost = None;
    while let Some(current) = cause {
        innermost = Some(current.to_string());
        cause = current.source();
    }
    match innermost {
        Some(reason) => format!("{kind}: {reason}"),
        None => kind.to_owned(),
    }
}

/// Up to `limit` bytes of `bytes` as text (cut at a character boundary), control characters
/// replaced by spaces.
pub(crate) fn truncated_text(bytes: &[u8], limit: usize) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(limit)]);
    let mut text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    // A lossy cut may end in a replacement character; it stays, as a mark of the cut.
    while text.len() > limit {
        text.pop();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_come_from_the_environment_or_the_file_never_both() {
        // PATH is set wherever tests run; setting a variable of our own would race with
        // other tests reading the environment.
        let path = std::env::var("PATH").expect("PATH is set");
        let configured = [
            HeaderConfig {
                name: "Authorization".into(),
                value: None,
                env: Some("PATH".into()),
                prefix: "Bearer ".into(),
            },
            HeaderConfig {
                name: "X-Team".into(),
                value: Some("soc".into()),
                env: None,
                prefix: String::new(),
            },
        ];
        let map = headers(&configured, "channel \"chat\"").unwrap();
        assert_eq!(map["authorization"], format!("Bearer {path}").as_str());
        assert!(map["authorization"].is_sensitive());
        assert_eq!(map["x-team"], "soc");

        let both = HeaderConfig {
            value: Some("x".into()),
            ..configured[0].clone()
        };
        let err = headers(&[both], "channel \"chat\"").unwrap_err();
        assert!(
            err.to_string().contains("exactly one of `value` and `env`"),
            "{err}"
        );
        let missing = HeaderConfig {
            env: Some("RAMPART_OUTBOUND_TEST_UNSET".into()),
            ..configured[0].clone()
        };
        let err = headers(&[missing], "channel \"chat\"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "channel \"chat\": environment variable RAMPART_OUTBOUND_TEST_UNSET is not set"
        );
        let split = HeaderConfig {
            value: Some("a\r\nX-Injected: 1".into()),
            ..configured[1].clone()
        };
        assert!(headers(&[split], "channel \"chat\"").is_err());
    }

    #[test]
    fn statuses_split_into_retryable_and_permanent() {
        let answer = |code: u16, body: &str| Answer {
            status: StatusCode::from_u16(code).unwrap(),
            body: body.as_bytes().to_vec(),
        };
        assert!(check_status(&answer(204, ""), "x").is_ok());
        for retryable in [500, 502, 503, 429, 408] {
            let err = check_status(&answer(retryable, ""), "x").unwrap_err();
            assert!(err.retryable, "{retryable}");
        }
        for permanent in [400, 401, 403, 404, 301] {
            let err = check_status(&answer(permanent, ""), "x").unwrap_err();
            assert!(!err.retryable, "{permanent}");
        }
        let err = check_status(&answer(400, "invalid_payload\n"), "channel \"chat\"").unwrap_err();
        assert_eq!(
            err.message,
            "channel \"chat\": answered 400 Bad Request: invalid_payload"
        );
    }

    #[test]
    fn long_or_binary_answers_are_cut_to_text() {
        let long = "é".repeat(3000);
        let text = truncated_text(long.as_bytes(), TEXT_LIMIT);
        assert!(text.len() <= TEXT_LIMIT);
        assert!(text.starts_with("éé"));
        assert_eq!(truncated_text(b"a\x00b\nc", 10), "a b c");
        let answer = Answer {
            status: StatusCode::OK,
            body: long.into_bytes(),
        };
        assert!(
            matches!(answer.json_or_text(), Some(Value::String(text)) if text.len() <= TEXT_LIMIT)
        );
    }

    #[test]
    fn timeouts_are_bounded_by_the_attempt_cap() {
        use jiff::SignedDuration;
        assert_eq!(
            timeout(Span(SignedDuration::from_secs(5)), "x").unwrap(),
            Duration::from_secs(5)
        );
        assert!(timeout(Span(SignedDuration::ZERO), "x").is_err());
        assert!(timeout(Span(SignedDuration::from_secs(61)), "x").is_err());
    }
}
