//! Reading intel back: one indicator with its score explanation and context, and filtered
//! streaming exports.

use std::io::Write;

use jiff::Timestamp;
use rampart_model::{ContextObject, Indicator, IndicatorKind, Tlp};
use rampart_store::{SearchQuery, Store, StoreError, StoredIndicator};
use serde::Serialize;

use crate::export::{ExportItem, Exporter};
use crate::score::{ScoreExplanation, score};

/// Everything `rampart intel show` prints about one indicator.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorReport {
    pub indicator: StoredIndicator,
    pub explanation: ScoreExplanation,
    /// Context objects the sources' statements point to (the STIX indicator, relationships and
    /// what they point at: malware, actors, campaigns, attack patterns).
    pub related: Vec<RelatedObject>,
}

/// A context object and how it relates to the indicator.
#[derive(Debug, Clone, Serialize)]
pub struct RelatedObject {
    /// `indicates`, `sighting`, `statement` (the object the statement came from)…
    pub relation: String,
    pub object: ContextObject,
}

/// Looks an indicator up with its explanation and related context.
pub async fn show(
    store: &dyn Store,
    indicator: &Indicator,
    now: Timestamp,
) -> Result<Option<IndicatorReport>, StoreError> {
    let Some(stored) = store.indicator(indicator).await? else {
        return Ok(None);
    };
    let explanation = score(&stored, now);
    let mut related = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for statement in &stored.sources {
        let reference = statement.reference.as_str();
        if !reference.contains("--") && uuid::Uuid::parse_str(reference).is_err() {
            continue;
        }
        if !seen.insert(reference.to_owned()) {
            continue;
        }
        if let Some(object) = store.context_object(reference).await? {
            related.push(RelatedObject {
                relation: "statement".into(),
                object,
            });
        }
        for relationship in store.relationships_of(reference).await? {
            let relation = relationship
                .body
                .get("relationship_type")
                .and_then(|v| v.as_str())
                .unwrap_or(&relationship.object_type)
                .to_owned();
            let target = relationship
                .body
                .get("target_ref")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            related.push(RelatedObject {
                relation: relation.clone(),
                object: relationship,
            });
            if let Some(target) = target
                && seen.insert(target.clone())
                && let Some(object) = store.context_object(&target).await?
            {
                related.push(RelatedObject {
                    relation: format!("{relation} →"),
                    object,
                });
            }
        }
    }
    Ok(Some(IndicatorReport {
        indicator: stored,
        explanation,
        related,
    }))
}

/// Which indicators an export contains.
#[derive(Debug, Clone, Serialize)]
pub struct ExportFilter {
    /// Only indicators whose strictest TLP is at most this (default TLP:GREEN).
    pub max_tlp: Tlp,
    pub min_score: u8,
    pub kind: Option<IndicatorKind>,
    pub source: Option<String>,
    /// Include suppressed indicators (never for enforcement).
    pub include_suppressed: bool,
}

impl Default for ExportFilter {
    fn default() -> Self {
        ExportFilter {
            max_tlp: Tlp::Green,
            min_score: 1,
            kind: None,
            source: None,
            include_suppressed: false,
        }
    }
}

/// Streams the indicators passing `filter` through `exporter` into `out`, page by page.
/// Returns how many were written.
pub async fn export(
    store: &dyn Store,
    exporter: &mut dyn Exporter,
    filter: &ExportFilter,
    now: Timestamp,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    exporter.begin(out)?;
    let mut written = 0;
    let mut query = SearchQuery {
        kind: filter.kind,
        source: filter.source.clone(),
        limit: 5000,
        ..SearchQuery::default()
    };
    loop {
        let page = store.search(&query).await?;
        let Some(last) = page.last() else { break };
        query.after_id = Some(last.id);
        for stored in page {
            if stored.tlp() > filter.max_tlp
                || (stored.suppressed.is_some() && !filter.include_suppressed)
            {
                continue;
            }
            let explanation = score(&stored, now);
            if explanation.score < filter.min_score {
                continue;
            }
            exporter.item(
                &ExportItem {
                    indicator: stored,
                    score: explanation.score,
                },
                out,
            )?;
            written += 1;
        }
    }
    exporter.end(out)?;
    Ok(written)
}

/// An export that failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("write failed: {0}")]
    Io(#[from] std::io::Error),
}
