//! Case templates: the title, description, severity, tags and tasks a kind of incident starts
//! with, written in TOML or YAML. Titles and texts name `{placeholders}` filled from a small
//! context (the alert's rule, host, sender…) when a case is opened; `{{` and `}}` are literal
//! braces. A placeholder that does not exist is refused when the template is loaded.
//!
//! ```toml
//! name = "phishing"
//! title = "Phishing: {subject} from {sender}"
//! severity = "medium"
//! tags = ["phishing"]
//!
//! [[tasks]]
//! title = "Collect the reported messages"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use rampart_model::{AttackId, Pap, Severity, Tlp};
use rampart_store::{MAX_TITLE_CHARS, NewCase, NewTask};
use serde::{Deserialize, Serialize};

/// The placeholders a template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "alert",
    "rule",
    "host",
    "user",
    "sender",
    "subject",
    "indicator",
    "source",
    "campaign",
    "severity",
    "date",
];

/// What a placeholder with no value in the context becomes.
const MISSING_VALUE: &str = "unknown";
/// The longest value put into a template, in characters: a value is a name, not a document.
const MAX_VALUE_CHARS: usize = 200;

/// The templates shipped with Rampart, by file name.
const BUILTIN: &[(&str, &str)] = &[
    ("phishing.toml", include_str!("../templates/phishing.toml")),
    ("malware.toml", include_str!("../templates/malware.toml")),
    (
        "brute-force.toml",
        include_str!("../templates/brute-force.toml"),
    ),
    ("c2.toml", include_str!("../templates/c2.toml")),
];

/// A template that cannot be used, with the file it came from.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {reason}")]
    Parse { file: String, reason: String },
    #[error("{file}: {field}: {reason}")]
    Placeholder {
        file: String,
        field: String,
        reason: String,
    },
    #[error("{file}: template {name:?} is defined in {first} already")]
    Duplicate {
        file: String,
        name: String,
        first: String,
    },
}

/// A template as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateFile {
    /// Defaults to the file name without its extension.
    name: Option<String>,
    title: String,
    #[serde(default)]
    description: String,
    severity: Severity,
    tlp: Option<Tlp>,
    pap: Option<Pap>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    techniques: Vec<AttackId>,
    #[serde(default)]
    tasks: Vec<TemplateTask>,
}

/// One task of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateTask {
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// A checked template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseTemplate {
    pub name: String,
    /// Where it was loaded from (`builtin:phishing.toml` for the shipped ones).
    pub file: String,
    pub title: String,
    pub description: String,
    pub severity: Severity,
    pub tlp: Tlp,
    pub pap: Pap,
    pub tags: Vec<String>,
    pub techniques: Vec<AttackId>,
    pub tasks: Vec<TemplateTask>,
}

/// Values for a template's placeholders. Values are attacker-controlled text (a mail subject,
/// a host name from an event): they are put in as one line, at most 200 characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TemplateContext {
    values: BTreeMap<String, String>,
}

impl TemplateContext {
    pub fn new() -> TemplateContext {
        TemplateContext::default()
    }

    /// Sets a placeholder's value; names that are not in [`PLACEHOLDERS`] are ignored, as no
    /// template can use them.
    pub fn with(mut self, name: &str, value: impl AsRef<str>) -> TemplateContext {
        self.set(name, value);
        self
    }

    pub fn set(&mut self, name: &str, value: impl AsRef<str>) {
        if PLACEHOLDERS.contains(&name) {
            self.values
                .insert(name.to_owned(), one_line(value.as_ref()));
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }
}

/// A value as one line of at most [`MAX_VALUE_CHARS`] characters: control characters become
/// spaces.
fn one_line(value: &str) -> String {
    let line: String = value
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_VALUE_CHARS)
        .collect();
    line.trim_end().to_owned()
}

/// One piece of a template text.
enum Piece<'a> {
    Text(&'a str),
    Placeholder(&'a str),
}

/// Splits a template text into literal text and placeholders, or says what is wrong.
fn pieces(text: &str) -> Result<Vec<Piece<'_>>, String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while let Some(position) = rest.find(['{', '}']) {
        let (before, from) = rest.split_at(position);
        if !before.is_empty() {
            pieces.push(Piece::Text(before));
        }
        if let Some(after) = from.strip_prefix("{{") {
            pieces.push(Piece::Text("{"));
            rest = after;
        } else if let Some(after) = from.strip_prefix("}}") {
            pieces.push(Piece::Text("}"));
            rest = after;
        } else if from.starts_with('}') {
            return Err("a lone '}' (write '}}' for a brace)".to_owned());
        } else {
            let Some(end) = from.find('}') else {
                return Err("a '{' without its '}' (write '{{' for a brace)".to_owned());
            };
            let name = &from[1..end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "unknown placeholder {{{name}}} (known: {})",
                    PLACEHOLDERS.join(", ")
                ));
            }
            pieces.push(Piece::Placeholder(name));
            rest = &from[end + 1..];
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest));
    }
    Ok(pieces)
}

/// Fills a checked template text.
fn fill(text: &str, context: &TemplateContext) -> String {
    let Ok(pieces) = pieces(text) else {
        // Texts are checked when loaded; an unchecked one is kept as written.
        return text.to_owned();
    };
    let mut filled = String::with_capacity(text.len());
    for piece in pieces {
        match piece {
            Piece::Text(literal) => filled.push_str(literal),
            Piece::Placeholder(name) => filled.push_str(context.get(name).unwrap_or(MISSING_VALUE)),
        }
    }
    filled
}

impl CaseTemplate {
    /// Reads one template from TOML (`.toml`) or YAML (`.yaml`, `.yml`) text; `file` names it
    /// in errors and gives the default name.
    pub fn parse(file: &str, text: &str) -> Result<CaseTemplate, TemplateError> {
        let parse_error = |reason: String| TemplateError::Parse {
            file: file.to_owned(),
            reason,
        };
        let lower = file.to_ascii_lowercase();
        let parsed: TemplateFile = if lower.ends_with(".toml") {
            toml::from_str(text).map_err(|err| parse_error(err.to_string()))?
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            yaml_serde::from_str(text).map_err(|err| parse_error(err.to_string()))?
        } else {
            return Err(parse_error("not a .toml, .yaml or .yml file".to_owned()));
        };
        let stem = Path::new(file)
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or(file);
        let name = parsed.name.unwrap_or_else(|| stem.to_owned());
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(parse_error(
                "the name is empty or holds control characters".into(),
            ));
        }
        let check = |field: String, text: &str| {
            pieces(text)
                .map(drop)
                .map_err(|reason| TemplateError::Placeholder {
                    file: file.to_owned(),
                    field,
                    reason,
                })
        };
        check("title".into(), &parsed.title)?;
        check("description".into(), &parsed.description)?;
        for (index, task) in parsed.tasks.iter().enumerate() {
            check(format!("tasks[{index}].title"), &task.title)?;
            check(format!("tasks[{index}].description"), &task.description)?;
        }
        if parsed.title.trim().is_empty() || parsed.title.chars().any(char::is_control) {
            return Err(parse_error(
                "the title is empty or holds control characters".into(),
            ));
        }
        Ok(CaseTemplate {
            name,
            file: file.to_owned(),
            title: parsed.title,
            description: parsed.description,
            severity: parsed.severity,
            tlp: parsed.tlp.unwrap_or(Tlp::Amber),
            pap: parsed.pap.unwrap_or(Pap::Amber),
            tags: parsed.tags,
            techniques: parsed.techniques,
            tasks: parsed.tasks,
        })
    }

    /// The title with the context's values, cut to the store's limit.
    pub fn render_title(&self, context: &TemplateContext) -> String {
        let title = fill(&self.title, context);
        title.chars().take(MAX_TITLE_CHARS).collect()
    }

    /// A case to open from this template, by `created_by`, with its tasks (task titles cut to
    /// the store's limit). No due date: the SLA gives it.
    pub fn instantiate(&self, context: &TemplateContext, created_by: &str) -> NewCase {
        let mut case = NewCase::new(self.render_title(context), self.severity, created_by);
        case.description = fill(&self.description, context);
        case.tlp = self.tlp;
        case.pap = self.pap;
        case.tags = self.tags.clone();
        case.techniques = self.techniques.clone();
        case.tasks = self
            .tasks
            .iter()
            .map(|task| NewTask {
                title: fill(&task.title, context)
                    .chars()
                    .take(MAX_TITLE_CHARS)
                    .collect(),
                description: fill(&task.description, context),
                ..NewTask::default()
            })
            .collect();
        case
    }
}

/// Templates by name: the shipped ones, then any loaded from a directory (which may replace
/// a shipped one of the same name).
#[derive(Debug, Clone, Default)]
pub struct TemplateSet {
    by_name: BTreeMap<String, CaseTemplate>,
}

impl TemplateSet {
    /// The templates shipped with Rampart: `phishing`, `malware`, `brute-force`, `c2`.
    pub fn builtin() -> TemplateSet {
        let mut set = TemplateSet::default();
        for (file, text) in BUILTIN {
            // Checked by the tests; a broken one is left out rather than failing at run time.
            if let Ok(template) = CaseTemplate::parse(&format!("builtin:{file}"), text) {
                set.by_name.insert(template.name.clone(), template);
            }
        }
        set
    }

    /// The shipped templates and those of every `.toml`, `.yaml` and `.yml` file in `dir`
    /// (not recursive), in file-name order. Two files defining one name are an error; a file
    /// may replace a shipped template.
    pub fn with_dir(dir: &Path) -> Result<TemplateSet, TemplateError> {
        let mut set = TemplateSet::builtin();
        let read_error = |file: &Path, source| TemplateError::Read {
            file: file.display().to_string(),
            source,
        };
        let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
            .map_err(|err| read_error(dir, err))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                path.is_file() && matches!(extension, "toml" | "yaml" | "yml")
            })
            .collect();
        files.sort();
        let mut loaded: BTreeMap<String, String> = BTreeMap::new();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|err| read_error(&path, err))?;
            let file = path.display().to_string();
            let template = CaseTemplate::parse(&file, &text)?;
            if let Some(first) = loaded.get(&template.name) {
                return Err(TemplateError::Duplicate {
                    file,
                    name: template.name,
                    first: first.clone(),
                });
            }
            loaded.insert(template.name.clone(), file);
            set.by_name.insert(template.name.clone(), template);
        }
        Ok(set)
    }

    pub fn get(&self, name: &str) -> Option<&CaseTemplate> {
        self.by_name.get(name)
    }

    /// Adds or replaces a template.
    pub fn insert(&mut self, template: CaseTemplate) {
        self.by_name.insert(template.name.clone(), template);
    }

    /// Every template, by name.
    pub fn iter(&self) -> impl Iterator<Item = &CaseTemplate> {
        self.by_name.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_templates_all_load() {
        for (file, text) in BUILTIN {
            CaseTemplate::parse(file, text).unwrap_or_else(|err| panic!("{err}"));
        }
        let set = TemplateSet::builtin();
        let names: Vec<&str> = set.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["brute-force", "c2", "malware", "phishing"]);
    }

    #[test]
    fn placeholders_are_filled_as_one_line_and_braces_escaped() {
        let template = CaseTemplate::parse(
            "t.toml",
            "title = \"Phishing: {subject} {{{sender}}} on {host}\"\nseverity = \"medium\"\n",
        )
        .unwrap();
        assert_eq!(template.name, "t");
        let context = TemplateContext::new()
            .with("subject", "  Invoice\r\nURGENT  ")
            .with("sender", "eve@evil.example")
            .with("nonsense", "ignored");
        assert_eq!(
            template.render_title(&context),
            "Phishing: Invoice  URGENT {eve@evil.example} on unknown"
        );
        let long = TemplateContext::new().with("subject", "x".repeat(1_000));
        assert_eq!(long.get("subject").unwrap().len(), MAX_VALUE_CHARS);
    }

    #[test]
    fn unknown_or_broken_placeholders_are_refused_with_file_and_field() {
        let unknown = CaseTemplate::parse(
            "dir/bad.toml",
            "title = \"ok\"\nseverity = \"low\"\n[[tasks]]\ntitle = \"ask {hostname}\"\n",
        )
        .unwrap_err();
        assert_eq!(
            unknown.to_string(),
            format!(
                "dir/bad.toml: tasks[0].title: unknown placeholder {{hostname}} (known: {})",
                PLACEHOLDERS.join(", ")
            )
        );
        let open =
            CaseTemplate::parse("b.yaml", "title: \"x {host\"\nseverity: low\n").unwrap_err();
        assert!(
            open.to_string()
                .starts_with("b.yaml: title: a '{' without its '}'"),
            "{open}"
        );
        let lone = CaseTemplate::parse("c.yml", "title: \"x } y\"\nseverity: low\n").unwrap_err();
        assert!(lone.to_string().contains("a lone '}'"), "{lone}");
        let field = CaseTemplate::parse("d.toml", "title = \"x\"\nseverity = \"low\"\nowner = 1\n")
            .unwrap_err();
        assert!(field.to_string().starts_with("d.toml: "), "{field}");
        assert!(
            field.to_string().contains("unknown field `owner`"),
            "{field}"
        );
        let format = CaseTemplate::parse("e.json", "{}").unwrap_err();
        assert_eq!(
            format.to_string(),
            "e.json: not a .toml, .yaml or .yml file"
        );
    }

    #[test]
    fn yaml_templates_become_cases_with_tasks() {
        let template = CaseTemplate::parse(
            "ransom.yaml",
            "name: ransomware\ntitle: \"Ransomware on {host}\"\ndescription: \"Seen by {rule}.\"\n\
             severity: critical\ntlp: red\npap: green\ntags: [ransomware]\ntechniques: [T1486]\n\
             tasks:\n  - title: \"Isolate {host}\"\n  - title: Restore\n    description: from backups\n",
        )
        .unwrap();
        let context = TemplateContext::new()
            .with("host", "ws-7")
            .with("rule", "Shadow copies deleted");
        let case = template.instantiate(&context, "playbook:ransomware");
        assert_eq!(case.title, "Ransomware on ws-7");
        assert_eq!(case.description, "Seen by Shadow copies deleted.");
        assert_eq!(
            (case.severity, case.tlp, case.pap),
            (Severity::Critical, Tlp::Red, Pap::Green)
        );
        assert_eq!(case.created_by, "playbook:ransomware");
        let tasks: Vec<(&str, &str)> = case
            .tasks
            .iter()
            .map(|task| (task.title.as_str(), task.description.as_str()))
            .collect();
        assert_eq!(tasks, [("Isolate ws-7", ""), ("Restore", "from backups")]);
        assert_eq!(case.due, None);
    }

    #[test]
    fn a_directory_adds_and_replaces_templates_and_refuses_two_of_one_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.toml"),
            "name = \"c2\"\ntitle = \"Mine\"\nseverity = \"low\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a template").unwrap();
        let set = TemplateSet::with_dir(dir.path()).unwrap();
        assert_eq!(set.get("c2").unwrap().title, "Mine");
        assert!(set.get("phishing").is_some());
        std::fs::write(
            dir.path().join("b.yml"),
            "name: c2\ntitle: Other\nseverity: low\n",
        )
        .unwrap();
        let twice = TemplateSet::with_dir(dir.path()).unwrap_err();
        assert!(
            matches!(twice, TemplateError::Duplicate { ref name, .. } if name == "c2"),
            "{twice}"
        );
        let missing = TemplateSet::with_dir(&dir.path().join("nope")).unwrap_err();
        assert!(missing.to_string().contains("cannot read"), "{missing}");
    }
}
