//! Loading playbook files: YAML syntax and shape, then every name a playbook refers to (block
//! lists, channels, destinations, lookups, case templates) and every field its templates read.
//! A file that fails is reported with file, line and reason; reloading a directory keeps the
//! previous version of a file that no longer loads, so a typo never stops a running playbook.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::definition::{ActionSpec, PlaybookSpec, ValueSource};

/// The names configured outside the playbooks that they may refer to.
#[derive(Debug, Clone, Default)]
pub struct References {
    pub lists: BTreeSet<String>,
    pub channels: BTreeSet<String>,
    pub destinations: BTreeSet<String>,
    /// HTTP lookups; `store` is always there.
    pub lookups: BTreeSet<String>,
    pub case_templates: BTreeSet<String>,
}

/// A playbook file that does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {reason}", file.display())]
pub struct PlaybookError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem is the file as a whole.
    pub line: usize,
    pub reason: String,
}

/// A loaded, checked playbook.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub spec: PlaybookSpec,
    pub file: PathBuf,
    /// `sha256:` and the first 16 hex digits of the file's SHA-256: which version ran.
    pub digest: String,
}

impl Playbook {
    pub fn name(&self) -> &str {
        &self.spec.name
    }
}

/// Roots a template may read besides the trigger's own subject.
const RUN_ROOTS: [&str; 4] = ["enrichment", "case", "run", "playbook"];

/// Parses and checks one playbook file's text.
pub fn parse(file: &Path, text: &str, references: &References) -> Result<Playbook, PlaybookError> {
    let error = |line: usize, reason: String| PlaybookError {
        file: file.to_path_buf(),
        line,
        reason,
    };
    let spec: PlaybookSpec = super::from_yaml(text).map_err(|err| {
        let line = err.location().map_or(0, |location| location.line());
        // The message repeats the position; the prefix says it once.
        let reason = err.to_string();
        let reason = reason
            .split_once(" at line ")
            .map_or(reason.as_str(), |(message, _)| message)
            .to_owned();
        error(line, reason)
    })?;
    check_name(&spec.name).map_err(|reason| error(line_of(text, "name", &spec.name), reason))?;
    if spec.actions.is_empty() {
        return Err(error(
            line_of(text, "actions", ""),
            "a playbook needs at least one action".into(),
        ));
    }
    if spec.retry.attempts == 0 || spec.retry.attempts > 20 {
        return Err(error(
            line_of(text, "attempts", ""),
            "retry attempts must be 1 to 20".into(),
        ));
    }
    let subject = spec.trigger.subject_name();
    for (key, value) in referenced_names(&spec) {
        let known = match key {
            "list" => &references.lists,
            "channel" => &references.channels,
            "to" => &references.destinations,
            "lookups" => &references.lookups,
            _ => &references.case_templates,
        };
        if !(known.contains(value) || key == "lookups" && value == "store") {
            let what = match key {
                "list" => "block list",
                "channel" => "notification channel",
                "to" => "forwarding destination",
                "lookups" => "lookup",
                _ => "case template",
            };
            let mut reason = format!("unknown {what} {value:?}");
            if !known.is_empty() {
                let names: Vec<&str> = known.iter().map(String::as_str).collect();
                reason.push_str(&format!(" (configured: {})", names.join(", ")));
            }
            return Err(error(line_of(text, key, value), reason));
        }
    }
    for path in read_fields(&spec) {
        let root = path.split('.').next().unwrap_or_default();
        if root != subject && !RUN_ROOTS.contains(&root) {
            return Err(error(
                line_of(text, "", path),
                format!(
                    "{path:?} is not a field of this playbook's runs: they start from {subject:?} (or read {})",
                    RUN_ROOTS.join(", ")
                ),
            ));
        }
    }
    if let (ActionSpec::Block(block), super::definition::Trigger::Schedule(_)) =
        (&spec.actions[0], &spec.trigger)
        && matches!(block.values, ValueSource::Trigger)
    {
        return Err(error(
            line_of(text, "block", ""),
            "a scheduled run has no trigger values to block: give `values: {fields: [...]}`".into(),
        ));
    }
    Ok(Playbook {
        spec,
        file: file.to_path_buf(),
        digest: digest(text),
    })
}

fn check_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "playbook name {name:?}: use 1 to 64 lowercase letters, digits, '-' or '_'"
        ))
    }
}

/// Every (key, name) the playbook refers to, in file order.
fn referenced_names(spec: &PlaybookSpec) -> Vec<(&'static str, &str)> {
    let mut names = Vec::new();
    for action in &spec.actions {
        match action {
            ActionSpec::Block(block) => names.push(("list", block.list.as_str())),
            ActionSpec::Notify(notify) => names.push(("channel", notify.channel.as_str())),
            ActionSpec::Forward(forward) => names.push(("to", forward.to.as_str())),
            ActionSpec::Enrich(enrich) => {
                names.extend(enrich.lookups.iter().map(|name| ("lookups", name.as_str())));
            }
            ActionSpec::Case(case) => names.push(("template", case.template.as_str())),
            ActionSpec::Approve(_) | ActionSpec::RetroHunt(_) => {}
        }
    }
    names
}

/// Every field path the playbook's templates and value sources read.
fn read_fields(spec: &PlaybookSpec) -> Vec<&str> {
    let mut fields: Vec<&str> = spec
        .conditions
        .iter()
        .map(|condition| condition.field.as_str())
        .collect();
    for action in &spec.actions {
        let templates = match action {
            ActionSpec::Block(block) => {
                if let ValueSource::Fields(paths) = &block.values {
                    fields.extend(paths.iter().map(String::as_str));
                }
                vec![block.reason.as_ref()]
            }
            ActionSpec::Notify(notify) => vec![notify.subject.as_ref(), Some(&notify.text)],
            ActionSpec::Case(case) => vec![case.campaign.as_ref(), case.title.as_ref()],
            ActionSpec::Approve(approve) => vec![approve.message.as_ref()],
            ActionSpec::Enrich(_) | ActionSpec::RetroHunt(_) | ActionSpec::Forward(_) => vec![],
        };
        for template in templates.into_iter().flatten() {
            fields.extend(template.fields());
        }
    }
    fields
}

/// The 1-based line where `key:` is followed by `value`, or where `value` (or, with an empty
/// value, `key:`) first appears; 0 when nothing does.
fn line_of(text: &str, key: &str, value: &str) -> usize {
    let key_colon = format!("{key}:");
    let lines: Vec<&str> = text.lines().collect();
    let hit = |line: &str| {
        let has_key = key.is_empty() || line.contains(&key_colon);
        let has_value = value.is_empty() || line.contains(value);
        has_key && has_value
    };
    lines
        .iter()
        .position(|line| hit(line))
        .or_else(|| {
            lines
                .iter()
                .position(|line| !value.is_empty() && line.contains(value))
        })
        .map_or(0, |index| index + 1)
}

fn digest(text: &str) -> String {
    let hash = Sha256::digest(text.as_bytes());
    let hex: String = hash[..8].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("sha256:{hex}")
}

/// The playbooks of a directory, by name.
#[derive(Debug, Clone, Default)]
pub struct Library {
    playbooks: BTreeMap<String, Arc<Playbook>>,
}

impl Library {
    /// Loads every `*.yaml`/`*.yml` file of `dir`. A file that fails is reported and, when
    /// `previous` held a playbook from the same file, that version is kept. Two files with one
    /// playbook name: the second is refused.
    pub fn load_dir(
        dir: &Path,
        references: &References,
        previous: Option<&Library>,
    ) -> (Library, Vec<PlaybookError>) {
        let mut library = Library::default();
        let mut errors = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) => {
                errors.push(PlaybookError {
                    file: dir.to_path_buf(),
                    line: 0,
                    reason: format!("cannot read the playbook directory: {err}"),
                });
                return (previous.cloned().unwrap_or_default(), errors);
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| {
                path.extension()
                    .is_some_and(|ext| ext == "yaml" || ext == "yml")
            })
            .collect();
        files.sort();
        for file in files {
            let loaded = std::fs::read_to_string(&file)
                .map_err(|err| PlaybookError {
                    file: file.clone(),
                    line: 0,
                    reason: format!("cannot read: {err}"),
                })
                .and_then(|text| parse(&file, &text, references));
            let playbook = match loaded {
                Ok(playbook) => Arc::new(playbook),
                Err(err) => {
                    errors.push(err);
                    match previous.and_then(|library| library.loaded_from(&file)) {
                        Some(kept) => kept,
                        None => continue,
                    }
                }
            };
            if let Some(other) = library.playbooks.get(playbook.name()) {
                errors.push(PlaybookError {
                    file: file.clone(),
                    line: 0,
                    reason: format!(
                        "playbook {:?} is already defined in {}",
                        playbook.name(),
                        other.file.display()
                    ),
                });
                continue;
            }
            library
                .playbooks
                .insert(playbook.name().to_owned(), playbook);
        }
        (library, errors)
    }

    /// A library of given playbooks (tests, `playbook test`).
    pub fn of(playbooks: impl IntoIterator<Item = Playbook>) -> Library {
        Library {
            playbooks: playbooks
                .into_iter()
                .map(|playbook| (playbook.name().to_owned(), Arc::new(playbook)))
                .collect(),
        }
    }

    fn loaded_from(&self, file: &Path) -> Option<Arc<Playbook>> {
        self.playbooks
            .values()
            .find(|playbook| playbook.file == file)
            .cloned()
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Playbook>> {
        self.playbooks.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Playbook>> {
        self.playbooks.values()
    }

    pub fn len(&self) -> usize {
        self.playbooks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.playbooks.is_empty()
    }
}
