//! The OpenAPI 3.1 document, generated from the handlers' annotations; security requirements
//! and the required action of each operation come from the route table.

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, OpenApi as Document, RefOr, ResponseBuilder, SecurityRequirement,
};

use rampart_auth::Action;

use crate::auth::Access;
use crate::routes::{Verb, routes};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rampart API",
        description = "Threat intelligence, detection and response over HTTP. Authenticate \
                       with an API token (`Authorization: Bearer rmp_…`, from `rampart admin \
                       token create`) or a browser session (`POST /api/v1/session`; changing \
                       requests then carry `X-CSRF-Token`). Every error is \
                       `{\"error\": {\"status\", \"code\", \"message\"}}`; every list is paged \
                       with `limit` and `cursor`. On its first start `rampart serve` prints one \
                       admin token: create accounts with it (`POST /api/v1/users`)."
    ),
    paths(
        crate::api::health::healthz,
        crate::api::health::readyz,
        crate::api::session::login,
        crate::api::session::logout,
        crate::api::indicators::search,
        crate::api::indicators::show,
        crate::api::indicators::show_by_id,
        crate::api::indicators::suppress,
        crate::api::intel_changes::add,
        crate::api::intel_changes::unsuppress,
        crate::api::intel_changes::export,
        crate::api::sources::list,
        crate::api::source_changes::add,
        crate::api::source_changes::show,
        crate::api::source_changes::remove,
        crate::api::source_changes::pull,
        crate::api::alerts::list,
        crate::api::alerts::acknowledge,
        crate::api::alerts::false_positive,
        crate::api::cases::list,
        crate::api::cases::create,
        crate::api::cases::show,
        crate::api::case_changes::change,
        crate::api::case_changes::status,
        crate::api::case_changes::merge,
        crate::api::case_work::create_task,
        crate::api::case_work::change_task,
        crate::api::case_work::create_observable,
        crate::api::case_work::comment,
        crate::api::case_work::link,
        crate::api::case_work::unlink,
        crate::api::case_work::import,
        crate::api::case_work::group,
        crate::api::case_exports::export,
        crate::api::case_exports::push,
        crate::api::assets::list,
        crate::api::assets::import,
        crate::api::audit::list,
        crate::api::events::ingest,
        crate::api::rules::list,
        crate::api::rules::change,
        crate::api::accounts::list_tokens,
        crate::api::accounts::create_token,
        crate::api::accounts::revoke_token,
        crate::api::accounts::list_users,
        crate::api::accounts::create_user,
        crate::api::accounts::change_user,
        crate::api::blocklists::fetch,
        crate::api::blocklists::list,
        crate::api::blocklists::entries,
        crate::api::blocklists::add,
        crate::api::blocklists::remove,
        crate::api::playbooks::list,
        crate::api::playbooks::show,
        crate::api::playbooks::save,
        crate::api::playbooks::runs,
        crate::api::playbooks::run,
        crate::api::playbooks::approve,
        crate::api::playbooks::reject,
        crate::api::playbooks::rollback,
        crate::metrics::scrape,
        document,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail))
)]
struct ApiDoc;

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(get, path = "/api/openapi.json", operation_id = "openapi_document", tag = "operations",
    responses((status = 200, description = "this document", content_type = "application/json")))]
pub async fn document() -> Json<Document> {
    Json(build())
}

/// Builds the document: the annotated paths plus, from the route table, each operation's
/// security and required action (`x-rampart-action`), and the error response.
pub fn build() -> Document {
    let mut document = ApiDoc::openapi();
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("rmp_ API token")
                .description(Some("an API token from `rampart admin token create`"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            crate::auth::SESSION_COOKIE,
            "a browser session from POST /api/v1/session; changing requests also send X-CSRF-Token",
        ))),
    );
    let error = ResponseBuilder::new()
        .description("an error")
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                    "ErrorBody",
                ))))
                .build(),
        )
        .build();
    for route in routes() {
        let Some(item) = document.paths.paths.get_mut(route.path) else {
            continue;
        };
        let operation = match route.verb {
            Verb::Get => item.get.as_mut(),
            Verb::Post => item.post.as_mut(),
            Verb::Put => item.put.as_mut(),
            Verb::Patch => item.patch.as_mut(),
            Verb::Delete => item.delete.as_mut(),
        };
        let Some(operation) = operation else { continue };
        operation
            .responses
            .responses
            .entry("default".into())
            .or_insert_with(|| RefOr::T(error.clone()));
        let (security, action) = match route.access {
            Access::Public | Access::Page(_) => (Vec::new(), None),
            Access::Session => (
                vec![SecurityRequirement::new("session", Vec::<String>::new())],
                None,
            ),
            Access::Action(action) => (
                vec![
                    SecurityRequirement::new("bearer", Vec::<String>::new()),
                    SecurityRequirement::new("session", Vec::<String>::new()),
                ],
                Some(action),
            ),
            // Or from an allowed network without credentials ([respond.publish]).
            Access::Fetch => (
                vec![SecurityRequirement::new("bearer", Vec::<String>::new())],
                Some(Action::FetchBlocklists),
            ),
        };
        operation.security = Some(security);
        if let Some(action) = action {
            let extensions = operation.extensions.get_or_insert_with(Default::default);
            extensions.insert(
                "x-rampart-action".into(),
                serde_json::Value::String(action.as_str().into()),
            );
            let roles: Vec<&str> = action.roles().iter().map(|role| role.as_str()).collect();
            extensions.insert("x-rampart-roles".into(), serde_json::json!(roles));
        }
    }
    document
}
