//! The kiosk's local HTTP endpoint, served by the agent so that it works with
//! the network down. JSON for the kiosk screen (issue: web UI) and for tests;
//! a minimal form page for people. Simulator controls exist only when the
//! board is simulated.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use cubby_boards::{LockAddress, SimulatedBank};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::engine::{Input, KioskAnswer};

#[derive(Clone)]
struct Kiosk {
    engine: mpsc::Sender<Input>,
    sim: Option<SimulatedBank>,
}

pub async fn serve(
    listener: tokio::net::TcpListener,
    engine: mpsc::Sender<Input>,
    sim: Option<SimulatedBank>,
) {
    let mut app = Router::new()
        .route("/", get(page))
        .route("/api/pickup", post(pickup))
        .route("/api/state", get(state))
        .route("/api/maintenance", post(maintenance));
    if sim.is_some() {
        app = app
            .route("/sim/releases", get(sim_releases))
            .route("/sim/{board}/{lock}/{action}", post(sim_act).get(sim_act));
    }
    let app = app.with_state(Kiosk { engine, sim });
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!("kiosk server stopped: {e}");
    }
}

const PAGE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Cubby locker</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Collect a parcel</h1>
<p>Type your pick-up code or scan your QR code.</p>
<p>This screen's full interface arrives with the web UI; the locker answers on <code>POST /api/pickup</code>.</p>
</main></body></html>"#;

async fn page() -> Html<&'static str> {
    Html(PAGE)
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

async fn pickup(State(k): State<Kiosk>, Json(body): Json<PickupBody>) -> Response {
    let code = body.code;
    match ask(&k, |answer| Input::Pickup { code, answer }).await {
        Some(KioskAnswer::Opened(doors)) => (StatusCode::OK, Json(json!({ "opened": doors }))).into_response(),
        // One answer for a wrong code and an unknown parcel.
        Some(KioskAnswer::Rejected) => (
            StatusCode::FORBIDDEN,
            Json(json!({ "code": "code_rejected", "message": "That code did not open anything." })),
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
