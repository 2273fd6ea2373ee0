//! The HTTP API under `/api/v1`, its OpenAPI document and the offline docs page.

pub(crate) mod access;
pub(crate) mod admin;
mod courier_passes;
pub(crate) mod devices;
pub(crate) mod lockers;
pub(crate) mod me;
pub(crate) mod parcels;
mod passkeys;
pub(crate) mod planning;
mod policies;
mod push;
mod returns;
pub(crate) mod rooms;
pub(crate) mod sites;
mod webhooks;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use cubby_domain::codes::Code;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

use crate::AppState;
use crate::error::{ApiError, ErrorBody};

pub use parcels::{CompartmentRef, DepositBody, PickupBody};

#[derive(OpenApi)]
#[openapi(
    info(title = "Cubby API", description = "Parcel lockers and parcel rooms: sites, residents, lockers, deposits, pick-ups and the chain of custody. Errors always carry a stable `code`."),
    paths(
        healthz,
        admin::create_organisation, admin::list_organisations, admin::create_token, admin::create_carrier,
        sites::create_site, sites::list_sites, sites::get_site, sites::create_building, sites::create_resident, sites::list_residents,
        sites::get_resident, sites::create_room,
        lockers::create_locker, lockers::list_lockers, lockers::get_locker, lockers::set_compartment_status, lockers::reset_keypad,
        lockers::reissue_code,
        devices::add_device, devices::list_devices, devices::revoke_device, devices::device_events,
        devices::open_compartment, devices::list_incidents,
        courier_passes::issue_pass, courier_passes::revoke_pass,
        access::create_door, access::list_doors, access::create_path, access::list_paths,
        access::issue_grant, access::list_grants, access::get_grant, access::revoke_grant,
        access::issue_offline_code,
        me::get_me, me::my_parcels, me::hold_parcel, me::set_vacation, me::household, me::add_member,
        me::remove_member, me::add_delegate, me::delegates, me::revoke_delegate, me::issue_my_grant,
        me::my_grants, me::revoke_my_grant, me::courier_entries, me::my_parcel_not_found, me::phone_pickup,
        rooms::add_courier, rooms::list_couriers, rooms::start_visit, rooms::set_room_path, rooms::shelve,
        rooms::parcel_not_found, rooms::room_entries, passkeys::invite,
        passkeys::api_step_up_start, passkeys::api_step_up_finish,
        passkeys::api_passkey_invite,
        planning::create_plan, planning::site_analytics, planning::site_forecast,
        planning::locker_capacity_forecast, policies::get_policy, policies::put_policy, policies::list_messages,
        policies::list_templates, policies::put_template, policies::delete_template,
        webhooks::create_webhook, webhooks::list_webhooks, webhooks::disable_webhook,
        webhooks::list_deliveries, webhooks::replay, returns::list_returns, returns::return_parcel,
        push::push_key, push::subscribe, push::unsubscribe,
        parcels::announce, parcels::deposit, parcels::pickup, parcels::get_parcel, parcels::list_parcels, parcels::transition,
    ),
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

/// The OpenAPI document as served and as committed in `docs/openapi.json`.
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc.to_pretty_json().unwrap_or_else(|_| "{}".to_string())
}

/// The API's routes, its docs page and `/healthz`; the caller adds the
/// shared layers and the state.
pub fn routes() -> Router<AppState> {
    let api = Router::new()
        .route(
            "/organisations",
            post(admin::create_organisation).get(admin::list_organisations),
        )
        .route("/tokens", post(admin::create_token))
        .route(
            "/tokens/{token_id}/passkey-invites",
            post(passkeys::api_passkey_invite),
        )
        .route("/step-up/start", post(passkeys::api_step_up_start))
        .route("/step-up/finish", post(passkeys::api_step_up_finish))
        .route("/carriers", post(admin::create_carrier))
        .route("/sites", post(sites::create_site).get(sites::list_sites))
        .route("/sites/{site_id}", get(sites::get_site))
        .route("/sites/{site_id}/buildings", post(sites::create_building))
        .route(
            "/sites/{site_id}/residents",
            post(sites::create_resident).get(sites::list_residents),
        )
        .route("/residents/{resident_id}", get(sites::get_resident))
        .route(
            "/residents/{resident_id}/portal-invites",
            post(passkeys::invite),
        )
        .route("/sites/{site_id}/parcel-rooms", post(sites::create_room))
        .route(
            "/sites/{site_id}/lockers",
            post(lockers::create_locker).get(lockers::list_lockers),
        )
        .route("/lockers/{locker_id}", get(lockers::get_locker))
        .route(
            "/lockers/{locker_id}/compartments/{compartment_id}/status",
            post(lockers::set_compartment_status),
        )
        .route(
            "/lockers/{locker_id}/keypad/reset",
            post(lockers::reset_keypad),
        )
        .route(
            "/lockers/{locker_id}/residents/{resident_id}/code",
            post(lockers::reissue_code),
        )
        .route("/sites/{site_id}/announcements", post(parcels::announce))
        .route("/sites/{site_id}/parcels", get(parcels::list_parcels))
        .route("/lockers/{locker_id}/deposits", post(parcels::deposit))
        .route("/lockers/{locker_id}/pickups", post(parcels::pickup))
        .route("/parcels/{parcel_id}", get(parcels::get_parcel))
        .route(
            "/parcels/{parcel_id}/transitions",
            post(parcels::transition),
        )
        .route(
            "/lockers/{locker_id}/devices",
            post(devices::add_device).get(devices::list_devices),
        )
        .route("/devices/{device_id}/revoke", post(devices::revoke_device))
        .route("/devices/{device_id}/events", get(devices::device_events))
        .route(
            "/lockers/{locker_id}/compartments/{label}/open",
            post(devices::open_compartment),
        )
        .route("/sites/{site_id}/incidents", get(devices::list_incidents))
        .route(
            "/lockers/{locker_id}/courier-passes",
            post(courier_passes::issue_pass),
        )
        .route(
            "/courier-passes/{pass_id}/revoke",
            post(courier_passes::revoke_pass),
        )
        .route(
            "/sites/{site_id}/doors",
            post(access::create_door).get(access::list_doors),
        )
        .route(
            "/sites/{site_id}/door-paths",
            post(access::create_path).get(access::list_paths),
        )
        .route(
            "/sites/{site_id}/access-grants",
            post(access::issue_grant).get(access::list_grants),
        )
        .route("/access-grants/{grant_id}", get(access::get_grant))
        .route(
            "/doors/{door_id}/offline-codes",
            post(access::issue_offline_code),
        )
        .route("/me", get(me::get_me))
        .route("/me/parcels", get(me::my_parcels))
        .route("/me/parcels/{parcel_id}/delegates", post(me::add_delegate))
        .route(
            "/me/parcels/{parcel_id}/not-found",
            post(me::my_parcel_not_found),
        )
        .route("/me/parcels/{parcel_id}/{action}", post(me::hold_parcel))
        .route("/me/vacation", put(me::set_vacation))
        .route("/me/household", get(me::household).post(me::add_member))
        .route(
            "/me/household/{resident_id}/remove",
            post(me::remove_member),
        )
        .route("/me/delegates", get(me::delegates))
        .route(
            "/me/delegates/{delegate_id}/revoke",
            post(me::revoke_delegate),
        )
        .route(
            "/me/access-grants",
            get(me::my_grants).post(me::issue_my_grant),
        )
        .route(
            "/me/access-grants/{grant_id}/revoke",
            post(me::revoke_my_grant),
        )
        .route("/me/courier-entries", get(me::courier_entries))
        .route("/me/phone-pickups", post(me::phone_pickup))
        .route(
            "/carriers/{carrier_id}/couriers",
            get(rooms::list_couriers).post(rooms::add_courier),
        )
        .route("/sites/{site_id}/courier-visits", post(rooms::start_visit))
        .route("/parcel-rooms/{room_id}/path", put(rooms::set_room_path))
        .route("/parcel-rooms/{room_id}/parcels", post(rooms::shelve))
        .route("/parcel-rooms/{room_id}/entries", get(rooms::room_entries))
        .route(
            "/parcels/{parcel_id}/not-found",
            post(rooms::parcel_not_found),
        )
        .route(
            "/access-grants/{grant_id}/revoke",
            post(access::revoke_grant),
        )
        .route("/plans", post(planning::create_plan))
        .route(
            "/webhooks",
            post(webhooks::create_webhook).get(webhooks::list_webhooks),
        )
        .route(
            "/webhooks/{webhook_id}/disable",
            post(webhooks::disable_webhook),
        )
        .route(
            "/webhooks/{webhook_id}/deliveries",
            get(webhooks::list_deliveries),
        )
        .route("/webhooks/{webhook_id}/replay", post(webhooks::replay))
        .route("/lockers/{locker_id}/returns", get(returns::list_returns))
        .route("/push/key", get(push::push_key))
        .route(
            "/residents/{resident_id}/push-subscriptions",
            post(push::subscribe),
        )
        .route(
            "/push-subscriptions/{subscription_id}",
            axum::routing::delete(push::unsubscribe),
        )
        .route("/parcels/{parcel_id}/return", post(returns::return_parcel))
        .route("/sites/{site_id}/messages", get(policies::list_messages))
        .route("/sites/{site_id}/templates", get(policies::list_templates))
        .route(
            "/sites/{site_id}/templates/{kind}/{language}/{part}",
            axum::routing::put(policies::put_template).delete(policies::delete_template),
        )
        .route(
            "/sites/{site_id}/policy",
            get(policies::get_policy).put(policies::put_policy),
        )
        .route("/sites/{site_id}/analytics", get(planning::site_analytics))
        .route("/sites/{site_id}/forecast", get(planning::site_forecast))
        .route(
            "/lockers/{locker_id}/capacity-forecast",
            get(planning::locker_capacity_forecast),
        )
        .route("/openapi.json", get(openapi_handler))
        .fallback(api_not_found);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/docs", get(docs_page))
        .route("/api/docs.js", get(docs_script))
        .nest("/api/v1", api)
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
pub(crate) fn check_id(prefix: &str, id: &str, what: &str) -> Result<(), ApiError> {
    if cubby_domain::ids::looks_like(prefix, id) {
        Ok(())
    } else {
        Err(ApiError::not_found(what))
    }
}
