//! Adding objects to a writable collection (`POST …/objects/`) and the status resources
//! that say what became of them. An envelope is imported through the same pipeline as
//! `rampart intel import` (the STIX format, one transaction) as the collection's own source.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use rampart_intel::formats::stix::StixFormat;
use rampart_model::{Reliability, SourceInfo, Tlp};
use rampart_store::AuditEntry;
use serde::Serialize;
use serde_json::{Value, json};

use super::handlers::{Answer, check_root, find_collection, ok, taxii_time};
use super::{CollectionConfig, TaxiiError, check_accept, check_content_type, taxii_json};
use crate::auth::Principal;
use crate::state::AppState;

/// A status resource: what became of one POST (section 4.3.1).
#[derive(Debug, Clone, Serialize)]
pub struct StatusResource {
    pub id: String,
    pub status: &'static str,
    pub request_timestamp: String,
    pub total_count: u64,
    pub success_count: u64,
    pub successes: Vec<StatusDetail>,
    pub failure_count: u64,
    pub failures: Vec<StatusDetail>,
    pub pending_count: u64,
}

/// One object of a status resource.
#[derive(Debug, Clone, Serialize)]
pub struct StatusDetail {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The objects of an envelope, for the status: id and version of each, in order.
fn envelope_objects(body: &[u8]) -> Result<Vec<(String, Option<String>)>, TaxiiError> {
    let envelope: Value = serde_json::from_slice(body)
        .map_err(|err| TaxiiError::bad_request(format!("the envelope is not JSON: {err}")))?;
    let objects = envelope
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            TaxiiError::bad_request("expected an envelope: {\"objects\": [STIX objects]}")
        })?;
    objects
        .iter()
        .enumerate()
        .map(|(at, object)| {
            let id = object.get("id").and_then(Value::as_str).ok_or_else(|| {
                TaxiiError::bad_request(format!("object {at} of the envelope has no id"))
            })?;
            let version = object
                .get("modified")
                .or_else(|| object.get("created"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            Ok((id.to_owned(), version))
        })
        .collect()
}

/// The source that objects added to `collection` are imported as, created on first use.
/// Unmarked objects are taken as TLP:AMBER, so that a partner's intel is not republished by
/// a TLP:GREEN collection unless they marked it so.
async fn collection_source(
    state: &AppState,
    collection: &CollectionConfig,
) -> Result<SourceInfo, TaxiiError> {
    let name = collection.source_name();
    if let Some(record) = state.store.source(&name).await? {
        return Ok(record.info);
    }
    let info = SourceInfo {
        name,
        format: "stix".into(),
        reliability: Reliability::F,
        default_confidence: 50,
        default_tlp: Tlp::Amber,
        full_list: false,
    };
    let settings = json!({ "taxii_collection": collection.id.to_string() });
    state.store.upsert_source(&info, &settings).await?;
    Ok(info)
}

/// `POST …/collections/{id}/objects/`: imports an envelope into the collection's source, as
/// one transaction, and answers its status (complete: the import is done when this returns).
pub async fn add_objects(
    State(state): State<AppState>,
    Path((api_root, id)): Path<(String, String)>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    check_accept(&headers)?;
    check_content_type(&headers)?;
    check_root(&state, &api_root)?;
    let collection = find_collection(&state, &id)?;
    if !collection.can_write {
        return Err(TaxiiError::forbidden(format!(
            "collection {id} does not accept objects"
        )));
    }
    let requested = Timestamp::now();
    let objects = envelope_objects(&body)?;
    let source = collection_source(&state, collection).await?;
    let store = state.store.clone();
    let suppress =
        rampart_intel::import::current_suppression(store.as_ref(), state.warninglists.clone())
            .await?;
    let origin = format!("taxii collection {}", collection.id);
    let audit = AuditEntry::new(principal.actor.clone(), "taxii.add_objects")
        .target(collection.id.to_string());
    let imported = rampart_intel::import::import_document(
        store.clone(),
        source,
        Arc::new(StixFormat),
        Box::new(std::io::Cursor::new(body.to_vec())),
        &origin,
        suppress,
    )
    .await;
    let report = match imported {
        Ok(report) => report,
        Err(err) => {
            let failed = audit
                .detail(json!({ "objects": objects.len() }))
                .failed(&err);
            if let Err(audit_err) = store.record_audit(&failed).await {
                tracing::warn!(%audit_err, "cannot record a failed TAXII add in the audit log");
            }
            return Err(match err {
                rampart_intel::import::ImportError::Format { error, .. } => {
                    TaxiiError::bad_request(format!("the envelope cannot be imported: {error}"))
                }
                other => TaxiiError::from(rampart_store::StoreError::Aborted(other.to_string())),
            });
        }
    };
    let rejected: std::collections::HashMap<&str, &str> = report
        .rejections
        .iter()
        .map(|r| (r.reference.as_str(), r.reason.as_str()))
        .collect();
    let (failures, successes): (Vec<StatusDetail>, Vec<StatusDetail>) = objects
        .iter()
        .map(|(object_id, version)| StatusDetail {
            id: object_id.clone(),
            version: version.clone(),
            message: rejected.get(object_id.as_str()).map(|r| (*r).to_owned()),
        })
        .partition(|detail| detail.message.is_some());
    let total = objects.len() as u64;
    // Rejections beyond those kept with reasons are counted only.
    let failure_count = report.rejected.min(total).max(failures.len() as u64);
    let status = StatusResource {
        id: uuid::Uuid::new_v4().to_string(),
        status: "complete",
        request_timestamp: taxii_time(requested),
        total_count: total,
        success_count: total - failure_count,
        successes,
        failure_count,
        failures,
        pending_count: 0,
    };
    store
        .record_audit(&audit.detail(json!({
            "status": status.id,
            "objects": total,
            "failed": failure_count,
            "summary": report.summary,
        })))
        .await?;
    state.taxii.remember(status.clone());
    Ok(taxii_json(StatusCode::ACCEPTED, &status))
}

/// `GET /taxii2/{api_root}/status/{status_id}/`.
pub async fn status(
    State(state): State<AppState>,
    Path((api_root, status_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    check_accept(&headers)?;
    check_root(&state, &api_root)?;
    match state.taxii.status(&status_id) {
        Some(status) => ok(&status),
        None => Err(TaxiiError::not_found(format!(
            "no status {status_id:?} (statuses of recent requests are kept)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_need_objects_with_ids() {
        let objects = envelope_objects(
            br#"{"objects": [{"id": "indicator--1", "modified": "2024-01-01T00:00:00Z"}, {"id": "x--2"}]}"#,
        )
        .unwrap();
        assert_eq!(
            objects,
            [
                ("indicator--1".into(), Some("2024-01-01T00:00:00Z".into())),
                ("x--2".into(), None)
            ]
        );
        for bad in [
            &b"not json"[..],
            br#"{"type": "bundle"}"#,
            br#"{"objects": [{}]}"#,
        ] {
            assert_eq!(
                envelope_objects(bad).unwrap_err().status,
                StatusCode::BAD_REQUEST
            );
        }
    }
}
