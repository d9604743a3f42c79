//! The TAXII 2.1 endpoints that read: discovery, the API root, collections, objects (a page,
//! one, its versions) and the manifest; adding objects and their status resources are in
//! [`super::inbox`]. Paths and roles are in [`crate::routes`]; every handler checks the
//! `Accept` header first.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use jiff::Timestamp;
use rampart_store::ChangeCursor;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::collections::{self, Filters, Listing, Published};
use super::{
    CollectionConfig, STIX_MEDIA_TYPE, TAXII_MEDIA_TYPE, TaxiiError, check_accept, taxii_json,
};
use crate::state::AppState;

pub(super) type Answer = Result<Response, TaxiiError>;

pub(super) fn ok(body: &impl Serialize) -> Answer {
    Ok(taxii_json(StatusCode::OK, body))
}

fn api_root_url(state: &AppState) -> String {
    format!("/taxii2/{}/", state.taxii.config.api_root)
}

pub(super) fn check_root(state: &AppState, api_root: &str) -> Result<(), TaxiiError> {
    if api_root == state.taxii.config.api_root {
        Ok(())
    } else {
        Err(TaxiiError::not_found(format!(
            "no API root {api_root:?}; this server has {:?}",
            state.taxii.config.api_root
        )))
    }
}

pub(super) fn find_collection<'s>(
    state: &'s AppState,
    id: &str,
) -> Result<&'s CollectionConfig, TaxiiError> {
    state
        .taxii
        .config
        .collection(id)
        .ok_or_else(|| TaxiiError::not_found(format!("no collection {id:?} in this API root")))
}

fn readable<'s>(
    state: &'s AppState,
    api_root: &str,
    id: &str,
) -> Result<&'s CollectionConfig, TaxiiError> {
    check_root(state, api_root)?;
    let collection = find_collection(state, id)?;
    if !collection.can_read {
        return Err(TaxiiError::forbidden(format!(
            "collection {id} cannot be read"
        )));
    }
    Ok(collection)
}

/// `GET /taxii2/`: the discovery resource.
pub async fn discovery(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    check_accept(&headers)?;
    let root = api_root_url(&state);
    ok(&json!({
        "title": state.taxii.config.title,
        "description": "Rampart's threat intelligence over TAXII 2.1",
        "default": root,
        "api_roots": [root],
    }))
}

/// `GET /taxii2/{api_root}/`: the API root's information.
pub async fn api_root(
    State(state): State<AppState>,
    Path(api_root): Path<String>,
    headers: HeaderMap,
) -> Answer {
    check_accept(&headers)?;
    check_root(&state, &api_root)?;
    ok(&json!({
        "title": format!("{} ({})", state.taxii.config.title, state.taxii.config.api_root),
        "versions": [TAXII_MEDIA_TYPE],
        "max_content_length": state.config.body_limit,
    }))
}

fn collection_resource(collection: &CollectionConfig) -> Value {
    let mut resource = json!({
        "id": collection.id.to_string(),
        "title": collection.title,
        "can_read": collection.can_read,
        "can_write": collection.can_write,
        "media_types": [STIX_MEDIA_TYPE],
    });
    if let Some(description) = &collection.description {
        resource["description"] = json!(description);
    }
    resource
}

/// `GET /taxii2/{api_root}/collections/`.
pub async fn collections(
    State(state): State<AppState>,
    Path(api_root): Path<String>,
    headers: HeaderMap,
) -> Answer {
    check_accept(&headers)?;
    check_root(&state, &api_root)?;
    let list: Vec<Value> = state
        .taxii
        .config
        .collections
        .iter()
        .map(collection_resource)
        .collect();
    ok(&json!({ "collections": list }))
}

/// `GET /taxii2/{api_root}/collections/{id}/`.
pub async fn collection(
    State(state): State<AppState>,
    Path((api_root, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    check_accept(&headers)?;
    check_root(&state, &api_root)?;
    ok(&collection_resource(find_collection(&state, &id)?))
}

/// The query parameters of the listing endpoints.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    added_after: Option<String>,
    limit: Option<String>,
    next: Option<String>,
    #[serde(rename = "match[id]")]
    match_id: Option<String>,
    #[serde(rename = "match[type]")]
    match_type: Option<String>,
    #[serde(rename = "match[version]")]
    match_version: Option<String>,
    #[serde(rename = "match[spec_version]")]
    match_spec_version: Option<String>,
}

/// A listing request, checked.
struct ListRequest {
    filters: Filters,
    limit: usize,
    next: Option<ChangeCursor>,
}

fn split(list: Option<&str>) -> Vec<String> {
    list.map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// `next` tokens are a feed position, `SEQ.ID`: opaque to clients.
fn next_token(position: ChangeCursor) -> String {
    format!("{}.{}", position.seq, position.after_id)
}

fn parse_next(token: &str) -> Result<ChangeCursor, TaxiiError> {
    token
        .split_once('.')
        .and_then(|(seq, id)| Some((seq.parse().ok()?, id.parse().ok()?)))
        .filter(|(seq, id): &(i64, i64)| *seq >= 0 && *id >= 0)
        .map(|(seq, after_id)| ChangeCursor { seq, after_id })
        .ok_or_else(|| {
            TaxiiError::bad_request(format!(
                "invalid next {token:?}: use the value of the previous page"
            ))
        })
}

fn list_request(
    state: &AppState,
    uri: &Uri,
    object_id: Option<&str>,
) -> Result<ListRequest, TaxiiError> {
    let Query(params) = Query::<ListParams>::try_from_uri(uri)
        .map_err(|err| TaxiiError::bad_request(format!("invalid query: {}", err.body_text())))?;
    let added_after = params
        .added_after
        .as_deref()
        .map(|text| {
            text.parse::<Timestamp>().map_err(|_| {
                TaxiiError::bad_request(format!(
                    "added_after {text:?} is not a timestamp (2024-01-31T12:00:00.000000Z)"
                ))
            })
        })
        .transpose()?;
    let max = state.taxii.config.max_page as usize;
    let limit = match params.limit.as_deref() {
        None => max,
        Some(text) => match text.parse::<usize>() {
            Ok(0) | Err(_) => {
                return Err(TaxiiError::bad_request(format!(
                    "limit {text:?} is not a positive number"
                )));
            }
            Ok(limit) => limit.min(max),
        },
    };
    let mut ids = split(params.match_id.as_deref());
    if let Some(id) = object_id {
        if !ids.is_empty() {
            return Err(TaxiiError::bad_request(
                "match[id] cannot be used on one object's endpoint",
            ));
        }
        ids.push(id.to_owned());
    }
    if ids.len() > max {
        return Err(TaxiiError::bad_request(format!(
            "match[id] names more than {max} ids"
        )));
    }
    let versions = split(params.match_version.as_deref());
    for version in &versions {
        if !matches!(version.as_str(), "first" | "last" | "all")
            && version.parse::<Timestamp>().is_err()
        {
            return Err(TaxiiError::bad_request(format!(
                "match[version] {version:?}: use first, last, all or a timestamp"
            )));
        }
    }
    Ok(ListRequest {
        filters: Filters {
            added_after,
            ids,
            types: split(params.match_type.as_deref()),
            versions,
            spec_versions: split(params.match_spec_version.as_deref()),
        },
        limit,
        next: params.next.as_deref().map(parse_next).transpose()?,
    })
}

/// `date_added` and the headers: microseconds, as the store keeps them.
pub(super) fn taxii_time(timestamp: Timestamp) -> String {
    timestamp.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A listing answered with `X-TAXII-Date-Added-First/Last` when it has objects.
fn paged(listing: &Listing, body: &impl Serialize) -> Answer {
    let mut response = taxii_json(StatusCode::OK, body);
    if let (Some(first), Some(last)) = (listing.objects.first(), listing.objects.last()) {
        for (name, at) in [
            ("x-taxii-date-added-first", first.date_added),
            ("x-taxii-date-added-last", last.date_added),
        ] {
            if let Ok(value) = HeaderValue::from_str(&taxii_time(at)) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    Ok(response)
}

async fn listing(
    state: &AppState,
    collection: &CollectionConfig,
    request: &ListRequest,
) -> Result<Listing, TaxiiError> {
    Ok(collections::list(
        state.store.as_ref(),
        &state.taxii.index,
        collection,
        &request.filters,
        request.limit,
        request.next,
    )
    .await?)
}

fn envelope(listing: &Listing) -> Value {
    let objects: Vec<&Value> = listing.objects.iter().map(|p| &p.object).collect();
    let mut body = json!({ "more": listing.next.is_some(), "objects": objects });
    if let Some(next) = listing.next {
        body["next"] = json!(next_token(next));
    }
    body
}

/// `GET …/collections/{id}/objects/`: one page of the collection's objects.
pub async fn objects(
    State(state): State<AppState>,
    Path((api_root, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Answer {
    check_accept(&headers)?;
    let collection = readable(&state, &api_root, &id)?;
    let request = list_request(&state, &uri, None)?;
    let listing = listing(&state, collection, &request).await?;
    paged(&listing, &envelope(&listing))
}

/// `GET …/collections/{id}/objects/{object_id}/`: one object (its current version).
pub async fn object(
    State(state): State<AppState>,
    Path((api_root, id, object_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Answer {
    check_accept(&headers)?;
    let collection = readable(&state, &api_root, &id)?;
    let request = list_request(&state, &uri, Some(&object_id))?;
    let listing = found(listing(&state, collection, &request).await?, &object_id)?;
    paged(&listing, &envelope(&listing))
}

/// A listing for one object: 404 when the collection does not publish it (or the filters
/// left nothing).
fn found(listing: Listing, object_id: &str) -> Result<Listing, TaxiiError> {
    if listing.objects.is_empty() && listing.next.is_none() {
        Err(TaxiiError::not_found(format!(
            "no object {object_id:?} in this collection"
        )))
    } else {
        Ok(listing)
    }
}

/// `GET …/objects/{object_id}/versions/`: the versions held (the current one).
pub async fn versions(
    State(state): State<AppState>,
    Path((api_root, id, object_id)): Path<(String, String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Answer {
    check_accept(&headers)?;
    let collection = readable(&state, &api_root, &id)?;
    let request = list_request(&state, &uri, Some(&object_id))?;
    let listing = found(listing(&state, collection, &request).await?, &object_id)?;
    let versions: Vec<&str> = listing.objects.iter().map(|p| p.version.as_str()).collect();
    paged(&listing, &json!({ "more": false, "versions": versions }))
}

fn manifest_record(published: &Published) -> Value {
    json!({
        "id": published.id,
        "date_added": taxii_time(published.date_added),
        "version": published.version,
        "media_type": STIX_MEDIA_TYPE,
    })
}

/// `GET …/collections/{id}/manifest/`: one page of what the collection holds.
pub async fn manifest(
    State(state): State<AppState>,
    Path((api_root, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Answer {
    check_accept(&headers)?;
    let collection = readable(&state, &api_root, &id)?;
    let request = list_request(&state, &uri, None)?;
    let listing = listing(&state, collection, &request).await?;
    let records: Vec<Value> = listing.objects.iter().map(manifest_record).collect();
    let mut body = json!({ "more": listing.next.is_some(), "objects": records });
    if let Some(next) = listing.next {
        body["next"] = json!(next_token(next));
    }
    paged(&listing, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tokens_round_trip_and_bad_ones_are_refused() {
        let position = ChangeCursor {
            seq: 12,
            after_id: 345,
        };
        assert_eq!(parse_next(&next_token(position)).unwrap(), position);
        for bad in ["", "12", "a.b", "-1.2", "1.2.3"] {
            assert_eq!(
                parse_next(bad).unwrap_err().status,
                StatusCode::BAD_REQUEST,
                "{bad}"
            );
        }
    }
}
