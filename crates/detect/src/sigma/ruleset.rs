//! The compiled rule set: loading rule files (rules, filters, correlations), compiling each
//! rule or saying why it could not be, and evaluating events — route by logsource first, then
//! run the program for that kind of event.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rsigma_parser::{CorrelationRule, FilterRule, FilterRuleTarget, LogSource, SigmaRule};
use serde::{Deserialize, Serialize};

use super::compile::{Atom, AtomTable, Node, compile_detections};
use super::mapping::{
    Mapping, MappingError, RouteKey, Source, UNKNOWN_CHANNEL, event_id_of, format_fits,
    resolve_path, scalar_text,
};
use super::prefilter;
use super::program::{Program, Scratch};
use crate::event::Event;

/// What the user configures for Sigma (`[sigma]` in the configuration file).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Values for `%name%` placeholders of the `expand` modifier:
    /// `[sigma.placeholders] admins = ["root", "admin"]`. A rule naming an unconfigured
    /// placeholder is listed as a failure.
    #[serde(default)]
    pub placeholders: BTreeMap<String, Vec<String>>,
    /// The mapping to use; `None` is the one shipped in `mappings/sigma/`.
    #[serde(skip)]
    pub mapping: Option<Mapping>,
}

/// A rule (or filter, or correlation) that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleFailure {
    pub path: PathBuf,
    pub id: Option<String>,
    pub title: Option<String>,
    pub reason: String,
}

/// One rule matching one event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleMatch {
    /// The rule's `id`, or its title when it has none.
    pub rule_id: String,
    pub title: String,
    pub level: Option<String>,
    /// ATT&CK technique ids from the rule's tags (`attack.t1059.001` → `T1059.001`).
    pub techniques: Vec<String>,
    /// Fields whose tests held, with the first value the event had for each.
    pub fields: Vec<(String, String)>,
    /// Index of the rule in [`RuleSet::rules`].
    pub rule: usize,
}

/// The parts of a compiled rule callers may read.
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    pub level: Option<String>,
    pub tags: Vec<String>,
    pub techniques: Vec<String>,
    pub logsource: LogSource,
    pub path: PathBuf,
    /// False when no mapping entry covers the logsource: the rule then only sees events of the
    /// generic layout (JSON lines of no known shape), never Windows or Zeek events.
    pub routed: bool,
}

enum Route {
    Sources(Vec<Source>),
    GenericOnly,
}

struct CompiledRule {
    info: RuleInfo,
    tree: Node,
    route: Route,
}

/// Compiled Sigma detection rules with their routing and field programs.
pub struct RuleSet {
    mapping: Mapping,
    rules: Vec<CompiledRule>,
    atoms: Vec<Atom>,
    rule_atoms: Vec<Vec<u32>>,
    /// Per rule, atoms one of which holds whenever it matches (`None`: read it always).
    rule_triggers: Vec<Option<Vec<u32>>>,
    known_formats: Vec<String>,
    known_channels: HashMap<String, u16, foldhash::fast::RandomState>,
    channel_names: Vec<String>,
    known_event_ids: HashSet<u32, foldhash::fast::RandomState>,
    programs: RwLock<HashMap<RouteKey, Arc<Program>, foldhash::fast::RandomState>>,
    pub(crate) correlations: Vec<CorrelationRule>,
}

thread_local! {
    /// Per-thread evaluation memory (atom marks, candidate rules), reused across events.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Parsed documents gathered from all files before compiling (filters apply across files).
#[derive(Default)]
struct Gathered {
    rules: Vec<(PathBuf, SigmaRule)>,
    filters: Vec<(PathBuf, FilterRule)>,
    correlations: Vec<(PathBuf, CorrelationRule)>,
    failures: Vec<RuleFailure>,
}

impl Gathered {
    fn add_text(&mut self, path: &Path, text: &str) {
        match rsigma_parser::parse_sigma_yaml(text) {
            Err(error) => self
                .failures
                .push(failure(path, None, None, error.to_string())),
            Ok(collection) => {
                for error in collection.errors {
                    let (id, title) = header_of(text);
                    self.failures
                        .push(failure(path, id, title, lowercase_first(&error)));
                }
                for rule in collection.rules {
                    self.rules.push((path.to_path_buf(), rule));
                }
                for filter in collection.filters {
                    self.filters.push((path.to_path_buf(), filter));
                }
                for correlation in collection.correlations {
                    self.correlations.push((path.to_path_buf(), correlation));
                }
            }
        }
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The id and title of a document the parser refused, read leniently for the report.
fn header_of(text: &str) -> (Option<String>, Option<String>) {
    let field = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key))
            .map(|rest| rest.trim().trim_matches(['\'', '"']).to_string())
    };
    (field("id:"), field("title:"))
}

fn failure(path: &Path, id: Option<String>, title: Option<String>, reason: String) -> RuleFailure {
    RuleFailure {
        path: path.to_path_buf(),
        id,
        title,
        reason,
    }
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>, failures: &mut Vec<RuleFailure>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(entries) => entries,
        Err(error) => {
            failures.push(failure(
                path,
                None,
                None,
                format!("cannot read directory: {error}"),
            ));
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        if child.is_dir() {
            collect_files(&child, out, failures);
        } else if matches!(
            child.extension().and_then(|e| e.to_str()),
            Some("yml" | "yaml")
        ) {
            out.push(child);
        }
    }
}

/// ATT&CK technique ids among a rule's tags.
fn techniques(tags: &[String]) -> Vec<String> {
    tags.iter()
        .filter_map(|tag| {
            let id = tag.strip_prefix("attack.")?;
            let rest = id.strip_prefix('t')?;
            let (main, sub) = rest.split_once('.').unwrap_or((rest, ""));
            let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
            (digits(main, 4) && (sub.is_empty() || digits(sub, 3))).then(|| id.to_uppercase())
        })
        .collect()
}

fn logsource_fits(filter: &LogSource, rule: &LogSource) -> bool {
    let fits = |f: &Option<String>, r: &Option<String>| f.is_none() || f == r;
    fits(&filter.product, &rule.product)
        && fits(&filter.category, &rule.category)
        && fits(&filter.service, &rule.service)
}

impl RuleSet {
    /// Loads every `.yml`/`.yaml` file under the given files or directories. Every document
    /// ends up either compiled or in the returned failures, with the reason.
    pub fn load_dir<P: AsRef<Path>>(paths: &[P], config: &Config) -> (RuleSet, Vec<RuleFailure>) {
        let mut gathered = Gathered::default();
        let mut files = Vec::new();
        for path in paths {
            collect_files(path.as_ref(), &mut files, &mut gathered.failures);
        }
        for file in files {
            match std::fs::read_to_string(&file) {
                Ok(text) => gathered.add_text(&file, &text),
                Err(error) => gathered.failures.push(failure(
                    &file,
                    None,
                    None,
                    format!("cannot read: {error}"),
                )),
            }
        }
        RuleSet::compile(gathered, config)
    }

    /// Compiles rules given as YAML text (one or more documents); `origin` names them in
    /// failures.
    pub fn from_yaml(origin: &str, text: &str, config: &Config) -> (RuleSet, Vec<RuleFailure>) {
        let mut gathered = Gathered::default();
        gathered.add_text(Path::new(origin), text);
        RuleSet::compile(gathered, config)
    }

    fn compile(gathered: Gathered, config: &Config) -> (RuleSet, Vec<RuleFailure>) {
        let mut failures = gathered.failures;
        let mapping = match config
            .mapping
            .clone()
            .map(Ok)
            .unwrap_or_else(Mapping::builtin)
        {
            Ok(mapping) => mapping,
            Err(error) => {
                failures.push(failure(
                    Path::new("mappings/sigma"),
                    None,
                    None,
                    error.to_string(),
                ));
                fallback_mapping()
            }
        };
        let mut table = AtomTable::default();
        let mut filters = Vec::new();
        for (path, filter) in &gathered.filters {
            match compile_detections(&filter.detection, &mut table, &config.placeholders) {
                Ok(tree) => filters.push((filter, tree)),
                Err(reason) => failures.push(failure(
                    path,
                    filter.id.clone(),
                    Some(filter.title.clone()),
                    format!("filter: {reason}"),
                )),
            }
        }
        let mut rules = Vec::new();
        for (path, rule) in gathered.rules {
            let tree = match compile_detections(&rule.detection, &mut table, &config.placeholders) {
                Ok(tree) => tree,
                Err(reason) => {
                    failures.push(failure(
                        &path,
                        rule.id.clone(),
                        Some(rule.title.clone()),
                        reason,
                    ));
                    continue;
                }
            };
            let targeted = |filter: &FilterRule| match &filter.rules {
                FilterRuleTarget::Any => true,
                FilterRuleTarget::Specific(names) => names.iter().any(|name| {
                    rule.id.as_deref() == Some(name.as_str())
                        || rule.name.as_deref() == Some(name.as_str())
                        || rule.title == *name
                }),
            };
            let mut parts = vec![tree];
            for (filter, filter_tree) in &filters {
                let same_source = filter
                    .logsource
                    .as_ref()
                    .is_none_or(|source| logsource_fits(source, &rule.logsource));
                if targeted(filter) && same_source {
                    parts.push(filter_tree.clone());
                }
            }
            let tree = if parts.len() == 1 {
                parts.remove(0)
            } else {
                Node::And(parts)
            };
            let ls = &rule.logsource;
            let route = match mapping.logsource(
                ls.product.as_deref(),
                ls.category.as_deref(),
                ls.service.as_deref(),
            ) {
                Some(entry) => Route::Sources(entry.sources.clone()),
                None => Route::GenericOnly,
            };
            let info = RuleInfo {
                id: rule.id.clone(),
                name: rule.name.clone(),
                title: rule.title.clone(),
                level: rule.level.map(|l| l.as_str().to_string()),
                techniques: techniques(&rule.tags),
                tags: rule.tags.clone(),
                logsource: rule.logsource.clone(),
                path,
                routed: matches!(route, Route::Sources(_)),
            };
            rules.push(CompiledRule { info, tree, route });
        }
        let rule_atoms = rules
            .iter()
            .map(|rule| {
                let mut atoms = Vec::new();
                rule.tree.atoms(&mut atoms);
                atoms.sort_unstable();
                atoms.dedup();
                atoms
            })
            .collect();
        let rule_triggers = rules
            .iter()
            .map(|rule| prefilter::triggers(&rule.tree, &table.atoms))
            .collect();
        let mut known_formats = Vec::new();
        let mut channel_names: Vec<String> = Vec::new();
        let mut known_event_ids = HashSet::default();
        for entry in &mapping.logsources {
            for source in &entry.sources {
                for format in &source.formats {
                    if !known_formats.contains(format) {
                        known_formats.push(format.clone());
                    }
                }
                for channel in &source.channels {
                    if channel != "*" && !channel_names.contains(channel) {
                        channel_names.push(channel.clone());
                    }
                }
                known_event_ids.extend(source.event_ids.iter().copied());
            }
        }
        let known_channels = channel_names
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i as u16))
            .collect();
        let correlations = gathered.correlations.into_iter().map(|(_, c)| c).collect();
        let set = RuleSet {
            mapping,
            rules,
            atoms: table.atoms,
            rule_atoms,
            rule_triggers,
            known_formats,
            known_channels,
            channel_names,
            known_event_ids,
            programs: RwLock::new(HashMap::default()),
            correlations,
        };
        (set, failures)
    }

    /// The compiled rules, in load order.
    pub fn rules(&self) -> impl Iterator<Item = &RuleInfo> {
        self.rules.iter().map(|r| &r.info)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// The correlation rules found while loading; [`super::CorrelationEngine`] runs them.
    pub fn correlation_rules(&self) -> &[CorrelationRule] {
        &self.correlations
    }

    fn route_key(&self, event: &Event, layout: usize) -> RouteKey {
        let spec = &self.mapping.layouts[layout];
        let format = self
            .known_formats
            .iter()
            .position(|f| *f == event.format)
            .map(|i| i as u16);
        let channel = spec.channel.as_deref().and_then(|path| {
            let value = resolve_path(&event.fields, path)?;
            let text = scalar_text(value)?;
            Some(
                self.known_channels
                    .get(text.as_ref())
                    .copied()
                    .unwrap_or(UNKNOWN_CHANNEL),
            )
        });
        let event_id = spec
            .event_id
            .as_deref()
            .and_then(|path| resolve_path(&event.fields, path))
            .and_then(event_id_of)
            .map(|id| {
                if self.known_event_ids.contains(&id) {
                    id
                } else {
                    u32::MAX
                }
            });
        RouteKey {
            layout: layout as u16,
            format,
            channel,
            event_id,
        }
    }

    fn source_fits(&self, source: &Source, key: &RouteKey) -> bool {
        let layout = &self.mapping.layouts[key.layout as usize];
        if !source.layouts.is_empty() && !source.layouts.contains(&layout.name) {
            return false;
        }
        if !source.formats.is_empty() {
            let Some(format) = key.format.map(|f| &self.known_formats[f as usize]) else {
                return false;
            };
            if !source.formats.iter().any(|f| format_fits(f, format)) {
                return false;
            }
        }
        if !source.channels.is_empty() {
            let Some(channel) = key.channel else {
                return false;
            };
            let any = source.channels.iter().any(|c| c == "*");
            let named = self.channel_names.get(channel as usize);
            if !any && !named.is_some_and(|name| source.channels.contains(name)) {
                return false;
            }
        }
        if !source.event_ids.is_empty() {
            let Some(id) = key.event_id else {
                return false;
            };
            if !source.event_ids.contains(&id) {
                return false;
            }
        }
        true
    }

    fn program(&self, key: RouteKey) -> Arc<Program> {
        if let Ok(programs) = self.programs.read()
            && let Some(program) = programs.get(&key)
        {
            return program.clone();
        }
        let generic = self.mapping.layouts[key.layout as usize].name == "generic";
        let rules: Vec<u32> = (0..self.rules.len() as u32)
            .filter(|&i| match &self.rules[i as usize].route {
                Route::Sources(sources) => sources.iter().any(|s| self.source_fits(s, &key)),
                Route::GenericOnly => generic,
            })
            .collect();
        let program = Arc::new(Program::build(
            rules,
            &self.rule_atoms,
            &self.rule_triggers,
            &self.atoms,
            &self.mapping,
            key.layout as usize,
        ));
        if let Ok(mut programs) = self.programs.write() {
            programs.insert(key, program.clone());
        }
        program
    }

    /// The rules matching `event`, each reported to `sink`.
    pub fn evaluate(&self, event: &Event, sink: &mut dyn FnMut(RuleMatch)) {
        for found in self.matches(event) {
            sink(found);
        }
    }

    /// The rules matching `event`.
    pub fn matches(&self, event: &Event) -> Vec<RuleMatch> {
        let layout = self.mapping.layout_of(event);
        let key = self.route_key(event, layout);
        let program = self.program(key);
        if program.rules.is_empty() {
            return Vec::new();
        }
        let matched: Vec<(u32, Vec<u32>)> = SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            let scratch = &mut *scratch;
            scratch.begin(program.atom_space, self.rules.len());
            program.mark(event, &self.atoms, &self.mapping, layout, scratch);
            program.start_rules(scratch);
            let hit = |atom: u32| scratch.held(atom);
            scratch
                .candidates()
                .iter()
                .filter(|&&rule| self.rules[rule as usize].tree.eval(&hit))
                .map(|&rule| {
                    let held = self.rule_atoms[rule as usize]
                        .iter()
                        .copied()
                        .filter(|&a| hit(a))
                        .collect();
                    (rule, held)
                })
                .collect()
        });
        matched
            .into_iter()
            .map(|(rule, held)| self.describe(rule as usize, &held, event, layout))
            .collect()
    }

    fn describe(&self, rule: usize, held: &[u32], event: &Event, layout: usize) -> RuleMatch {
        let info = &self.rules[rule].info;
        let mut fields: Vec<(String, String)> = Vec::new();
        for atom in held {
            let Some(name) = &self.atoms[*atom as usize].field else {
                continue;
            };
            if fields.iter().any(|(n, _)| n == name) {
                continue;
            }
            let value = self
                .mapping
                .field_paths(layout, name)
                .iter()
                .find_map(|p| resolve_path(&event.fields, p))
                .and_then(|v| scalar_text(v).map(|t| t.into_owned()));
            if let Some(value) = value {
                fields.push((name.clone(), value));
            }
        }
        RuleMatch {
            rule_id: info.id.clone().unwrap_or_else(|| info.title.clone()),
            title: info.title.clone(),
            level: info.level.clone(),
            techniques: info.techniques.clone(),
            fields,
            rule,
        }
    }

    /// Looks a rule up by id, name or title.
    pub fn find(&self, reference: &str) -> Option<usize> {
        self.rules.iter().position(|r| {
            r.info.id.as_deref() == Some(reference)
                || r.info.name.as_deref() == Some(reference)
                || r.info.title == reference
        })
    }

    pub fn rule(&self, index: usize) -> Option<&RuleInfo> {
        self.rules.get(index).map(|r| &r.info)
    }
}

/// Used only when a configured mapping failed to read (already reported as a failure): every
/// rule is then unrouted and sees generic events only.
fn fallback_mapping() -> Mapping {
    Mapping {
        layouts: vec![super::mapping::Layout {
            name: "generic".into(),
            formats: vec!["*".into()],
            detect: None,
            channel: None,
            event_id: None,
            lookup: vec!["{field}".into()],
            fields: BTreeMap::new(),
        }],
        logsources: Vec::new(),
    }
}

impl From<MappingError> for RuleFailure {
    fn from(error: MappingError) -> RuleFailure {
        failure(Path::new("mappings/sigma"), None, None, error.to_string())
    }
}
