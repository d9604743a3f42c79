//! Where log lines go and how they look: the `[log]` table, `--log-format` and `RAMPART_LOG`.
//!
//! ```toml
//! [log]
//! format = "json"                       # "text" (default) or "json": one object per line
//! level = "warn,rampart=info"           # a tracing filter; RAMPART_LOG overrides it
//! ```
//!
//! Logs go to standard error. `serve`'s progress lines ("http listening on …") are plain text
//! there in the text format and log events (target `rampart::progress`) in the JSON format, so
//! that a JSON log stream holds nothing but JSON.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::Deserialize;

/// The `[log]` table. Every field has a default, so an absent table is valid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` (default): human-readable lines. `json`: one JSON object per line with
    /// `timestamp`, `level`, `target` and `fields` (the message is `fields.message`).
    pub format: LogFormat,
    /// Which events are written: a tracing filter such as `info` or `warn,rampart=debug`.
    /// Default `warn,rampart=info,rampart_intel=info`. The `RAMPART_LOG` environment variable,
    /// when set, replaces it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            format: LogFormat::Text,
            level: DEFAULT_LEVEL.to_owned(),
        }
    }
}

const DEFAULT_LEVEL: &str = "warn,rampart=info,rampart_intel=info";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl LogConfig {
    /// Reads the `[log]` table; `None` gives the defaults.
    pub fn from_table(table: Option<&toml::Table>) -> anyhow::Result<LogConfig> {
        let Some(table) = table else {
            return Ok(LogConfig::default());
        };
        let config: LogConfig = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|err| anyhow::anyhow!("invalid [log] section: {err}"))?;
        tracing_subscriber::EnvFilter::try_new(&config.level)
            .map_err(|err| anyhow::anyhow!("invalid [log] level {:?}: {err}", config.level))?;
        Ok(config)
    }

    /// The filter to apply: `RAMPART_LOG` if set, else `level`.
    fn filter(&self) -> anyhow::Result<tracing_subscriber::EnvFilter> {
        let text = std::env::var("RAMPART_LOG").unwrap_or_else(|_| self.level.clone());
        tracing_subscriber::EnvFilter::try_new(&text)
            .map_err(|err| anyhow::anyhow!("invalid log level {text:?}: {err}"))
    }
}

static JSON: AtomicBool = AtomicBool::new(false);

/// Installs the subscriber for the whole process. A bad filter falls back to the default
/// (and says so), since logging must work for the error to be seen.
pub fn init(config: &LogConfig) {
    let filter = config.filter().unwrap_or_else(|err| {
        eprintln!("warning: {err:#}; using {DEFAULT_LEVEL:?}");
        tracing_subscriber::EnvFilter::new(DEFAULT_LEVEL)
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, not in files and journals.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match config.format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => {
            JSON.store(true, Ordering::Relaxed);
            builder.json().with_current_span(false).init();
        }
    }
}

/// Whether log lines are JSON objects (then nothing else may be written to standard error).
pub fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

/// A progress line for the operator: plain on standard error, or an info event when logs are
/// JSON.
pub fn progress(message: std::fmt::Arguments<'_>) {
    if JSON.load(Ordering::Relaxed) {
        tracing::info!(target: "rampart::progress", "{message}");
    } else {
        eprintln!("{message}");
    }
}

/// `say!("rampart serve: …")`: [`progress`] with `format!` arguments.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::logging::progress(format_args!($($arg)*))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_bad_values_say_why() {
        assert_eq!(LogConfig::from_table(None).unwrap(), LogConfig::default());
        let table: toml::Table = toml::from_str("format = \"json\"\nlevel = \"debug\"").unwrap();
        let config = LogConfig::from_table(Some(&table)).unwrap();
        assert_eq!(config.format, LogFormat::Json);
        assert_eq!(config.level, "debug");
        for (text, expected) in [
            ("format = \"xml\"", "unknown variant"),
            ("colour = true", "unknown field"),
        ] {
            let table: toml::Table = toml::from_str(text).unwrap();
            let err = LogConfig::from_table(Some(&table)).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
