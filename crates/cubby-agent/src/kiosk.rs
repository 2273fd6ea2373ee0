//! The kiosk's local HTTP endpoint, served by the agent so that it works with
//! the network down: the touchscreen page (collect with a code or QR scan,
//! deliver with a courier pass) and its JSON API under `/kiosk/api`.
//! Simulator controls exist only when the board is simulated.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cubby_boards::{LockAddress, SimulatedBank};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::engine::{DepositAnswer, DoorAnswer, DropOffAnswer, Input, KioskAnswer, ReturnsAnswer};

#[derive(Clone)]
struct Kiosk {
    engine: mpsc::Sender<Input>,
    sim: Option<SimulatedBank>,
}

/// Serves the kiosk page and its API on `listener` until the process ends,
/// within `limits` (header and body deadlines, connection cap).
pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: mpsc::Sender<Input>,
    sim: Option<SimulatedBank>,
    limits: cubby_http::Limits,
) {
    let mut app = Router::new()
        .route("/", get(page))
        .route("/kiosk/kiosk.js", get(script))
        .route("/kiosk/kiosk.css", get(style))
        .route("/kiosk/api/pickup", post(pickup))
        .route("/kiosk/api/deposit", post(deposit))
        .route("/kiosk/api/drop-off", post(drop_off))
        .route("/kiosk/api/collect-returns", post(collect_returns))
        .route("/kiosk/api/door", post(door))
        .route("/kiosk/api/phone-challenge", post(phone_challenge))
        .route("/kiosk/api/phone-pickup", post(phone_pickup))
        .route("/kiosk/api/state", get(state))
        .route("/kiosk/api/maintenance", post(maintenance));
    if sim.is_some() {
        app = app
            .route("/sim/releases", get(sim_releases))
            .route("/sim/{board}/{lock}/{action}", post(sim_act).get(sim_act));
    }
    let app = app
        .layer(axum::middleware::from_fn(kiosk_headers))
        .with_state(Kiosk { engine, sim });
    if let Err(e) = cubby_http::serve(listener, app, limits, std::future::pending()).await {
        tracing::error!("kiosk server stopped: {e}");
    }
}

/// The touchscreen page and its script, embedded: the kiosk loads nothing
/// from anywhere else.
const PAGE: &str = include_str!("../assets/kiosk.html");
const SCRIPT: &str = include_str!("../assets/kiosk.js");

/// The kiosk loads only what this agent serves, and no page may frame it.
async fn kiosk_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    use axum::http::{HeaderValue, header};
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

const STYLE: &str = include_str!("../assets/kiosk.css");

async fn style() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLE,
    )
        .into_response()
}

async fn page() -> Html<&'static str> {
    Html(PAGE)
}

async fn script() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/javascript; charset=utf-8",
        )],
        SCRIPT,
    )
        .into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PickupBody {
    code: String,
}

async fn ask<T>(k: &Kiosk, make: impl FnOnce(oneshot::Sender<T>) -> Input) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    k.engine.send(make(tx)).await.ok()?;
    rx.await.ok()
}

/// A new one-time challenge for the kiosk screen (shown as a QR code) that a
/// signed-in phone turns into a pick-up token at the server.
async fn phone_challenge(State(k): State<Kiosk>) -> Response {
    match ask(&k, Input::PhoneChallenge).await {
        Some((nonce, expires_ms)) => {
            Json(json!({ "nonce": nonce, "expires_ms": expires_ms })).into_response()
        }
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PhoneBody {
    /// The token from the server, as it came (JSON text).
    token: String,
}

async fn phone_pickup(State(k): State<Kiosk>, Json(body): Json<PhoneBody>) -> Response {
    if body.token.len() > 4096 {
        return refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "token too long",
        );
    }
    let token = body.token;
    answer_pickup(ask(&k, |answer| Input::PhonePickup { token, answer }).await)
}

async fn pickup(State(k): State<Kiosk>, Json(body): Json<PickupBody>) -> Response {
    let code = body.code;
    answer_pickup(ask(&k, |answer| Input::Pickup { code, answer }).await)
}

/// The kiosk's answer to a pick-up, whatever was presented.
fn answer_pickup(answer: Option<KioskAnswer>) -> Response {
    match answer {
        Some(KioskAnswer::Opened(doors)) => (StatusCode::OK, Json(json!({ "opened": doors }))).into_response(),
        // One answer for a wrong code and an unknown parcel.
        Some(KioskAnswer::Rejected) => (
            StatusCode::FORBIDDEN,
            Json(json!({
                "code": cubby_domain::credentials::CODE_REJECTED,
                "message": cubby_domain::credentials::CODE_REJECTED_MESSAGE,
            })),
        )
            .into_response(),
        Some(KioskAnswer::Locked { until_ms }) => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "code": "keypad_locked", "message": "Too many wrong codes. Use your QR code or ask staff.", "until_ms": until_ms })),
        )
            .into_response(),
        Some(KioskAnswer::Unavailable(why)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "code": "unavailable", "message": why })),
        )
            .into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DoorBody {
    /// The door whose keypad the PIN was typed at.
    door_id: String,
    pin: String,
}

/// A PIN typed at a door's keypad (a keypad wired to this controller, or an
/// OSDP reader). Every refusal gets the same answer as a wrong pick-up code.
async fn door(State(k): State<Kiosk>, Json(body): Json<DoorBody>) -> Response {
    let DoorBody { door_id, pin } = body;
    if door_id.len() > 64 || pin.len() > 64 {
        return refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "door_id or pin too long",
        );
    }
    match ask(&k, |answer| Input::Door {
        door_id,
        pin,
        answer,
    })
    .await
    {
        Some(DoorAnswer::Opened) => (StatusCode::OK, Json(json!({ "opened": true }))).into_response(),
        Some(DoorAnswer::Denied) => refusal(
            StatusCode::FORBIDDEN,
            cubby_domain::credentials::CODE_REJECTED,
            cubby_domain::credentials::CODE_REJECTED_MESSAGE,
        ),
        Some(DoorAnswer::Locked { until_ms }) => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "code": "keypad_locked", "message": "Too many wrong codes. Ask staff.", "until_ms": until_ms })),
        )
            .into_response(),
        Some(DoorAnswer::Unavailable(why)) => {
            refusal(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &why)
        }
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepositBody {
    /// The courier pass code.
    pass: String,
    /// The parcel's tracking number (typed or scanned).
    tracking_number: String,
}

fn refusal(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

/// A courier deposits a pre-advised parcel with a courier pass; the locker
/// picks and opens the door itself.
async fn deposit(State(k): State<Kiosk>, Json(body): Json<DepositBody>) -> Response {
    let DepositBody {
        pass,
        tracking_number,
    } = body;
    let asked = ask(&k, |answer| Input::Deposit {
        pass,
        tracking_number,
        answer,
    })
    .await;
    match asked {
        Some(DepositAnswer::Opened {
            compartment,
            parcel_id,
        }) => Json(json!({ "opened": [compartment], "parcel_id": parcel_id })).into_response(),
        Some(DepositAnswer::PassRejected) => refusal(
            StatusCode::FORBIDDEN,
            "pass_rejected",
            "The courier pass was not accepted.",
        ),
        Some(DepositAnswer::NotExpected) => refusal(
            StatusCode::NOT_FOUND,
            "parcel_not_expected",
            "This parcel is not pre-advised for this locker. Hand it to staff or have it announced first.",
        ),
        Some(DepositAnswer::AlreadyDeposited) => refusal(
            StatusCode::CONFLICT,
            "already_deposited",
            "This parcel was already deposited here.",
        ),
        Some(DepositAnswer::NoFit(why)) => {
            refusal(StatusCode::CONFLICT, "no_compartment_fits", &why)
        }
        Some(DepositAnswer::Locked { until_ms }) => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "code": "keypad_locked", "message": "Too many wrong codes. Ask staff.", "until_ms": until_ms })),
        )
            .into_response(),
        Some(DepositAnswer::Unavailable(why)) => {
            refusal(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &why)
        }
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// A resident drops a return or shipment with the code they were given; the
/// locker picks and opens a free door that fits.
async fn drop_off(State(k): State<Kiosk>, Json(body): Json<PickupBody>) -> Response {
    let code = body.code;
    match ask(&k, |answer| Input::DropOff { code, answer }).await {
        Some(DropOffAnswer::Opened {
            compartment,
            parcel_id,
        }) => Json(json!({ "opened": [compartment], "parcel_id": parcel_id })).into_response(),
        // One answer for a wrong, used or expired code.
        Some(DropOffAnswer::Rejected) => refusal(
            StatusCode::FORBIDDEN,
            cubby_domain::credentials::CODE_REJECTED,
            cubby_domain::credentials::CODE_REJECTED_MESSAGE,
        ),
        Some(DropOffAnswer::NoFit(why)) => {
            refusal(StatusCode::CONFLICT, "no_compartment_fits", &why)
        }
        Some(DropOffAnswer::Locked { until_ms }) => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "code": "keypad_locked", "message": "Too many wrong codes. Ask staff.", "until_ms": until_ms })),
        )
            .into_response(),
        Some(DropOffAnswer::Unavailable(why)) => {
            refusal(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &why)
        }
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PassBody {
    pass: String,
}

/// A courier takes every parcel waiting here for its carrier with a courier
/// pass; the locker opens their doors.
async fn collect_returns(State(k): State<Kiosk>, Json(body): Json<PassBody>) -> Response {
    let pass = body.pass;
    match ask(&k, |answer| Input::CollectReturns { pass, answer }).await {
        Some(ReturnsAnswer::Opened {
            compartments,
            parcel_ids,
        }) => Json(json!({ "opened": compartments, "parcel_ids": parcel_ids })).into_response(),
        Some(ReturnsAnswer::PassRejected) => refusal(
            StatusCode::FORBIDDEN,
            "pass_rejected",
            "The courier pass was not accepted.",
        ),
        Some(ReturnsAnswer::NothingToCollect) => refusal(
            StatusCode::NOT_FOUND,
            "nothing_to_collect",
            "Nothing here waits for your carrier.",
        ),
        Some(ReturnsAnswer::Locked { until_ms }) => (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "code": "keypad_locked", "message": "Too many wrong codes. Ask staff.", "until_ms": until_ms })),
        )
            .into_response(),
        Some(ReturnsAnswer::Unavailable(why)) => {
            refusal(StatusCode::SERVICE_UNAVAILABLE, "unavailable", &why)
        }
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn state(State(k): State<Kiosk>) -> Response {
    match ask(&k, Input::Snapshot).await {
        Some(s) => Json(s).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaintenanceBody {
    on: bool,
}

/// Maintenance mode lifts the remote-open cap. It can only be switched here,
/// at the locker, never from the server.
async fn maintenance(State(k): State<Kiosk>, Json(body): Json<MaintenanceBody>) -> Response {
    let on = body.on;
    match ask(&k, |answer| Input::Maintenance { on, answer }).await {
        Some(()) => Json(json!({ "maintenance": on })).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn sim_releases(State(k): State<Kiosk>) -> Response {
    let Some(sim) = &k.sim else {
        return StatusCode::NOT_FOUND.into_response();
    };
    Json(json!({ "total": sim.total_releases() })).into_response()
}

/// A person at the simulated locker: close a door, put or take an item, force a door.
async fn sim_act(
    State(k): State<Kiosk>,
    Path((board, lock, action)): Path<(u8, u8, String)>,
) -> Response {
    let Some(sim) = &k.sim else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let addr = LockAddress { board, lock };
    let ok = match action.as_str() {
        "close" => sim.close_door(addr),
        "put" => sim.put_item(addr),
        "take" => sim.take_item(addr),
        "force" => sim.force_open(addr),
        "releases" => return Json(json!({ "releases": sim.releases(addr) })).into_response(),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    if ok {
        Json(
            json!({ "ok": true, "releases": sim.releases(addr), "door_open": sim.door_open(addr) }),
        )
        .into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}
