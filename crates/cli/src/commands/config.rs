//! `rampart config check [FILE]`: reads the whole configuration — every table, with the type
//! each stage reads it into — and reports every problem at its place in the file
//! (`FILE:LINE:COLUMN: message`), or a summary of what is configured.
//!
//! Each section is checked on its own, straight from the file's text, so that one mistake does
//! not hide the next and every message keeps the span TOML gave it.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use rampart_intel::config::{Config, SourceConfig};
use serde::Deserialize;
use toml::Spanned;

use super::retention::RetentionConfig;
use crate::logging::LogConfig;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check a configuration file (default: --config, else the embedded defaults) and
    /// summarise it; exit 1 with every problem and its line if it is not valid.
    Check {
        /// The file to check.
        file: Option<PathBuf>,
    },
}

/// One problem: where (a byte range of the text, when known) and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub span: Option<std::ops::Range<usize>>,
    pub message: String,
}

impl Problem {
    fn from_toml(err: &toml::de::Error, section: Option<&str>) -> Problem {
        let message = err.message().trim_end().to_owned();
        Problem {
            span: err.span(),
            message: match section {
                Some(section) => format!("[{section}] {message}"),
                None => message,
            },
        }
    }

    fn at(span: std::ops::Range<usize>, message: String) -> Problem {
        Problem {
            span: Some(span),
            message,
        }
    }

    /// `origin:line:column: message` (1-based, columns in characters).
    pub fn render(&self, origin: &str, text: &str) -> String {
        match &self.span {
            Some(span) => {
                let (line, column) = line_column(text, span.start);
                format!("{origin}:{line}:{column}: {}", self.message)
            }
            None => format!("{origin}: {}", self.message),
        }
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Reads one top-level table of the text into `$ty`, keeping its span; other keys are
/// ignored here (the whole-file check reports unknown ones).
macro_rules! section {
    ($text:expr, $key:ident: $ty:ty) => {{
        #[derive(Deserialize)]
        struct Only {
            #[serde(default)]
            $key: Option<Spanned<$ty>>,
        }
        toml::from_str::<Only>($text).map(|only| only.$key)
    }};
}

/// What a valid file configures, for the summary.
pub struct Checked {
    pub config: Config,
    pub server: rampart_server::ServerConfig,
    pub detect: rampart_detect::config::DetectConfig,
    pub log: LogConfig,
    pub retention: RetentionConfig,
    pub taxii: rampart_server::taxii::TaxiiConfig,
    pub respond: rampart_respond::config::RespondConfig,
    /// Playbooks the configured directory holds, by name.
    pub playbooks: Vec<String>,
}

/// Checks the text of a configuration file: every problem, or what it configures. Relative
/// playbook directories are read from `base` (the file's directory).
pub fn check(text: &str, base: Option<&Path>) -> Result<Checked, Vec<Problem>> {
    // A syntax error makes every section unreadable: it alone is reported.
    if let Err(err) = text.parse::<toml::Table>() {
        return Err(vec![Problem::from_toml(&err, None)]);
    }
    let mut problems = Vec::new();
    // The file as a whole: syntax, unknown top-level keys, the intel fields.
    let config = match toml::from_str::<Config>(text) {
        Ok(config) => Some(config),
        Err(err) => {
            problems.push(Problem::from_toml(&err, None));
            None
        }
    };
    // Each source on its own, so that all bad ones are reported with their place.
    #[derive(Deserialize)]
    struct Sources {
        #[serde(default)]
        sources: Vec<Spanned<toml::Table>>,
    }
    if let Ok(sources) = toml::from_str::<Sources>(text) {
        let mut names = std::collections::BTreeMap::new();
        for spanned in sources.sources {
            let span = spanned.span();
            let table = spanned.into_inner();
            match toml::Value::Table(table).try_into::<SourceConfig>() {
                Ok(source) => {
                    if let Err(reason) = source.validate() {
                        problems.push(Problem::at(
                            span.clone(),
                            format!("source {:?}: {reason}", source.name),
                        ));
                    }
                    if names.insert(source.name.clone(), ()).is_some() {
                        problems.push(Problem::at(
                            span,
                            format!("source {:?}: defined twice", source.name),
                        ));
                    }
                }
                // Already reported with its exact place by the whole-file check.
                Err(_) if config.is_none() => {}
                Err(err) => problems.push(Problem::at(span, format!("source: {err}"))),
            }
        }
    }
    let server = match section!(text, server: rampart_server::ServerConfig) {
        Ok(Some(spanned)) => {
            let span = spanned.span();
            let server = spanned.into_inner();
            if server.tls_cert.is_some() != server.tls_key.is_some() {
                problems.push(Problem::at(
                    span.clone(),
                    "[server] tls_cert and tls_key go together: set both for HTTPS, or neither"
                        .into(),
                ));
            }
            for path in [&server.tls_cert, &server.tls_key].into_iter().flatten() {
                if !path.is_file() {
                    problems.push(Problem::at(
                        span.clone(),
                        format!("[server] no such file: {}", path.display()),
                    ));
                }
            }
            Some(server)
        }
        Ok(None) => Some(Default::default()),
        Err(err) => {
            problems.push(Problem::from_toml(&err, Some("server")));
            None
        }
    };
    let detect = match section!(text, detect: rampart_detect::config::DetectConfig) {
        Ok(spanned) => Some(spanned.map(Spanned::into_inner).unwrap_or_default()),
        Err(err) => {
            problems.push(Problem::from_toml(&err, Some("detect")));
            None
        }
    };
    let log = match section!(text, log: LogConfig) {
        Ok(Some(spanned)) => {
            let span = spanned.span();
            let log = spanned.into_inner();
            if let Err(err) = tracing_subscriber::EnvFilter::try_new(&log.level) {
                problems.push(Problem::at(
                    span,
                    format!("[log] level {:?} is not a filter: {err}", log.level),
                ));
            }
            Some(log)
        }
        Ok(None) => Some(Default::default()),
        Err(err) => {
            problems.push(Problem::from_toml(&err, Some("log")));
            None
        }
    };
    let retention = match section!(text, retention: RetentionConfig) {
        Ok(spanned) => Some(spanned.map(Spanned::into_inner).unwrap_or_default()),
        Err(err) => {
            problems.push(Problem::from_toml(&err, Some("retention")));
            None
        }
    };
    let taxii = match section!(text, taxii: toml::Table) {
        Ok(spanned) => {
            let span = spanned.as_ref().map(|spanned| spanned.span());
            let table = spanned.map(Spanned::into_inner);
            match rampart_server::taxii::TaxiiConfig::from_table(table.as_ref()) {
                Ok(taxii) => Some(taxii),
                Err(err) => {
                    problems.push(Problem::at(span.unwrap_or(0..0), err.to_string()));
                    None
                }
            }
        }
        Err(err) => {
            problems.push(Problem::from_toml(&err, Some("taxii")));
            None
        }
    };
    match section!(text, cases: rampart_cases::CasesConfig) {
        Ok(Some(spanned)) => {
            let span = spanned.span();
            if let Err(err) = rampart_cases::CaseSettings::from_config(spanned.get_ref()) {
                problems.push(Problem::at(span, format!("[cases] templates: {err}")));
            }
        }
        Ok(None) => {}
        Err(err) => problems.push(Problem::from_toml(&err, Some("cases"))),
    }
    let mut playbooks = Vec::new();
    let respond = match section!(text, respond: toml::Table) {
        Ok(spanned) => {
            let span = spanned.as_ref().map_or(0..0, |spanned| spanned.span());
            let table = spanned.map(Spanned::into_inner);
            match rampart_respond::config::RespondConfig::from_table(table.as_ref()) {
                Ok(mut respond) => {
                    if let (Some(dir), Some(base)) = (&respond.playbooks, base)
                        && dir.is_relative()
                    {
                        respond.playbooks = Some(base.join(dir));
                    }
                    // The playbooks load with the names this file configures.
                    if let Some(dir) = &respond.playbooks {
                        let templates: Vec<String> = cases_section(text)
                            .map(|settings| {
                                settings.templates.iter().map(|t| t.name.clone()).collect()
                            })
                            .unwrap_or_default();
                        let references = respond.references(templates);
                        let (library, errors) =
                            rampart_respond::playbook::Library::load_dir(dir, &references, None);
                        for error in errors {
                            problems.push(Problem::at(
                                span.clone(),
                                format!("[respond] playbook {error}"),
                            ));
                        }
                        playbooks = library
                            .iter()
                            .map(|playbook| playbook.name().to_owned())
                            .collect();
                    }
                    Some(respond)
                }
                Err(err) => {
                    problems.push(Problem::at(span, err.to_string()));
                    None
                }
            }
        }
        Err(err) => {
            problems.push(Problem::from_toml(&err, Some("respond")));
            None
        }
    };
    match (config, server, detect, log, retention, taxii, respond) {
        (
            Some(config),
            Some(server),
            Some(detect),
            Some(log),
            Some(retention),
            Some(taxii),
            Some(respond),
        ) if problems.is_empty() => Ok(Checked {
            config,
            server,
            detect,
            log,
            retention,
            taxii,
            respond,
            playbooks,
        }),
        _ => Err(problems),
    }
}

pub fn run(
    command: ConfigCommand,
    global_config: Option<&Path>,
) -> anyhow::Result<std::process::ExitCode> {
    let ConfigCommand::Check { file } = command;
    let (origin, text) = match file.as_deref().or(global_config) {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path)
                .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", path.display()))?,
        ),
        None => (
            "embedded defaults".to_owned(),
            rampart_intel::config::EMBEDDED_DEFAULTS.to_owned(),
        ),
    };
    let base = file.as_deref().or(global_config).and_then(Path::parent);
    match check(&text, base) {
        Ok(checked) => {
            print!("{}", summary(&origin, &checked));
            Ok(std::process::ExitCode::SUCCESS)
        }
        Err(problems) => {
            for problem in &problems {
                eprintln!("{}", problem.render(&origin, &text));
            }
            eprintln!(
                "{origin}: {} problem{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            Ok(std::process::ExitCode::FAILURE)
        }
    }
}

fn summary(origin: &str, checked: &Checked) -> String {
    let Checked {
        config,
        server,
        detect,
        log,
        retention,
        taxii,
        respond,
        playbooks,
    } = checked;
    let enabled = config.sources.iter().filter(|s| s.enabled).count();
    let mut lines = vec![
        format!("{origin}: ok"),
        format!(
            "  store      {}",
            crate::context::redact(&config.store_url())
        ),
        format!(
            "  sources    {} ({enabled} enabled), {} pulled at a time",
            config.sources.len(),
            config.concurrent_pulls
        ),
        format!(
            "  server     {} {}, metrics {}",
            if server.tls().is_some() {
                "https"
            } else {
                "http"
            },
            server.listen,
            if server.metrics_public {
                "public"
            } else {
                "behind a token (read_metrics)"
            }
        ),
        format!(
            "  taxii      /taxii2/{}/, {} collections",
            taxii.api_root,
            taxii.collections.len()
        ),
        format!(
            "  respond    {} block lists, {} playbooks{}",
            respond.blocklists.len(),
            playbooks.len(),
            if respond.dry_run { " (dry run)" } else { "" }
        ),
        format!(
            "  detect     {} inputs, {} rule packs, archive {}",
            detect.inputs.len(),
            detect.rule_packs.len(),
            match &detect.archive {
                Some(archive) => format!(
                    "{} kept {}",
                    archive.dir.display(),
                    super::retention::friendly(archive.retention)
                ),
                None => "off".into(),
            }
        ),
        format!(
            "  log        {} at {:?}",
            match log.format {
                crate::logging::LogFormat::Text => "text",
                crate::logging::LogFormat::Json => "json",
            },
            log.level
        ),
        format!("  retention  {}", retention.describe()),
    ];
    lines.push(String::new());
    lines.join("\n")
}

/// The `[cases]` section's settings, for the case templates playbooks may name.
fn cases_section(text: &str) -> Option<rampart_cases::CaseSettings> {
    #[derive(Deserialize)]
    struct Only {
        #[serde(default)]
        cases: rampart_cases::CasesConfig,
    }
    let only: Only = toml::from_str(text).ok()?;
    rampart_cases::CaseSettings::from_config(&only.cases).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_character_columns() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, text.find('=').unwrap()), (1, 3));
        let second_equals = text.rfind('=').unwrap();
        assert_eq!(line_column(text, second_equals), (2, 4));
    }

    #[test]
    fn every_section_reports_its_own_problem_with_a_line() {
        let text = "\
data_dir = \"d\"

[server]
listen = \"nowhere\"

[log]
format = \"xml\"

[retention]
alerts = \"soon\"
";
        let problems = check(text, None).err().unwrap();
        let rendered: Vec<String> = problems.iter().map(|p| p.render("f.toml", text)).collect();
        assert!(
            rendered
                .iter()
                .any(|p| p.starts_with("f.toml:4:") && p.contains("[server]")),
            "{rendered:#?}"
        );
        assert!(
            rendered
                .iter()
                .any(|p| p.starts_with("f.toml:7:") && p.contains("[log]")),
            "{rendered:#?}"
        );
        assert!(
            rendered
                .iter()
                .any(|p| p.starts_with("f.toml:10:") && p.contains("[retention]")),
            "{rendered:#?}"
        );
    }

    #[test]
    fn the_embedded_defaults_pass() {
        let checked = check(rampart_intel::config::EMBEDDED_DEFAULTS, None)
            .unwrap_or_else(|problems| panic!("{problems:?}"));
        assert!(!checked.config.sources.is_empty());
    }
}
