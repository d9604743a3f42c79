//! Keeps a [`Matcher`] in step with the store: one full read at start, then the store's change
//! feed polled every quarter second, and a periodic full rebuild to refresh decayed scores.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rampart_store::{ChangeCursor, SearchQuery, Store, StoreError};

use crate::entry::{Change, Entry};
use crate::matcher::{Matcher, MatcherConfig};

/// How often and how much the refresher reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefresherConfig {
    /// Pause between polls of the change feed when it had nothing new.
    pub poll_interval: Duration,
    /// Indicators per page of the full read and of the change feed.
    pub page: u32,
    /// How often to rebuild the base from the store so that scores reflect decay.
    pub rebuild_interval: Duration,
    pub matcher: MatcherConfig,
}

impl Default for RefresherConfig {
    fn default() -> RefresherConfig {
        RefresherConfig {
            poll_interval: Duration::from_millis(250),
            page: 5000,
            rebuild_interval: Duration::from_secs(3600),
            matcher: MatcherConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("reading indicators for the matcher: {0}")]
    Store(#[from] StoreError),
    #[error("matcher build task failed: {0}")]
    Build(String),
}

/// Drives one [`Matcher`] from one store.
pub struct Refresher {
    store: Arc<dyn Store>,
    matcher: Matcher,
    cursor: ChangeCursor,
    config: RefresherConfig,
    last_rebuild: Instant,
}

impl Refresher {
    /// Reads every indicator and builds the first snapshot.
    pub async fn start(
        store: Arc<dyn Store>,
        config: RefresherConfig,
    ) -> Result<Refresher, RefreshError> {
        let (cursor, entries) = read_all(store.as_ref(), config.page).await?;
        let matcher_config = config.matcher;
        let matcher = tokio::task::spawn_blocking(move || Matcher::new(&entries, matcher_config))
            .await
            .map_err(|err| RefreshError::Build(err.to_string()))?;
        matcher.mark_synced();
        Ok(Refresher {
            store,
            matcher,
            cursor,
            config,
            last_rebuild: Instant::now(),
        })
    }

    /// The matcher this refresher keeps current (clone it for every reader).
    pub fn matcher(&self) -> Matcher {
        self.matcher.clone()
    }

    /// Applies every change committed since the last poll; returns how many indicators changed.
    pub async fn poll_once(&mut self) -> Result<usize, RefreshError> {
        let mut applied = 0;
        loop {
            let page = self
                .store
                .indicators_changed_since(self.cursor, self.config.page)
                .await?;
            if page.indicators.is_empty() {
                return Ok(applied);
            }
            let now = Timestamp::now();
            let changes: Vec<Change> = page
                .indicators
                .iter()
                .map(|indicator| Change::from_stored(indicator, now))
                .collect();
            applied += changes.len();
            let full = page.indicators.len() >= self.config.page as usize;
            self.matcher.apply(changes, page.oldest_commit);
            self.cursor = page.next;
            if !full {
                return Ok(applied);
            }
        }
    }

    /// Rebuilds the base from a full read of the store, refreshing every score.
    pub async fn rebuild(&mut self) -> Result<(), RefreshError> {
        let version = self.matcher.version();
        let (_, entries) = read_all(self.store.as_ref(), self.config.page).await?;
        let matcher = self.matcher.clone();
        tokio::task::spawn_blocking(move || matcher.replace_base(&entries, version))
            .await
            .map_err(|err| RefreshError::Build(err.to_string()))?;
        self.last_rebuild = Instant::now();
        Ok(())
    }

    /// Polls until `shutdown` completes. Store errors are logged and retried at the next tick:
    /// the matcher keeps serving its last snapshot meanwhile.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let result = if self.last_rebuild.elapsed() >= self.config.rebuild_interval {
                self.rebuild().await.map(|()| 0)
            } else {
                self.poll_once().await
            };
            match result {
                Ok(_) => self.matcher.mark_synced(),
                Err(err) => {
                    tracing::warn!(error = %err, "matcher refresh failed; keeping the current snapshot");
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }
}

/// The change-feed position, then every enforceable indicator. Changes committed during the
/// read come again through the feed from that position, so nothing is missed.
async fn read_all(
    store: &dyn Store,
    page: u32,
) -> Result<(ChangeCursor, Vec<Entry>), RefreshError> {
    let cursor = store.change_cursor().await?;
    let mut entries = Vec::new();
    let mut query = SearchQuery {
        limit: page,
        ..SearchQuery::default()
    };
    let now = Timestamp::now();
    loop {
        let indicators = store.search(&query).await?;
        let Some(last) = indicators.last() else { break };
        query.after_id = Some(last.id);
        let full = indicators.len() >= page as usize;
        entries.extend(
            indicators
                .iter()
                .filter_map(|indicator| Entry::from_stored(indicator, now)),
        );
        if !full {
            break;
        }
    }
    Ok((cursor, entries))
}
