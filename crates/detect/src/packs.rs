//! Rule packs as a managed set: a SigmaHQ checkout or a folder of local rules, with per-rule
//! enable, disable and level overrides that survive an update of the pack.
//!
//! Overrides are keyed by the rule's `id` (not its path, which SigmaHQ moves between
//! releases). Each update records a manifest of the pack — id, path, title, level and a content
//! hash per rule — so the next update can say exactly what was added, removed or changed. The
//! state is one JSON file, replaced atomically.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use rampart_model::Severity;
use serde::{Deserialize, Serialize};

/// A pack as configured: a name and the folder of `.yml` rules (searched recursively).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulePack {
    pub name: String,
    pub path: PathBuf,
}

/// One rule as the last update saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleEntry {
    /// Path relative to the pack folder.
    pub path: String,
    pub title: String,
    pub level: Option<String>,
    /// FNV-1a of the file's bytes, hex.
    pub hash: String,
}

/// A pack's rules by id at its last update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackManifest {
    pub updated: Option<Timestamp>,
    pub rules: BTreeMap<String, RuleEntry>,
}

/// What the analyst changed about one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Severity>,
    pub changed: Option<Timestamp>,
}

/// A file in a pack that is not a usable rule for the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub path: String,
    pub reason: String,
}

/// What an update found, compared with the previous manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PackChanges {
    pub pack: String,
    pub added: Vec<(String, RuleEntry)>,
    pub removed: Vec<(String, RuleEntry)>,
    /// Same id, different content: (id, before, after).
    pub modified: Vec<(String, RuleEntry, RuleEntry)>,
    pub unchanged: usize,
    pub unreadable: Vec<Unreadable>,
    /// Overrides that name a rule no longer in any pack; they are kept in case it returns.
    pub orphaned_overrides: Vec<String>,
}

/// Errors reading or writing the rule state.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("rule pack {pack}: cannot read {path}: {source}")]
    Read {
        pack: String,
        path: PathBuf,
        source: io::Error,
    },
    #[error("rule state {path}: {reason}")]
    State { path: PathBuf, reason: String },
    #[error("no rule pack named {0:?}")]
    UnknownPack(String),
}

/// Manifests of every pack plus the overrides: what `rampart rules` reads and writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleState {
    #[serde(default)]
    pub packs: BTreeMap<String, PackManifest>,
    #[serde(default)]
    pub overrides: BTreeMap<String, RuleOverride>,
}

impl RuleState {
    /// Reads the state file; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<RuleState, PackError> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(RuleState::default());
            }
            Err(error) => {
                return Err(PackError::State {
                    path: path.to_path_buf(),
                    reason: error.to_string(),
                });
            }
        };
        serde_json::from_str(&text).map_err(|error| PackError::State {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })
    }

    /// Writes the state file atomically (a temporary file renamed over the old one).
    pub fn save(&self, path: &Path) -> Result<(), PackError> {
        let state_error = |reason: String| PackError::State {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            fs::create_dir_all(parent).map_err(|e| state_error(e.to_string()))?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| state_error(e.to_string()))?;
        let temporary = path.with_extension("json.tmp");
        fs::write(&temporary, text).map_err(|e| state_error(e.to_string()))?;
        fs::rename(&temporary, path).map_err(|e| state_error(e.to_string()))
    }

    /// Re-reads a pack's folder, records its new manifest and reports what changed.
    pub fn update(&mut self, pack: &RulePack, now: Timestamp) -> Result<PackChanges, PackError> {
        let (manifest, unreadable) = scan_pack(pack)?;
        let previous = self.packs.remove(&pack.name).unwrap_or_default();
        let mut changes = PackChanges {
            pack: pack.name.clone(),
            unreadable,
            ..PackChanges::default()
        };
        for (id, entry) in &manifest.rules {
            match previous.rules.get(id) {
                None => changes.added.push((id.clone(), entry.clone())),
                Some(before) if before.hash != entry.hash || before.path != entry.path => changes
                    .modified
                    .push((id.clone(), before.clone(), entry.clone())),
                Some(_) => changes.unchanged += 1,
            }
        }
        for (id, entry) in previous.rules {
            if !manifest.rules.contains_key(&id) {
                changes.removed.push((id, entry));
            }
        }
        self.packs.insert(
            pack.name.clone(),
            PackManifest {
                updated: Some(now),
                rules: manifest.rules,
            },
        );
        changes.orphaned_overrides = self
            .overrides
            .keys()
            .filter(|id| self.rule(id).is_none())
            .cloned()
            .collect();
        Ok(changes)
    }

    /// The pack and entry of a rule id, if a pack holds it.
    pub fn rule(&self, id: &str) -> Option<(&str, &RuleEntry)> {
        self.packs
            .iter()
            .find_map(|(pack, manifest)| manifest.rules.get(id).map(|e| (pack.as_str(), e)))
    }

    /// Enables or disables one rule.
    pub fn set_enabled(&mut self, id: &str, enabled: bool, now: Timestamp) {
        let entry = self.overrides.entry(id.to_owned()).or_default();
        entry.enabled = Some(enabled);
        entry.changed = Some(now);
    }

    /// Overrides (or with `None`, restores) one rule's level.
    pub fn set_level(&mut self, id: &str, level: Option<Severity>, now: Timestamp) {
        let entry = self.overrides.entry(id.to_owned()).or_default();
        entry.level = level;
        entry.changed = Some(now);
        if entry.enabled.is_none() && entry.level.is_none() {
            self.overrides.remove(id);
        }
    }

    /// Whether a rule runs: enabled unless an override disables it.
    pub fn is_enabled(&self, id: &str) -> bool {
        self.overrides
            .get(id)
            .and_then(|o| o.enabled)
            .unwrap_or(true)
    }

    /// The level a rule's alerts get: the override, else the rule's own.
    pub fn level_of(&self, id: &str, own: Severity) -> Severity {
        self.overrides.get(id).and_then(|o| o.level).unwrap_or(own)
    }
}

/// The fields of a rule the manifest needs; the rest is the Sigma engine's business.
#[derive(Deserialize)]
struct RuleHead {
    id: Option<String>,
    title: Option<String>,
    level: Option<String>,
}

fn scan_pack(pack: &RulePack) -> Result<(PackManifest, Vec<Unreadable>), PackError> {
    let mut files = Vec::new();
    collect_rule_files(&pack.path, &mut files).map_err(|source| PackError::Read {
        pack: pack.name.clone(),
        path: pack.path.clone(),
        source,
    })?;
    files.sort();
    let mut manifest = PackManifest::default();
    let mut unreadable = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(&pack.path)
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        let bytes = match fs::read(&file) {
            Ok(bytes) => bytes,
            Err(error) => {
                unreadable.push(Unreadable {
                    path: relative,
                    reason: error.to_string(),
                });
                continue;
            }
        };
        let head = std::str::from_utf8(&bytes)
            .map_err(|e| format!("not UTF-8: {e}"))
            .and_then(|text| {
                yaml_serde::from_str::<RuleHead>(text).map_err(|e| format!("not a rule: {e}"))
            });
        let head = match head {
            Ok(head) => head,
            Err(reason) => {
                unreadable.push(Unreadable {
                    path: relative,
                    reason,
                });
                continue;
            }
        };
        let Some(id) = head.id else {
            unreadable.push(Unreadable {
                path: relative,
                reason: "rule has no id, so overrides could not follow it".into(),
            });
            continue;
        };
        if let Some(first) = manifest.rules.get(&id) {
            unreadable.push(Unreadable {
                reason: format!("duplicate rule id {id} (also in {})", first.path),
                path: relative,
            });
            continue;
        }
        manifest.rules.insert(
            id,
            RuleEntry {
                path: relative,
                title: head.title.unwrap_or_default(),
                level: head.level,
                hash: fnv_hex(&bytes),
            },
        );
    }
    Ok((manifest, unreadable))
}

fn collect_rule_files(dir: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_rule_files(&path, files)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yml" || ext == "yaml")
        {
            files.push(path);
        }
    }
    Ok(())
}

fn fnv_hex(bytes: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str, title: &str, level: &str) -> String {
        format!(
            "title: {title}\nid: {id}\nlevel: {level}\nlogsource:\n  product: windows\ndetection:\n  sel:\n    Image|endswith: '\\\\x.exe'\n  condition: sel\n"
        )
    }

    #[test]
    fn overrides_survive_an_update_that_changes_the_pack() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pack = RulePack {
            name: "local".into(),
            path: dir.path().join("rules"),
        };
        fs::create_dir_all(pack.path.join("windows")).expect("mkdir");
        fs::write(pack.path.join("windows/a.yml"), rule("id-a", "A", "high")).expect("write");
        fs::write(pack.path.join("b.yml"), rule("id-b", "B", "low")).expect("write");
        fs::write(pack.path.join("README.md"), "not a rule").expect("write");
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().expect("time");

        let mut state = RuleState::default();
        let first = state.update(&pack, t0).expect("update");
        assert_eq!(first.added.len(), 2);
        assert!(first.unreadable.is_empty());
        state.set_enabled("id-b", false, t0);
        state.set_level("id-a", Some(Severity::Critical), t0);
        let state_file = dir.path().join("state/rules.json");
        state.save(&state_file).expect("save");

        // Upstream edits A, moves nothing, deletes B, adds C and a broken file.
        fs::write(
            pack.path.join("windows/a.yml"),
            rule("id-a", "A v2", "medium"),
        )
        .expect("w");
        fs::remove_file(pack.path.join("b.yml")).expect("rm");
        fs::write(pack.path.join("c.yml"), rule("id-c", "C", "low")).expect("write");
        fs::write(pack.path.join("d.yml"), "title: [unclosed").expect("write");
        let mut state = RuleState::load(&state_file).expect("load");
        let second = state.update(&pack, t0).expect("update");
        let ids = |list: &[(String, RuleEntry)]| -> Vec<String> {
            list.iter().map(|(id, _)| id.clone()).collect()
        };
        assert_eq!(ids(&second.added), ["id-c"]);
        assert_eq!(ids(&second.removed), ["id-b"]);
        assert_eq!(second.modified.len(), 1);
        assert_eq!(second.modified[0].2.title, "A v2");
        assert_eq!(second.unreadable.len(), 1);
        assert_eq!(second.unreadable[0].path, "d.yml");
        assert_eq!(second.orphaned_overrides, ["id-b"]);
        // The overrides are still there and still apply.
        assert_eq!(state.level_of("id-a", Severity::Medium), Severity::Critical);
        assert!(!state.is_enabled("id-b"));
        assert!(state.is_enabled("id-c"));
        assert_eq!(state.rule("id-a").map(|(pack, _)| pack), Some("local"));
    }

    #[test]
    fn duplicate_ids_and_missing_packs_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::write(dir.path().join("a.yml"), rule("same", "A", "high")).expect("write");
        fs::write(dir.path().join("b.yml"), rule("same", "B", "high")).expect("write");
        let pack = RulePack {
            name: "p".into(),
            path: dir.path().to_path_buf(),
        };
        let changes = RuleState::default()
            .update(&pack, Timestamp::UNIX_EPOCH)
            .expect("update");
        assert_eq!(changes.added.len(), 1);
        assert!(
            changes.unreadable[0]
                .reason
                .contains("duplicate rule id same")
        );
        let missing = RulePack {
            name: "gone".into(),
            path: dir.path().join("nope"),
        };
        let error = RuleState::default()
            .update(&missing, Timestamp::UNIX_EPOCH)
            .expect_err("missing folder");
        assert!(error.to_string().contains("rule pack gone"));
        let corrupt = dir.path().join("state.json");
        fs::write(&corrupt, "{").expect("write");
        assert!(RuleState::load(&corrupt).is_err());
    }
}
