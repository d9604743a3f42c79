//! Keeps every configured block list rendered: the store's standing entries (what playbooks and
//! people blocked) plus, for lists with a `min_score`, every enforceable indicator scoring that
//! much. A change marks the lists it touches; [`Publisher::refresh`] renders them again in every
//! format, writes the files atomically and keeps the bodies with their ETags for HTTP.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use jiff::Timestamp;
use rampart_model::Indicator;
use rampart_store::{BlockQuery, Store, StoreError};

use super::publish::{etag, write_atomically};
use super::{Format, ListItem, ListMeta, RenderOptions, render};
use crate::config::ListConfig;

/// One list rendered in one format, as served.
#[derive(Debug)]
pub struct Published {
    pub list: String,
    pub format: Format,
    pub body: Arc<str>,
    pub etag: String,
    /// The list's serial when rendered (the RPZ SOA serial).
    pub serial: u64,
    pub generated: Timestamp,
    pub written: usize,
    pub rejected: usize,
}

/// An indicator the automatic part of lists may take: what the matcher would enforce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enforceable {
    pub id: i64,
    pub indicator: Indicator,
    pub score: u8,
}

/// What one refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    pub lists: Vec<String>,
    pub files_written: usize,
    pub errors: Vec<String>,
}

/// The renderer of every configured list.
pub struct Publisher {
    store: Arc<dyn Store>,
    lists: Vec<ListConfig>,
    options: Arc<RenderOptions>,
    /// What the automatic part of lists may take (only those some list wants), in the order
    /// renderers write (kind, value), so a rendering needs no sort.
    automatic: Mutex<Automatic>,
    dirty: Mutex<BTreeSet<String>>,
    serials: Mutex<HashMap<String, u64>>,
    published: RwLock<HashMap<(String, Format), Arc<Published>>>,
    /// When each list was last marked dirty, to measure the time to publication.
    marked: Mutex<HashMap<String, Instant>>,
    /// Each list's store revision when last seen, to notice blocks made anywhere.
    revisions: Mutex<HashMap<String, u64>>,
}

impl Publisher {
    /// A publisher of `lists`; every list starts dirty, so the first refresh renders them all.
    pub fn new(store: Arc<dyn Store>, lists: Vec<ListConfig>, options: RenderOptions) -> Publisher {
        let dirty = lists.iter().map(|list| list.name.clone()).collect();
        Publisher {
            store,
            lists,
            options: Arc::new(options),
            automatic: Mutex::new(Automatic::default()),
            dirty: Mutex::new(dirty),
            serials: Mutex::new(HashMap::new()),
            published: RwLock::new(HashMap::new()),
            marked: Mutex::new(HashMap::new()),
            revisions: Mutex::new(HashMap::new()),
        }
    }

    /// Marks the lists whose entries changed in the store since the last look (blocks by
    /// playbooks, by hand, from another process, expiries).
    pub async fn sync_revisions(&self) -> Result<(), StoreError> {
        let current = self.store.block_lists(Timestamp::now()).await?;
        let mut revisions = lock(&self.revisions);
        let changed: Vec<String> = current
            .into_iter()
            .filter(|list| {
                revisions.insert(list.name.clone(), list.revision) != Some(list.revision)
            })
            .map(|list| list.name)
            .collect();
        drop(revisions);
        self.lists_changed(changed);
        Ok(())
    }

    pub fn lists(&self) -> &[ListConfig] {
        &self.lists
    }

    /// Whether any list takes indicators by score (only then do indicator changes matter).
    pub fn wants_indicators(&self) -> bool {
        self.lists.iter().any(|list| list.min_score.is_some())
    }

    /// Replaces the automatic candidates with a full set (after a full read of the store).
    pub fn replace_enforceable(&self, entries: impl IntoIterator<Item = Enforceable>) {
        let mut wanted = Automatic::default();
        for entry in entries.into_iter().filter(|entry| self.wanted(entry)) {
            wanted.insert(entry);
        }
        *lock(&self.automatic) = wanted;
        let automatic: Vec<String> = self
            .lists
            .iter()
            .filter(|list| list.min_score.is_some())
            .map(|list| list.name.clone())
            .collect();
        self.mark(automatic);
    }

    /// An indicator became enforceable or changed (`Some`), or stopped being enforceable
    /// (`None`: suppressed, revoked, expired); marks the lists whose content changes.
    pub fn indicator_changed(&self, id: i64, entry: Option<Enforceable>) {
        let mut automatic = lock(&self.automatic);
        let before = automatic.remove(id);
        let after = entry.filter(|entry| self.wanted(entry));
        if let Some(after) = &after {
            automatic.insert(after.clone());
        }
        drop(automatic);
        let touched: Vec<String> = self
            .lists
            .iter()
            .filter(|list| {
                let took = before
                    .as_ref()
                    .is_some_and(|entry| list.takes(entry.indicator.kind(), entry.score));
                let takes = after
                    .as_ref()
                    .is_some_and(|entry| list.takes(entry.indicator.kind(), entry.score));
                took || takes
            })
            .map(|list| list.name.clone())
            .collect();
        self.mark(touched);
    }

    /// The store's entries of these lists changed (a block, an unblock, an expiry).
    pub fn lists_changed(&self, lists: impl IntoIterator<Item = String>) {
        let known: Vec<String> = lists
            .into_iter()
            .filter(|name| self.lists.iter().any(|list| &list.name == name))
            .collect();
        self.mark(known);
    }

    /// Every list again (e.g. after expiries, or on a timer).
    pub fn all_changed(&self) {
        self.mark(self.lists.iter().map(|list| list.name.clone()).collect());
    }

    fn wanted(&self, entry: &Enforceable) -> bool {
        self.lists
            .iter()
            .any(|list| list.takes(entry.indicator.kind(), entry.score))
    }

    fn mark(&self, lists: Vec<String>) {
        if lists.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut marked = lock(&self.marked);
        for list in &lists {
            marked.entry(list.clone()).or_insert(now);
        }
        lock(&self.dirty).extend(lists);
    }

    /// Whether a refresh has work to do.
    pub fn is_dirty(&self) -> bool {
        !lock(&self.dirty).is_empty()
    }

    /// The rendered body of one list in one format, if that list serves that format.
    pub fn get(&self, list: &str, format: Format) -> Option<Arc<Published>> {
        self.published
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&(list.to_owned(), format))
            .cloned()
    }

    /// Renders every dirty list in each of its formats, writes the files, and swaps the served
    /// bodies. Returns what it did and how long each list waited from its first change.
    pub async fn refresh(&self) -> Result<(RefreshReport, Vec<std::time::Duration>), StoreError> {
        let dirty: Vec<String> = std::mem::take(&mut *lock(&self.dirty))
            .into_iter()
            .collect();
        let mut report = RefreshReport::default();
        let mut waits = Vec::new();
        for name in dirty {
            let Some(list) = self.lists.iter().find(|list| list.name == name) else {
                continue;
            };
            let marked_at = lock(&self.marked).remove(&name);
            let items = match self.items(list).await {
                Ok(items) => items,
                Err(err) => {
                    // Try again at the next refresh rather than serve a half-read list.
                    lock(&self.dirty).insert(name.clone());
                    return Err(err);
                }
            };
            let serial = self.next_serial(&name);
            let generated = Timestamp::now();
            let mut meta = ListMeta::new(name.clone(), serial, generated);
            if let Some(base) = list.sid_base {
                meta.sid_base = base;
            }
            // Each format on a blocking thread of its own: a big list's renderings run side
            // by side and never hold up the async tasks.
            let items = Arc::new(items);
            let meta = Arc::new(meta);
            let tasks: Vec<_> = list
                .formats
                .iter()
                .map(|format| {
                    let (format, items, meta) = (*format, items.clone(), meta.clone());
                    let options = self.options.clone();
                    let dir = list.write_dir.clone();
                    tokio::task::spawn_blocking(move || {
                        publish_one(format, &meta, &options, &items, dir.as_deref())
                    })
                })
                .collect();
            for task in tasks {
                match task.await {
                    Ok(Ok((published, wrote))) => {
                        report.files_written += usize::from(wrote);
                        self.published
                            .write()
                            .unwrap_or_else(|poisoned| poisoned.into_inner())
                            .insert((name.clone(), published.format), Arc::new(published));
                    }
                    Ok(Err(err)) => report.errors.push(err),
                    Err(err) => report
                        .errors
                        .push(format!("{name}: rendering task failed: {err}")),
                }
            }
            if let Some(marked_at) = marked_at {
                waits.push(marked_at.elapsed());
            }
            report.lists.push(name);
        }
        Ok((report, waits))
    }

    /// A serial that grows with every rendering and never goes back across restarts: the
    /// current Unix time, or one more than the last serial when rendering twice a second.
    fn next_serial(&self, list: &str) -> u64 {
        let now = u64::try_from(Timestamp::now().as_second()).unwrap_or(0);
        let mut serials = lock(&self.serials);
        let serial = serials.get(list).map_or(now, |last| now.max(last + 1));
        serials.insert(list.to_owned(), serial);
        serial
    }

    /// The list's items: the store's standing entries (keys `2 × entry id`) and the automatic
    /// indicators (keys `2 × indicator id + 1`), so both keep their SIDs across renderings.
    async fn items(&self, list: &ListConfig) -> Result<Vec<ListItem>, StoreError> {
        let now = Timestamp::now();
        let mut items = Vec::new();
        let mut listed = std::collections::HashSet::new();
        let mut query = BlockQuery {
            list: Some(list.name.clone()),
            standing_at: Some(now),
            limit: 10_000,
            ..BlockQuery::default()
        };
        loop {
            let page = self.store.blocks(&query).await?;
            let Some(last) = page.last() else { break };
            query.after_id = Some(last.id);
            let full = page.len() >= query.limit as usize;
            for entry in page {
                listed.insert((entry.indicator.kind(), entry.indicator.value().to_owned()));
                items.push(ListItem {
                    key: u64::try_from(entry.id).unwrap_or(0) * 2,
                    indicator: entry.indicator,
                    comment: entry.reason,
                });
            }
            if !full {
                break;
            }
        }
        if list.min_score.is_some() {
            // Named entries first would break the (kind, value) order; the renderer sorts then.
            let automatic = lock(&self.automatic);
            items.reserve(automatic.by_value.len());
            for entry in automatic.by_value.values() {
                if !list.takes(entry.indicator.kind(), entry.score) {
                    continue;
                }
                if !listed.is_empty()
                    && listed
                        .contains(&(entry.indicator.kind(), entry.indicator.value().to_owned()))
                {
                    continue;
                }
                items.push(ListItem {
                    key: u64::try_from(entry.id).unwrap_or(0) * 2 + 1,
                    indicator: entry.indicator.clone(),
                    comment: format!("score {}", entry.score),
                });
            }
        }
        Ok(items)
    }
}

/// Renders one list in one format, writes its file when the list has a directory, and gives
/// what is served (and whether a file was written).
fn publish_one(
    format: Format,
    meta: &ListMeta,
    options: &RenderOptions,
    items: &[ListItem],
    dir: Option<&std::path::Path>,
) -> Result<(Published, bool), String> {
    let rendered = render(format, meta, options, items)
        .map_err(|err| format!("{} as {format}: {err}", meta.name))?;
    let mut wrote = false;
    if let Some(dir) = dir {
        let path = dir.join(format.file_name(&meta.name));
        std::fs::create_dir_all(dir)
            .map_err(|err| format!("cannot create {}: {err}", dir.display()))?;
        write_atomically(&path, rendered.body.as_bytes()).map_err(|err| err.to_string())?;
        wrote = true;
    }
    Ok((
        Published {
            list: meta.name.clone(),
            format,
            etag: etag(rendered.body.as_bytes()),
            serial: meta.serial,
            generated: meta.generated,
            written: rendered.written,
            rejected: rendered.rejected.len(),
            body: Arc::from(rendered.body),
        },
        wrote,
    ))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The automatic candidates by indicator id, kept in (kind, value) order.
#[derive(Default)]
struct Automatic {
    ids: HashMap<i64, (rampart_model::IndicatorKind, String)>,
    by_value: BTreeMap<(rampart_model::IndicatorKind, String), Enforceable>,
}

impl Automatic {
    fn insert(&mut self, entry: Enforceable) {
        let key = (entry.indicator.kind(), entry.indicator.value().to_owned());
        if let Some(previous) = self.ids.insert(entry.id, key.clone()) {
            self.by_value.remove(&previous);
        }
        self.by_value.insert(key, entry);
    }

    fn remove(&mut self, id: i64) -> Option<Enforceable> {
        let key = self.ids.remove(&id)?;
        self.by_value.remove(&key)
    }
}
