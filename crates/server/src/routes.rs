//! Every route, declared once: its method, path, what it requires, and its handler. The router
//! and the OpenAPI document's security notes are both built from this table, and the RBAC
//! test walks it.

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};
use rampart_auth::Action;

use crate::api::{
    accounts, alerts, assets, audit, blocklists, case_changes, case_exports, case_work, cases,
    events, health, indicators, intel_changes, playbooks, rules, session, source_changes, sources,
};
use crate::auth::Access;
use crate::config::ServerConfig;
use crate::state::AppState;
use crate::taxii::handlers as taxii;
use crate::web;

/// The HTTP methods routes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Post => Method::POST,
            Verb::Put => Method::PUT,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

/// One route of the table.
pub struct Route {
    pub verb: Verb,
    /// The path as axum and OpenAPI write it (`/api/v1/indicators/{kind}/{value}`).
    pub path: &'static str,
    pub access: Access,
    /// A dashboard page (HTML for browsers), not part of the API nor of its OpenAPI document.
    pub page: bool,
    handler: MethodRouter<AppState>,
}

/// The metrics scrape, the one route whose access the configuration may relax.
pub const METRICS_PATH: &str = "/metrics";

impl Route {
    /// The access enforced under `config`: the declared one, except that `/metrics` is public
    /// when `[server] metrics_public = true`.
    pub fn access_under(&self, config: &ServerConfig) -> Access {
        if self.path == METRICS_PATH && config.metrics_public {
            Access::Public
        } else {
            self.access
        }
    }
}

fn route<H, T>(verb: Verb, path: &'static str, access: Access, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route {
        verb,
        path,
        access,
        page: false,
        handler: on(verb.filter(), handler),
    }
}

/// A dashboard route: like [`route`], marked as a page.
fn page<H, T>(verb: Verb, path: &'static str, access: Access, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route {
        page: true,
        ..route(verb, path, access, handler)
    }
}

/// The route table.
pub fn routes() -> Vec<Route> {
    use Access::{Page, Public, Session};
    use Verb::{Delete, Get, Patch, Post, Put};
    let action = Access::Action;
    let read_intel = Access::Action(Action::ReadIntel);
    vec![
        route(Get, "/healthz", Public, health::healthz),
        route(Get, "/readyz", Public, health::readyz),
        route(Get, "/api/openapi.json", Public, crate::openapi::document),
        route(
            Get,
            METRICS_PATH,
            action(Action::ReadMetrics),
            crate::metrics::scrape,
        ),
        route(Post, "/api/v1/session", Public, session::login),
        route(Delete, "/api/v1/session", Session, session::logout),
        route(
            Get,
            "/api/v1/indicators",
            action(Action::ReadIntel),
            indicators::search,
        ),
        route(
            Post,
            "/api/v1/indicators",
            action(Action::WriteIntel),
            intel_changes::add,
        ),
        route(
            Get,
            "/api/v1/indicators/export",
            action(Action::ReadIntel),
            intel_changes::export,
        ),
        route(
            Post,
            "/api/v1/indicators/suppress",
            action(Action::WriteIntel),
            indicators::suppress,
        ),
        route(
            Post,
            "/api/v1/indicators/unsuppress",
            action(Action::WriteIntel),
            intel_changes::unsuppress,
        ),
        route(
            Get,
            "/api/v1/indicators/{id}",
            action(Action::ReadIntel),
            indicators::show_by_id,
        ),
        route(
            Get,
            "/api/v1/indicators/{kind}/{value}",
            action(Action::ReadIntel),
            indicators::show,
        ),
        route(
            Get,
            "/api/v1/sources",
            action(Action::ReadIntel),
            sources::list,
        ),
        route(
            Post,
            "/api/v1/sources",
            action(Action::ManageSources),
            source_changes::add,
        ),
        route(
            Get,
            "/api/v1/sources/{name}",
            action(Action::ReadIntel),
            source_changes::show,
        ),
        route(
            Delete,
            "/api/v1/sources/{name}",
            action(Action::ManageSources),
            source_changes::remove,
        ),
        route(
            Post,
            "/api/v1/sources/{name}/pull",
            action(Action::ManageSources),
            source_changes::pull,
        ),
        route(
            Get,
            "/api/v1/alerts",
            action(Action::ReadAlerts),
            alerts::list,
        ),
        route(
            Post,
            "/api/v1/alerts/{id}/acknowledge",
            action(Action::TriageAlerts),
            alerts::acknowledge,
        ),
        route(
            Post,
            "/api/v1/alerts/{id}/false-positive",
            action(Action::TriageAlerts),
            alerts::false_positive,
        ),
        // Incident cases, and alerts brought into them: the API, then the dashboard's pages
        // (kept together here).
        route(Get, "/api/v1/cases", action(Action::ReadCases), cases::list),
        route(
            Post,
            "/api/v1/cases",
            action(Action::ManageCases),
            cases::create,
        ),
        route(
            Get,
            "/api/v1/cases/{id}",
            action(Action::ReadCases),
            cases::show,
        ),
        route(
            Patch,
            "/api/v1/cases/{id}",
            action(Action::ManageCases),
            case_changes::change,
        ),
        route(
            Post,
            "/api/v1/cases/{id}/status",
            action(Action::ManageCases),
            case_changes::status,
        ),
        route(
            Post,
            "/api/v1/cases/{id}/merge",
            action(Action::ManageCases),
            case_changes::merge,
        ),
        route(
            Post,
            "/api/v1/cases/{id}/tasks",
            action(Action::ManageCases),
            case_work::create_task,
        ),
        route(
            Patch,
            "/api/v1/cases/{id}/tasks/{task}",
            action(Action::ManageCases),
            case_work::change_task,
        ),
        route(
            Post,
            "/api/v1/cases/{id}/observables",
            action(Action::ManageCases),
            case_work::create_observable,
        ),
        route(
            Post,
            "/api/v1/cases/{id}/comments",
            action(Action::ManageCases),
            case_work::comment,
        ),
        route(
            Post,
            "/api/v1/cases/{id}/alerts",
            action(Action::ManageCases),
            case_work::link,
        ),
        route(
            Delete,
            "/api/v1/cases/{id}/alerts/{alert}",
            action(Action::ManageCases),
            case_work::unlink,
        ),
        route(
            Get,
            "/api/v1/cases/{id}/export",
            action(Action::ReadCases),
            case_exports::export,
        ),
        route(
            Post,
            "/api/v1/cases/{id}/push",
            action(Action::ManageCases),
            case_exports::push,
        ),
        route(
            Post,
            "/api/v1/alerts/import",
            action(Action::ManageCases),
            case_work::import,
        ),
        route(
            Post,
            "/api/v1/alerts/group",
            action(Action::ManageCases),
            case_work::group,
        ),
        page(
            Get,
            "/cases",
            Page(Some(Action::ReadCases)),
            web::cases::list,
        ),
        page(
            Post,
            "/cases",
            Page(Some(Action::ManageCases)),
            web::case_forms::open,
        ),
        page(
            Get,
            "/cases/{id}",
            Page(Some(Action::ReadCases)),
            web::cases::detail,
        ),
        page(
            Post,
            "/cases/{id}/status",
            Page(Some(Action::ManageCases)),
            web::case_forms::status,
        ),
        page(
            Post,
            "/cases/{id}/assign",
            Page(Some(Action::ManageCases)),
            web::case_forms::assign,
        ),
        page(
            Post,
            "/cases/{id}/comments",
            Page(Some(Action::ManageCases)),
            web::case_forms::comment,
        ),
        page(
            Post,
            "/cases/{id}/tasks",
            Page(Some(Action::ManageCases)),
            web::case_forms::add_task,
        ),
        page(
            Post,
            "/cases/{id}/tasks/{task}",
            Page(Some(Action::ManageCases)),
            web::case_forms::task_status,
        ),
        page(
            Post,
            "/cases/{id}/observables",
            Page(Some(Action::ManageCases)),
            web::case_forms::add_observable,
        ),
        page(
            Post,
            "/cases/{id}/alerts",
            Page(Some(Action::ManageCases)),
            web::case_forms::link_alerts,
        ),
        page(
            Post,
            "/cases/{id}/alerts/{alert}/unlink",
            Page(Some(Action::ManageCases)),
            web::case_forms::unlink_alert,
        ),
        route(
            Get,
            "/api/v1/assets",
            action(Action::ReadAssets),
            assets::list,
        ),
        route(
            Post,
            "/api/v1/assets",
            action(Action::ManageAssets),
            assets::import,
        ),
        route(Get, "/api/v1/audit", action(Action::ReadAudit), audit::list),
        route(
            Post,
            "/api/v1/events",
            action(Action::IngestEvents),
            events::ingest,
        ),
        route(Get, "/api/v1/rules", action(Action::ReadRules), rules::list),
        route(
            Patch,
            "/api/v1/rules/{id}",
            action(Action::ManageRules),
            rules::change,
        ),
        // The respond stage: block lists, playbooks and their runs.
        route(
            Get,
            "/blocklists/{list}/{format}",
            Access::Fetch,
            blocklists::fetch,
        ),
        route(
            Get,
            "/api/v1/blocklists",
            action(Action::ReadResponse),
            blocklists::list,
        ),
        route(
            Get,
            "/api/v1/blocklists/{list}/entries",
            action(Action::ReadResponse),
            blocklists::entries,
        ),
        route(
            Post,
            "/api/v1/blocklists/{list}/entries",
            action(Action::ManageResponse),
            blocklists::add,
        ),
        route(
            Delete,
            "/api/v1/blocklists/{list}/entries/{id}",
            action(Action::ManageResponse),
            blocklists::remove,
        ),
        route(
            Get,
            "/api/v1/playbooks",
            action(Action::ReadResponse),
            playbooks::list,
        ),
        route(
            Get,
            "/api/v1/playbooks/{name}",
            action(Action::ReadResponse),
            playbooks::show,
        ),
        route(
            Put,
            "/api/v1/playbooks/{name}",
            action(Action::ManageResponse),
            playbooks::save,
        ),
        route(
            Get,
            "/api/v1/runs",
            action(Action::ReadResponse),
            playbooks::runs,
        ),
        route(
            Get,
            "/api/v1/runs/{id}",
            action(Action::ReadResponse),
            playbooks::run,
        ),
        route(
            Post,
            "/api/v1/runs/{id}/approve",
            action(Action::ManageResponse),
            playbooks::approve,
        ),
        route(
            Post,
            "/api/v1/runs/{id}/reject",
            action(Action::ManageResponse),
            playbooks::reject,
        ),
        route(
            Post,
            "/api/v1/runs/{id}/rollback",
            action(Action::ManageResponse),
            playbooks::rollback,
        ),
        route(
            Get,
            "/api/v1/tokens",
            action(Action::ManageOwnTokens),
            accounts::list_tokens,
        ),
        route(
            Post,
            "/api/v1/tokens",
            action(Action::ManageOwnTokens),
            accounts::create_token,
        ),
        route(
            Delete,
            "/api/v1/tokens/{id}",
            action(Action::ManageOwnTokens),
            accounts::revoke_token,
        ),
        route(
            Get,
            "/api/v1/users",
            action(Action::ManageUsers),
            accounts::list_users,
        ),
        route(
            Post,
            "/api/v1/users",
            action(Action::ManageUsers),
            accounts::create_user,
        ),
        route(
            Patch,
            "/api/v1/users/{name}",
            action(Action::ManageUsers),
            accounts::change_user,
        ),
        // The dashboard.
        page(Get, "/static/rampart.css", Public, web::stylesheet),
        page(Get, "/login", Public, web::login::form),
        page(Post, "/login", Public, web::login::submit),
        page(Post, "/logout", Page(None), web::login::logout),
        page(Get, "/", Page(Some(Action::ReadIntel)), web::overview::page),
        page(
            Get,
            "/indicators",
            Page(Some(Action::ReadIntel)),
            web::indicators::search,
        ),
        page(
            Get,
            "/indicators/{id}",
            Page(Some(Action::ReadIntel)),
            web::indicators::detail,
        ),
        page(
            Post,
            "/indicators/suppress",
            Page(Some(Action::WriteIntel)),
            web::indicators::suppress,
        ),
        page(
            Post,
            "/indicators/unsuppress",
            Page(Some(Action::WriteIntel)),
            web::indicators::unsuppress,
        ),
        page(
            Get,
            "/alerts",
            Page(Some(Action::ReadAlerts)),
            web::alerts::queue,
        ),
        page(
            Post,
            "/alerts/{id}/acknowledge",
            Page(Some(Action::TriageAlerts)),
            web::alerts::acknowledge,
        ),
        page(
            Post,
            "/alerts/{id}/false-positive",
            Page(Some(Action::TriageAlerts)),
            web::alerts::false_positive,
        ),
        page(
            Get,
            "/feeds",
            Page(Some(Action::ReadIntel)),
            web::lists::feeds,
        ),
        page(
            Post,
            "/feeds/{name}/pull",
            Page(Some(Action::ManageSources)),
            web::lists::pull,
        ),
        page(
            Get,
            "/assets",
            Page(Some(Action::ReadAssets)),
            web::lists::assets,
        ),
        page(
            Get,
            "/rules",
            Page(Some(Action::ReadRules)),
            web::rules::list,
        ),
        page(
            Post,
            "/rules/{id}",
            Page(Some(Action::ManageRules)),
            web::rules::change,
        ),
        // The respond stage's pages; `/blocklists/{list}/{format}` above stays the fetch route.
        page(
            Get,
            "/playbooks",
            Page(Some(Action::ReadResponse)),
            web::playbooks::list,
        ),
        page(
            Get,
            "/playbooks/{name}",
            Page(Some(Action::ReadResponse)),
            web::playbooks::detail,
        ),
        page(
            Post,
            "/playbooks/{name}",
            Page(Some(Action::ManageResponse)),
            web::playbooks::save,
        ),
        page(
            Get,
            "/runs",
            Page(Some(Action::ReadResponse)),
            web::runs::list,
        ),
        page(
            Get,
            "/runs/{id}",
            Page(Some(Action::ReadResponse)),
            web::runs::detail,
        ),
        page(
            Post,
            "/runs/{id}/approve",
            Page(Some(Action::ManageResponse)),
            web::runs::approve,
        ),
        page(
            Post,
            "/runs/{id}/reject",
            Page(Some(Action::ManageResponse)),
            web::runs::reject,
        ),
        page(
            Post,
            "/runs/{id}/rollback",
            Page(Some(Action::ManageResponse)),
            web::runs::rollback,
        ),
        page(
            Get,
            "/blocklists",
            Page(Some(Action::ReadResponse)),
            web::blocklists::index,
        ),
        page(
            Post,
            "/blocklists/{list}/entries",
            Page(Some(Action::ManageResponse)),
            web::blocklists::block,
        ),
        page(
            Post,
            "/blocklists/{list}/entries/{id}/remove",
            Page(Some(Action::ManageResponse)),
            web::blocklists::unblock,
        ),
        // TAXII 2.1 (its own specification, not in the OpenAPI document).
        route(Get, "/taxii2/", read_intel, taxii::discovery),
        route(Get, "/taxii2/{api_root}/", read_intel, taxii::api_root),
        route(
            Get,
            "/taxii2/{api_root}/collections/",
            read_intel,
            taxii::collections,
        ),
        route(
            Get,
            "/taxii2/{api_root}/collections/{id}/",
            read_intel,
            taxii::collection,
        ),
        route(
            Get,
            "/taxii2/{api_root}/collections/{id}/objects/",
            read_intel,
            taxii::objects,
        ),
        route(
            Post,
            "/taxii2/{api_root}/collections/{id}/objects/",
            action(Action::IngestIntel),
            crate::taxii::inbox::add_objects,
        ),
        route(
            Get,
            "/taxii2/{api_root}/collections/{id}/objects/{object_id}/",
            read_intel,
            taxii::object,
        ),
        route(
            Get,
            "/taxii2/{api_root}/collections/{id}/objects/{object_id}/versions/",
            read_intel,
            taxii::versions,
        ),
        route(
            Get,
            "/taxii2/{api_root}/collections/{id}/manifest/",
            read_intel,
            taxii::manifest,
        ),
        route(
            Get,
            "/taxii2/{api_root}/status/{status_id}/",
            action(Action::IngestIntel),
            crate::taxii::inbox::status,
        ),
    ]
}

/// The routes of the table, each behind its access check, without the outer layers.
pub(crate) fn table_router(state: &AppState) -> Router<AppState> {
    let mut router = Router::new();
    for route in routes() {
        let access = route.access_under(&state.config);
        let checked = route
            .handler
            .route_layer(axum::middleware::from_fn_with_state(
                (state.clone(), access),
                crate::auth::check_access,
            ));
        router = router.route(route.path, checked);
    }
    router
}
