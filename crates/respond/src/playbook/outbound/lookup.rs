//! HTTP lookups for `enrich`: a GET per value to a URL template (`…/{{kind}}/{{value}}`, the
//! value percent-encoded), the answer kept as JSON (or as text cut to 4 KiB), cached in memory
//! per lookup for `cache_ttl` and bounded in size, so a burst of alerts on one address asks the
//! service once.
//!
//! A 404 is an answer, not a failure: the service knows nothing of the value, which is
//! recorded (and cached) as `null`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use jiff::SignedDuration;
use rampart_model::Indicator;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::OutboundError;
use super::http::{self, HeaderConfig};
use crate::playbook::definition::Span;
use crate::playbook::services::ActionError;
use crate::playbook::template::Template;

/// An HTTP lookup (`[[lookups]]`), named in `enrich: {lookups: [NAME]}`.
///
/// ```toml
/// [[lookups]]
/// name = "passive-dns"
/// url = "https://pdns.example.org/api/{{kind}}/{{value}}"
/// headers = [{ name = "X-Api-Key", env = "PDNS_KEY" }]
/// cache_ttl = "6h"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupConfig {
    /// The name playbooks use; answers land in the run's facts as `enrichment.NAME.VALUE`.
    pub name: String,
    /// The URL to GET: `{{value}}` (required) is the value percent-encoded, `{{kind}}` its
    /// kind (`ipv4`, `domain`, `url`, `sha256`…).
    pub url: Template,
    /// Headers sent with each request (an API key from the environment).
    #[serde(default)]
    pub headers: Vec<HeaderConfig>,
    /// How long to wait for an answer (default `5s`, at most `60s`).
    #[serde(default = "five_seconds")]
    pub timeout: Span,
    /// How long an answer is reused (default `1h`; `0s` asks every time).
    #[serde(default = "one_hour")]
    pub cache_ttl: Span,
    /// The most answers kept (default 10,000); the oldest go first.
    #[serde(default = "ten_thousand")]
    pub cache_entries: usize,
}

fn five_seconds() -> Span {
    Span(SignedDuration::from_secs(5))
}

fn one_hour() -> Span {
    Span(SignedDuration::from_hours(1))
}

fn ten_thousand() -> usize {
    10_000
}

/// A built lookup.
pub(crate) struct Lookup {
    owner: String,
    client: reqwest::Client,
    url: Template,
    headers: HeaderMap,
    timeout: Duration,
    cache: Mutex<Cache>,
}

impl Lookup {
    pub(crate) fn new(
        config: &LookupConfig,
        client: reqwest::Client,
    ) -> Result<Lookup, OutboundError> {
        let owner = format!("lookup {:?}", config.name);
        if let Some(other) = config
            .url
            .fields()
            .find(|field| !matches!(*field, "value" | "kind"))
        {
            return Err(OutboundError::new(
                &owner,
                format!(
                    "url: {{{{{other}}}}} is not known here (use {{{{value}}}} and {{{{kind}}}})"
                ),
            ));
        }
        if !config.url.fields().any(|field| field == "value") {
            return Err(OutboundError::new(&owner, "url: {{value}} is missing"));
        }
        http::url(&config.url.render_with(|_| "x".to_owned()), &owner)?;
        if config.cache_ttl.0.is_negative() {
            return Err(OutboundError::new(&owner, "cache_ttl cannot be negative"));
        }
        Ok(Lookup {
            client,
            url: config.url.clone(),
            headers: http::headers(&config.headers, &owner)?,
            timeout: http::timeout(config.timeout, &owner)?,
            cache: Mutex::new(Cache::new(
                config.cache_entries,
                config.cache_ttl.0.unsigned_abs(),
            )),
            owner,
        })
    }

    /// Each value's answer, by value: `{"evil.example": {…}, "203.0.113.7": null}`.
    pub(crate) async fn look_up(&self, values: &[Indicator]) -> Result<Value, ActionError> {
        let mut answers = Map::new();
        for indicator in values {
            let answer = self.one(indicator).await?;
            answers.insert(indicator.value().to_owned(), answer);
        }
        Ok(Value::Object(answers))
    }

    async fn one(&self, indicator: &Indicator) -> Result<Value, ActionError> {
        let kind = indicator.kind().as_str();
        let key = (kind.to_owned(), indicator.value().to_owned());
        if let Some(answer) = self.cache().get(&key, Instant::now()) {
            return Ok(answer);
        }
        let url = self.url_for(kind, indicator.value())?;
        let request = self.client.get(url).headers(self.headers.clone());
        let answer = http::exchange(request, self.timeout, &self.owner).await?;
        let value = if answer.status == StatusCode::NOT_FOUND {
            Value::Null
        } else {
            http::check_status(&answer, &self.owner)?;
            answer.json_or_text().unwrap_or(Value::Null)
        };
        self.cache().insert(key, value.clone(), Instant::now());
        Ok(value)
    }

    fn url_for(&self, kind: &str, value: &str) -> Result<reqwest::Url, ActionError> {
        // A lone `.` or `..` is a path step whether encoded or not (URL parsers undo `%2E`).
        if value == "." || value == ".." {
            return Err(ActionError::permanent(format!(
                "{}: {value:?} cannot be put in a URL",
                self.owner
            )));
        }
        let text = self.url.render_with(|field| match field {
            "kind" => percent_encode(kind),
            _ => percent_encode(value),
        });
        reqwest::Url::parse(&text)
            .map_err(|err| ActionError::permanent(format!("{}: url: {err}", self.owner)))
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Every byte but RFC 3986's unreserved characters as `%XX`, so a value stays one path segment
/// or one query value whatever it holds (`/`, `?`, `#`, `&`, spaces).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

type Key = (String, String);

/// Answers by (kind, value), each with when it was fetched; at most `capacity`, the oldest
/// evicted first. SipHash with a random key (std's) keeps hostile values from colliding.
struct Cache {
    capacity: usize,
    ttl: Duration,
    entries: HashMap<Key, (Instant, Value)>,
    /// Insertion order; an element whose instant no longer matches its entry is stale.
    order: VecDeque<(Key, Instant)>,
}

impl Cache {
    fn new(capacity: usize, ttl: Duration) -> Cache {
        Cache {
            capacity,
            ttl,
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn get(&self, key: &Key, now: Instant) -> Option<Value> {
        let (fetched, value) = self.entries.get(key)?;
        (now.saturating_duration_since(*fetched) < self.ttl).then(|| value.clone())
    }

    fn insert(&mut self, key: Key, value: Value, now: Instant) {
        if self.capacity == 0 || self.ttl.is_zero() {
            return;
        }
        self.entries.insert(key.clone(), (now, value));
        self.order.push_back((key, now));
        while self.entries.len() > self.capacity {
            let Some((oldest, at)) = self.order.pop_front() else {
                break;
            };
            if self
                .entries
                .get(&oldest)
                .is_some_and(|(fetched, _)| *fetched == at)
            {
                self.entries.remove(&oldest);
            }
        }
        // Refreshed keys leave stale elements behind; drop them before they pile up.
        if self.order.len() > self.capacity.saturating_mul(2) {
            let entries = &self.entries;
            self.order
                .retain(|(key, at)| entries.get(key).is_some_and(|(fetched, _)| fetched == at));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn key(value: &str) -> Key {
        ("domain".to_owned(), value.to_owned())
    }

    #[test]
    fn values_are_percent_encoded_whole() {
        assert_eq!(percent_encode("evil.example"), "evil.example");
        assert_eq!(
            percent_encode("http://a/b?c=d&e f#g"),
            "http%3A%2F%2Fa%2Fb%3Fc%3Dd%26e%20f%23g"
        );
        assert_eq!(percent_encode("é~"), "%C3%A9~");
    }

    #[test]
    fn answers_expire_and_the_oldest_leave_first() {
        let start = Instant::now();
        let mut cache = Cache::new(2, Duration::from_secs(60));
        cache.insert(key("a"), json!(1), start);
        cache.insert(key("b"), json!(2), start);
        assert_eq!(cache.get(&key("a"), start), Some(json!(1)));
        assert_eq!(cache.get(&key("a"), start + Duration::from_secs(61)), None);
        cache.insert(key("c"), json!(3), start);
        assert_eq!(cache.get(&key("a"), start), None, "a was the oldest");
        assert_eq!(cache.get(&key("b"), start), Some(json!(2)));
        // Refreshing one key many times never grows the order past its bound.
        for step in 0..100 {
            cache.insert(key("b"), json!(step), start + Duration::from_millis(step));
        }
        assert!(cache.order.len() <= 4, "{}", cache.order.len());
        assert_eq!(cache.entries.len(), 2);
        assert_eq!(cache.get(&key("c"), start), Some(json!(3)));
    }

    #[test]
    fn url_templates_may_read_only_the_value_and_kind() {
        let client = http::client().unwrap();
        let config = |url: &str| -> LookupConfig {
            toml::from_str(&format!("name = 'pdns'\nurl = '{url}'\n")).unwrap()
        };
        let good = Lookup::new(
            &config("https://pdns.example/{{kind}}/{{value}}"),
            client.clone(),
        );
        assert!(good.is_ok());
        let other = Lookup::new(
            &config("https://pdns.example/{{alert.rule}}"),
            client.clone(),
        );
        assert!(
            other
                .err()
                .unwrap()
                .to_string()
                .contains("{{alert.rule}} is not known here")
        );
        let no_value = Lookup::new(&config("https://pdns.example/{{kind}}"), client.clone());
        assert!(
            no_value
                .err()
                .unwrap()
                .to_string()
                .contains("{{value}} is missing")
        );
        let not_http = Lookup::new(&config("ftp://pdns.example/{{value}}"), client);
        assert!(not_http.is_err());
    }
}
