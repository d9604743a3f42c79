//! An analyst's "false positive" flowing back into the intel: the indicator that raised the
//! alert is suppressed (so detection, block lists and playbooks stop using it), its blocks are
//! rolled back, and the sources that vouched for it lose one grade of reliability, which the
//! score explanation shows from then on.

use rampart_model::{Detection, Indicator};
use rampart_store::{AuditEntry, BlockEntry, Store, StoreError, StoredAlert};
use serde::Serialize;
use serde_json::json;

use crate::playbook::{Engine, EngineError};

/// What a false positive changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Feedback {
    /// The indicator now suppressed (none for a Sigma alert).
    pub suppressed: Option<Indicator>,
    /// Block-list entries rolled back.
    pub unblocked: Vec<i64>,
    /// Sources regraded: name, old letter, new letter.
    pub regraded: Vec<(String, char, char)>,
}

/// Applies the false positive of `alert`, on behalf of `actor`; every change is audited.
pub async fn false_positive(
    store: &dyn Store,
    engine: &Engine,
    alert: &StoredAlert,
    actor: &str,
) -> Result<Feedback, StoreError> {
    let Detection::Indicator {
        kind,
        value,
        sources,
        ..
    } = &alert.alert.detection
    else {
        return Ok(Feedback::default());
    };
    let indicator = Indicator::from_canonical(*kind, value.clone());
    let reason = format!("false positive: alert {} ({actor})", alert.id);
    let mut feedback = Feedback::default();
    if store.set_suppression(&indicator, Some(&reason)).await? {
        let entry = AuditEntry::new(actor, "intel.suppress")
            .target(format!("{}:{}", kind.as_str(), value))
            .detail(json!({ "reason": reason, "alert": alert.id }));
        store.record_audit(&entry).await?;
        feedback.suppressed = Some(indicator.clone());
    }
    let unblocked: Vec<BlockEntry> = engine
        .unblock_indicator(&indicator, actor, &reason)
        .await
        .map_err(|err| match err {
            EngineError::Store(err) => err,
            other => StoreError::Config(other.to_string()),
        })?;
    feedback.unblocked = unblocked.iter().map(|entry| entry.id).collect();
    for name in sources {
        let Some(source) = store.source(name).await? else {
            continue;
        };
        let from = source.info.reliability;
        let to = from.lowered();
        if to == from {
            continue;
        }
        store.set_reliability(name, to).await?;
        let entry = AuditEntry::new(actor, "source.regrade")
            .target(format!("source:{name}"))
            .detail(json!({ "from": from.letter().to_string(), "to": to.letter().to_string(), "alert": alert.id }));
        store.record_audit(&entry).await?;
        feedback
            .regraded
            .push((name.clone(), from.letter(), to.letter()));
    }
    Ok(feedback)
}
