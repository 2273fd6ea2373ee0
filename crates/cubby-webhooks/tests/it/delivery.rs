//! Delivery against a real HTTP server on 127.0.0.1:0.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use cubby_webhooks::{
    DEFAULT_TOLERANCE, Event, EventData, EventType, Targets, WebhookHeaders, client, deliver,
    deliver_with_timeout, verify,
};

use crate::{rng, secrets};

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, HeaderMap, Bytes)>>>);

impl Seen {
    fn take(&self) -> Vec<(String, HeaderMap, Bytes)> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

async fn hook(
    State(seen): State<Seen>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    seen.0
        .lock()
        .expect("lock")
        .push((kind.clone(), headers, body));
    match kind.as_str() {
        "ok" => StatusCode::NO_CONTENT.into_response(),
        "unavailable" => (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "30")],
            "down for maintenance",
        )
            .into_response(),
        "throttled" => StatusCode::TOO_MANY_REQUESTS.into_response(),
        "bad" => (StatusCode::BAD_REQUEST, "unknown \u{1b}[31mevent\n").into_response(),
        "gone" => StatusCode::GONE.into_response(),
        "moved" => (StatusCode::FOUND, [("location", "/hooks/ok")]).into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            StatusCode::OK.into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn start() -> (String, Seen) {
    let seen = Seen::default();
    let app = Router::new()
        .route("/hooks/{kind}", post(hook))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hooks"), seen)
}

fn event() -> Event {
    Event::generate(
        &mut rng(5),
        Utc::now(),
        EventData::example(EventType::ParcelDeposited),
    )
}

#[tokio::test]
async fn delivered_requests_carry_verifiable_standard_webhooks_headers() {
    let (base, seen) = start().await;
    let keys = secrets(31, 2);
    let event = event();
    let now = Utc::now();
    let out = deliver(
        &client(Targets::WITH_LOOPBACK).expect("client"),
        &format!("{base}/ok"),
        &keys,
        &event,
        "msg_deliver_1",
        now,
    )
    .await;
    assert!(out.delivered, "{out:?}");
    assert_eq!(out.status, Some(204));
    assert!(
        !out.retryable && !out.gone && out.error.is_none(),
        "{out:?}"
    );

    let mut requests = seen.take();
    assert_eq!(requests.len(), 1);
    let (_, headers, body) = requests.remove(0);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["webhook-id"], "msg_deliver_1");
    assert_eq!(
        headers["webhook-timestamp"],
        now.timestamp().to_string().as_str()
    );
    assert!(
        headers["user-agent"]
            .to_str()
            .expect("ascii")
            .starts_with("Cubby-Webhooks/")
    );
    let parsed = WebhookHeaders::from_header_map(&headers).expect("headers present");
    assert_eq!(parsed.signature.split(' ').count(), 2);
    // Each of the rotated secrets verifies on its own.
    for k in &keys {
        assert_eq!(
            verify(
                std::slice::from_ref(k),
                &parsed,
                &body,
                Utc::now(),
                DEFAULT_TOLERANCE
            ),
            Ok(())
        );
    }
    assert!(
        verify(
            &secrets(32, 1),
            &parsed,
            &body,
            Utc::now(),
            DEFAULT_TOLERANCE
        )
        .is_err()
    );
    // The body is exactly the event.
    let sent: Event = serde_json::from_slice(&body).expect("json body");
    assert_eq!(sent, event);
    assert_eq!(body.as_ref(), event.to_body().expect("body").as_slice());
}

#[tokio::test]
async fn answers_are_classified() {
    let (base, seen) = start().await;
    let keys = secrets(33, 1);
    let c = client(Targets::WITH_LOOPBACK).expect("client");
    let event = event();
    let send = |kind: &str| {
        let url = format!("{base}/{kind}");
        let (c, keys, event) = (c.clone(), keys.clone(), event.clone());
        async move { deliver(&c, &url, &keys, &event, "msg_classify", Utc::now()).await }
    };

    let out = send("unavailable").await;
    assert_eq!(out.status, Some(503));
    assert!(out.retryable && !out.delivered && !out.gone, "{out:?}");
    assert_eq!(out.retry_after, Some(Duration::from_secs(30)));
    let err = out.error.expect("error");
    assert!(
        err.starts_with("HTTP 503 Service Unavailable") && !err.contains("down for maintenance"),
        "the answer's body is never echoed: {err}"
    );

    let out = send("throttled").await;
    assert_eq!(out.status, Some(429));
    assert!(out.retryable, "{out:?}");

    let out = send("bad").await;
    assert_eq!(out.status, Some(400));
    assert!(!out.retryable && !out.gone && !out.delivered, "{out:?}");
    let err = out.error.expect("error");
    assert!(
        !err.chars().any(char::is_control),
        "control characters kept: {err:?}"
    );

    let out = send("gone").await;
    assert_eq!(out.status, Some(410));
    assert!(out.gone && !out.retryable && !out.delivered, "{out:?}");

    let out = send("missing").await;
    assert_eq!(out.status, Some(404));
    assert!(!out.retryable && !out.gone, "{out:?}");

    // Redirects are a failure and are not followed.
    seen.take();
    let out = send("moved").await;
    assert_eq!(out.status, Some(302));
    assert!(out.retryable && !out.delivered, "{out:?}");
    assert!(
        out.error
            .expect("error")
            .contains("redirects are not followed")
    );
    let kinds: Vec<String> = seen.take().into_iter().map(|(k, _, _)| k).collect();
    assert_eq!(kinds, ["moved"]);
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    // A port that was just free: nobody listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let out = deliver(
        &client(Targets::WITH_LOOPBACK).expect("client"),
        &format!("http://127.0.0.1:{port}/hooks/ok?token=s3cr3t"),
        &secrets(34, 1),
        &event(),
        "msg_refused",
        Utc::now(),
    )
    .await;
    assert_eq!(out.status, None);
    assert!(out.retryable && !out.delivered && !out.gone, "{out:?}");
    let err = out.error.expect("error");
    assert!(err.contains("could not connect"), "{err}");
    assert!(
        !err.contains("s3cr3t"),
        "URL query leaked into the error: {err}"
    );
}

#[tokio::test]
async fn timeouts_are_retryable() {
    let (base, _seen) = start().await;
    let out = deliver_with_timeout(
        &client(Targets::WITH_LOOPBACK).expect("client"),
        &format!("{base}/slow"),
        &secrets(35, 1),
        &event(),
        "msg_slow",
        Utc::now(),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(out.status, None);
    assert!(out.retryable, "{out:?}");
    assert!(
        out.error
            .as_deref()
            .is_some_and(|e| e.contains("timed out")),
        "{out:?}"
    );
    assert!(out.duration_ms >= 250 && out.duration_ms < 3000, "{out:?}");
}

#[tokio::test]
async fn refused_before_sending() {
    let (base, seen) = start().await;
    let c = client(Targets::WITH_LOOPBACK).expect("client");
    let e = event();
    let now = Utc::now();
    // Not https and not loopback.
    let out = deliver(
        &c,
        "http://hooks.example.com/x",
        &secrets(36, 1),
        &e,
        "msg_x",
        now,
    )
    .await;
    assert!(!out.retryable && out.status.is_none(), "{out:?}");
    assert!(out.error.expect("error").contains("https"));
    // A message id that would make the signed content ambiguous.
    let out = deliver(&c, &format!("{base}/ok"), &secrets(36, 1), &e, "msg.x", now).await;
    assert!(!out.retryable && out.status.is_none(), "{out:?}");
    // No secret.
    let out = deliver(&c, &format!("{base}/ok"), &[], &e, "msg_x", now).await;
    assert!(!out.retryable && out.status.is_none(), "{out:?}");
    assert!(seen.take().is_empty(), "nothing may be sent");
}

#[tokio::test]
async fn a_public_only_client_never_connects_to_this_machine() {
    let (base, seen) = start().await;
    let port = base
        .trim_end_matches("/hooks")
        .rsplit(':')
        .next()
        .expect("port")
        .to_string();
    let c = client(Targets::PUBLIC).expect("client");
    let e = event();
    // By literal (refused before any connection) and by a name that
    // resolves to loopback (dropped by the resolver at connect time).
    for url in [
        format!("{base}/ok"),
        format!("http://localhost:{port}/hooks/ok"),
        format!("https://localhost:{port}/hooks/ok"),
    ] {
        let out = deliver(&c, &url, &secrets(33, 1), &e, "msg_ssrf", Utc::now()).await;
        assert!(!out.delivered && out.status.is_none(), "{url}: {out:?}");
    }
    assert!(
        seen.0.lock().unwrap().is_empty(),
        "a request reached this machine"
    );
}
