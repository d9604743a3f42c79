//! The [`Matcher`] handle: readers load the current snapshot; writers apply changes as a
//! small delta, and a background thread folds a large delta into a new base.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use foldhash::fast::RandomState;
use jiff::Timestamp;
use serde::Serialize;

use crate::entry::{Change, Entry};
use crate::snapshot::{Snapshot, View};
use crate::table::{EntryRef, Skipped, Table};
use crate::thresholds::Thresholds;

/// How the matcher maintains its snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatcherConfig {
    /// Delta entries (changes and removals) at which a merge into a new base starts. The
    /// delta table is rebuilt on every change, so this bounds the cost of one change.
    pub merge_threshold: usize,
    pub thresholds: Thresholds,
}

impl Default for MatcherConfig {
    fn default() -> MatcherConfig {
        MatcherConfig {
            merge_threshold: 50_000,
            thresholds: Thresholds::default(),
        }
    }
}

/// Figures about the matcher, for status output and metrics.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MatcherStats {
    /// Entries in the base table.
    pub base_entries: usize,
    /// Changed or removed indicators waiting in the delta.
    pub delta_entries: usize,
    /// Heap bytes of the current snapshot (base, delta and mask), counted from capacities.
    pub memory_bytes: usize,
    /// How long the last base build or merge took.
    pub base_build: Duration,
    /// Merges of the delta into a new base so far.
    pub merges: u64,
    /// Values left out of the base (malformed or duplicate).
    pub skipped: u64,
    /// From an import's commit in the store to its changes being visible here: the last one,
    /// the mean and the worst since start.
    pub last_latency: Option<Duration>,
    pub mean_latency: Option<Duration>,
    pub max_latency: Option<Duration>,
    /// Change batches with a commit time, the count behind the mean.
    pub measured_batches: u64,
    /// When the current snapshot was published (built, merged or given a delta).
    pub published_at: Option<Timestamp>,
    /// When the snapshot was last known to hold every change the store had committed (the
    /// refresher's last successful poll): its age is how stale matching may be.
    pub synced_at: Option<Timestamp>,
}

/// A cheap-to-clone handle on the current snapshot.
#[derive(Clone)]
pub struct Matcher {
    inner: Arc<Inner>,
}

struct Inner {
    current: ArcSwap<Snapshot>,
    writer: Mutex<Writer>,
    config: MatcherConfig,
}

/// Writer-side state; readers never touch it.
struct Writer {
    base: Arc<Table>,
    /// Bumped on every new base, so that a merge started on an older base is dropped.
    base_generation: u64,
    /// The changes since `base`: id → (entry or removal, version of the change).
    delta: HashMap<i64, (Option<Entry>, u64)>,
    version: u64,
    merging: bool,
    thresholds: Thresholds,
    stats: MatcherStats,
    latency_total: Duration,
}

impl Matcher {
    /// A matcher whose base holds `entries` (ids unique), built on this thread.
    pub fn new(entries: &[Entry], config: MatcherConfig) -> Matcher {
        let started = Instant::now();
        let base = Table::build(entries.iter().map(EntryRef::from_entry), entries.len());
        let build = started.elapsed();
        let snapshot = Snapshot {
            base: Arc::new(base),
            delta: Arc::new(Table::empty()),
            masked: Arc::new(HashSet::default()),
            thresholds: config.thresholds,
        };
        let mut stats = MatcherStats {
            base_build: build,
            ..MatcherStats::default()
        };
        fill_sizes(&mut stats, &snapshot, 0);
        let writer = Writer {
            base: Arc::clone(&snapshot.base),
            base_generation: 0,
            delta: HashMap::new(),
            version: 0,
            merging: false,
            thresholds: config.thresholds,
            stats,
            latency_total: Duration::ZERO,
        };
        Matcher {
            inner: Arc::new(Inner {
                current: ArcSwap::from_pointee(snapshot),
                writer: Mutex::new(writer),
                config,
            }),
        }
    }

    /// A consistent view of the current snapshot, for a batch of lookups; expiry is judged at
    /// the moment of the call.
    pub fn view(&self) -> View {
        View::new(self.inner.current.load(), Timestamp::now())
    }

    /// Like [`Matcher::view`], judging expiry at `now` (for tests and replays).
    pub fn view_at(&self, now: Timestamp) -> View {
        View::new(self.inner.current.load(), now)
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock leaves plain data behind, still consistent enough to
        // keep serving: the next change rebuilds the delta from it.
        self.inner
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Applies changes (visible to views loaded after this returns). `committed` is when the
    /// store committed them, to measure import-to-match latency. Starts a background merge
    /// when the delta has grown past the threshold.
    pub fn apply(&self, changes: Vec<Change>, committed: Option<Timestamp>) {
        let mut writer = self.writer();
        for change in changes {
            writer.version += 1;
            let version = writer.version;
            match change {
                Change::Upsert(entry) => writer.delta.insert(entry.id, (Some(entry), version)),
                Change::Remove(id) => writer.delta.insert(id, (None, version)),
            };
        }
        self.publish(&mut writer);
        if let Some(committed) = committed {
            let latency = Timestamp::now().duration_since(committed).unsigned_abs();
            let stats = &mut writer.stats;
            stats.measured_batches += 1;
            stats.last_latency = Some(latency);
            stats.max_latency = Some(stats.max_latency.map_or(latency, |max| max.max(latency)));
            writer.latency_total += latency;
            let batches = u32::try_from(writer.stats.measured_batches).unwrap_or(u32::MAX);
            writer.stats.mean_latency = Some(writer.latency_total / batches.max(1));
        }
        if writer.delta.len() >= self.inner.config.merge_threshold && !writer.merging {
            self.start_merge(&mut writer);
        }
    }

    /// Changes the minimum scores; views loaded afterwards use them.
    pub fn set_thresholds(&self, thresholds: Thresholds) {
        let mut writer = self.writer();
        writer.thresholds = thresholds;
        let current = self.inner.current.load_full();
        self.inner.current.store(Arc::new(Snapshot {
            base: Arc::clone(&current.base),
            delta: Arc::clone(&current.delta),
            masked: Arc::clone(&current.masked),
            thresholds,
        }));
    }

    /// Rebuilds the delta table from the pending changes and swaps in a new snapshot.
    fn publish(&self, writer: &mut Writer) {
        let live: Vec<&Entry> = writer
            .delta
            .values()
            .filter_map(|(e, _)| e.as_ref())
            .collect();
        let delta = Table::build(live.iter().map(|e| EntryRef::from_entry(e)), live.len());
        let masked: HashSet<i64, RandomState> = writer.delta.keys().copied().collect();
        let snapshot = Snapshot {
            base: Arc::clone(&writer.base),
            delta: Arc::new(delta),
            masked: Arc::new(masked),
            thresholds: writer.thresholds,
        };
        let delta_entries = writer.delta.len();
        fill_sizes(&mut writer.stats, &snapshot, delta_entries);
        self.inner.current.store(Arc::new(snapshot));
    }

    fn start_merge(&self, writer: &mut Writer) {
        writer.merging = true;
        let base = Arc::clone(&writer.base);
        let generation = writer.base_generation;
        let cut = writer.version;
        let delta: HashMap<i64, Option<Entry>> = writer
            .delta
            .iter()
            .map(|(id, (entry, _))| (*id, entry.clone()))
            .collect();
        let matcher = self.clone();
        let spawned = std::thread::Builder::new()
            .name("matcher-merge".into())
            .spawn(move || {
                let started = Instant::now();
                let table = merge(&base, &delta);
                matcher.finish_merge(table, generation, cut, started.elapsed());
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "cannot start the matcher merge thread; the delta keeps growing until the next change retries");
            writer.merging = false;
        }
    }

    fn finish_merge(&self, table: Table, generation: u64, cut: u64, took: Duration) {
        let mut writer = self.writer();
        writer.merging = false;
        if writer.base_generation != generation {
            return;
        }
        self.install_base(&mut writer, table, cut, took);
        writer.stats.merges += 1;
    }

    /// Installs a new base that already contains every change up to version `cut`.
    fn install_base(&self, writer: &mut Writer, table: Table, cut: u64, took: Duration) {
        writer.base = Arc::new(table);
        writer.base_generation += 1;
        writer.delta.retain(|_, (_, version)| *version > cut);
        writer.stats.base_build = took;
        writer.stats.skipped = {
            let Skipped {
                malformed,
                too_long,
                duplicate,
            } = writer.base.skipped;
            malformed + too_long + duplicate
        };
        self.publish(writer);
    }

    /// Folds the delta into a new base on this thread (a background merge does the same).
    pub fn merge_now(&self) {
        let (base, delta, generation, cut) = {
            let writer = self.writer();
            let delta: HashMap<i64, Option<Entry>> = writer
                .delta
                .iter()
                .map(|(id, (entry, _))| (*id, entry.clone()))
                .collect();
            (
                Arc::clone(&writer.base),
                delta,
                writer.base_generation,
                writer.version,
            )
        };
        let started = Instant::now();
        let table = merge(&base, &delta);
        let mut writer = self.writer();
        if writer.base_generation == generation {
            self.install_base(&mut writer, table, cut, started.elapsed());
            writer.stats.merges += 1;
        }
    }

    /// The version of the last applied change: pass it to [`Matcher::replace_base`] when
    /// starting a full rebuild.
    pub fn version(&self) -> u64 {
        self.writer().version
    }

    /// Replaces the base with a full rebuild (to refresh decayed scores) read from the store
    /// after change `version` had been applied; later changes stay in the delta.
    pub fn replace_base(&self, entries: &[Entry], version: u64) {
        let started = Instant::now();
        let table = Table::build(entries.iter().map(EntryRef::from_entry), entries.len());
        let took = started.elapsed();
        let mut writer = self.writer();
        self.install_base(&mut writer, table, version, took);
    }

    /// Whether a background merge is running.
    pub fn merging(&self) -> bool {
        self.writer().merging
    }

    /// Notes that the snapshot now holds everything the store had committed.
    pub fn mark_synced(&self) {
        self.writer().stats.synced_at = Some(Timestamp::now());
    }

    pub fn stats(&self) -> MatcherStats {
        self.writer().stats.clone()
    }
}

fn fill_sizes(stats: &mut MatcherStats, snapshot: &Snapshot, delta_entries: usize) {
    stats.base_entries = snapshot.base.len();
    stats.delta_entries = delta_entries;
    stats.memory_bytes = snapshot.heap_bytes();
    stats.published_at = Some(Timestamp::now());
}

/// The base's entries not overridden by the delta, plus the delta's live entries.
fn merge(base: &Table, delta: &HashMap<i64, Option<Entry>>) -> Table {
    let kept = base
        .entries()
        .filter(|entry| !delta.contains_key(&entry.id));
    let added = delta
        .values()
        .filter_map(Option::as_ref)
        .map(EntryRef::from_entry);
    Table::build(kept.chain(added), base.len() + delta.len())
}

#[cfg(test)]
pub(crate) fn entries_of(matcher: &Matcher) -> Vec<Entry> {
    let snapshot = matcher.inner.current.load_full();
    let mut entries: Vec<Entry> = snapshot
        .base
        .entries()
        .filter(|entry| !snapshot.masked.contains(&entry.id))
        .chain(snapshot.delta.entries())
        .map(EntryRef::to_entry)
        .collect();
    entries.sort_by_key(|entry| entry.id);
    entries
}
