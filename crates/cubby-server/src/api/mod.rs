//! The HTTP API under `/api/v1`, its OpenAPI document and the offline docs page.

pub(crate) mod access;
pub(crate) mod admin;
mod audit;
mod carriers;
mod community;
mod courier_passes;
pub(crate) mod devices;
mod incidents;
pub(crate) mod lockers;
pub(crate) mod me;
pub(crate) mod parcels;
mod passkeys;
pub(crate) mod planning;
mod points;
mod policies;
mod push;
mod reservations;
mod returns;
pub(crate) mod rooms;
mod sending;
pub(crate) mod sites;
mod webhooks;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get};
use cubby_domain::codes::Code;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

pub use parcels::{CompartmentRef, DepositBody, PickupBody};

#[derive(OpenApi)]
#[openapi(
    info(title = "Cubby API", description = "Parcel lockers and parcel rooms: sites, residents, lockers, deposits, pick-ups and the chain of custody. Errors always carry a stable `code`."),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth),
    tags((name = "cubby", description = "Cubby API v1"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        // The webhook event catalogue: what subscribers receive.
        components.schemas.extend(cubby_webhooks::schemas());
        components
            .schemas
            .insert("ErrorCode".to_string(), error_code_schema().into());
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Every error code with its status and meaning: the values `ErrorBody.code`
/// takes.
fn error_code_schema() -> utoipa::openapi::schema::Object {
    use cubby_domain::codes::Code;
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    let listing: Vec<String> = Code::ALL
        .iter()
        .map(|c| format!("- `{}` ({}): {}", c.name(), c.status(), c.description()))
        .collect();
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(Code::ALL.iter().map(|c| c.name())))
        .description(Some(format!(
            "The stable error codes (only ever added, never renamed), with the HTTP status each travels with:\n{}",
            listing.join("\n")
        )))
        .build()
}

/// Every endpoint with its OpenAPI entry: one handler plus one line in its
/// module's `routes()`.
fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(area("", OpenApiRouter::new().routes(routes!(healthz))))
        .merge(area("access", access::routes()))
        .merge(area("admin", admin::routes()))
        .merge(area("audit", audit::routes()))
        .merge(area("carriers", carriers::routes()))
        .merge(area("community", community::routes()))
        .merge(area("incidents", incidents::routes()))
        .merge(area("courier_passes", courier_passes::routes()))
        .merge(area("devices", devices::routes()))
        .merge(area("lockers", lockers::routes()))
        .merge(area("me", me::routes()))
        .merge(area("parcels", parcels::routes()))
        .merge(area("passkeys", passkeys::routes()))
        .merge(area("planning", planning::routes()))
        .merge(area("points", points::routes()))
        .merge(area("policies", policies::routes()))
        .merge(area("push", push::routes()))
        .merge(area("reservations", reservations::routes()))
        .merge(area("returns", returns::routes()))
        .merge(area("sending", sending::routes()))
        .merge(area("rooms", rooms::routes()))
        .merge(area("sites", sites::routes()))
        .merge(area("webhooks", webhooks::routes()))
}

/// Tags an area's operations with its name, as the document has always
/// grouped them (the empty name for `/healthz`, which belongs to none).
fn area(name: &str, mut routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    let tags: Vec<String> = if name.is_empty() {
        Vec::new()
    } else {
        vec![name.to_string()]
    };
    for item in routes.get_openapi_mut().paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            op.tags.get_or_insert_with(|| tags.clone());
        }
    }
    routes
}

/// The OpenAPI document as served and as committed in `docs/openapi.json`.
pub fn openapi_json() -> String {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = api_routes().into_openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_string();
        doc.to_pretty_json().unwrap_or_else(|_| "{}".to_string())
    })
    .clone()
}

/// The API's routes, its docs page and `/healthz`; the caller adds the
/// shared layers and the state.
pub fn routes() -> Router<AppState> {
    let (api, _) = api_routes().split_for_parts();
    api.route("/api/v1/openapi.json", get(openapi_handler))
        // Unknown endpoints under the API answer in the API's error shape.
        .route("/api/v1", any(api_not_found))
        .route("/api/v1/{*rest}", any(api_not_found))
        .route("/api/docs", get(docs_page))
        .route("/api/docs.js", get(docs_script))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", security(()), responses((status = 200, description = "The server is up", body = String)))]
pub async fn healthz() -> &'static str {
    "ok"
}

async fn openapi_handler() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json()).into_response()
}

async fn api_not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such endpoint")
}

const DOCS_HTML: &str = include_str!("docs.html");

async fn docs_page() -> Html<&'static str> {
    Html(DOCS_HTML)
}

async fn docs_script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("docs.js"),
    )
        .into_response()
}

/// Path ids of the wrong shape are simply not found (no parsing errors leak).
pub(crate) use crate::app::check_id;
