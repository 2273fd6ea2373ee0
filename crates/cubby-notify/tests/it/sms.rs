//! SMS against a local axum server that records what it receives.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine as _;
use cubby_notify::{
    GenericAuth, Language, Notice, NoticeKind, Overrides, SmsConfig, SmsFormat, SmsTransport,
    render,
};
use serde_json::{Value, json};

use crate::support::full;

#[derive(Debug, Clone)]
struct Seen {
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    form: HashMap<String, String>,
    json: Value,
}

#[derive(Clone)]
struct Provider {
    seen: Arc<Mutex<Vec<Seen>>>,
    reply: Arc<Mutex<(StatusCode, Value)>>,
}

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

async fn twilio(
    State(p): State<Provider>,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    p.seen.lock().unwrap().push(Seen {
        path: format!("/2010-04-01/Accounts/{sid}/Messages.json"),
        authorization: header(&headers, "authorization"),
        content_type: header(&headers, "content-type"),
        form,
        json: Value::Null,
    });
    let (status, body) = p.reply.lock().unwrap().clone();
    (status, Json(body))
}

async fn generic(
    State(p): State<Provider>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    p.seen.lock().unwrap().push(Seen {
        path: "/v1/messages".into(),
        authorization: header(&headers, "authorization"),
        content_type: header(&headers, "content-type"),
        form: HashMap::new(),
        json: body,
    });
    let (status, body) = p.reply.lock().unwrap().clone();
    (status, Json(body))
}

/// Starts the fake provider on 127.0.0.1:0; returns its base URL.
async fn start_provider() -> (String, Provider) {
    let provider = Provider {
        seen: Arc::default(),
        reply: Arc::new(Mutex::new((StatusCode::CREATED, json!({"sid": "SM0123"})))),
    };
    let app = Router::new()
        .route("/2010-04-01/Accounts/{sid}/Messages.json", post(twilio))
        .route("/v1/messages", post(generic))
        .with_state(provider.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), provider)
}

fn twilio_config(base_url: String) -> SmsConfig {
    SmsConfig {
        base_url,
        account_sid: "AC0001".into(),
        auth_token: "tok-secret".into(),
        from: "+15550001111".into(),
        format: SmsFormat::Twilio,
        timeout: None,
    }
}

#[tokio::test]
async fn twilio_request_shape() {
    let (url, provider) = start_provider().await;
    // An outbox row as another service might have written it, with fields a
    // notice must never carry.
    let row = r#"{"kind":"parcel_ready","language":"pl","recipient_name":"Ola",
        "site_name":"Dom Zielony","locker_name":"Paczkomat 1","code":"90817263",
        "merchant":"MegaShop","item_description":"Laptop","parcel_count":1}"#;
    let notice = Notice::from_json(row).unwrap();
    let rendered = render(&notice, &Overrides::new()).unwrap();
    let sms = SmsTransport::new(twilio_config(url)).unwrap();
    assert!(!format!("{sms:?}").contains("tok-secret"));

    let receipt = sms.send("+48600100200", &rendered.sms).await.unwrap();
    assert_eq!(receipt.status, 201);
    assert_eq!(receipt.provider_id.as_deref(), Some("SM0123"));

    let seen = provider.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let s = &seen[0];
    assert_eq!(s.path, "/2010-04-01/Accounts/AC0001/Messages.json");
    let expected_auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("AC0001:tok-secret")
    );
    assert_eq!(s.authorization.as_deref(), Some(expected_auth.as_str()));
    assert_eq!(
        s.content_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(s.form.get("To").map(String::as_str), Some("+48600100200"));
    assert_eq!(s.form.get("From").map(String::as_str), Some("+15550001111"));
    let body = &s.form["Body"];
    assert_eq!(body, &rendered.sms);
    assert!(body.contains("90817263"), "{body}");
    assert!(body.contains("Dom Zielony"), "{body}");
    assert!(
        !body.contains("MegaShop") && !body.contains("Laptop"),
        "{body}"
    );
    assert_eq!(s.form.len(), 3);
}

#[tokio::test]
async fn generic_json_request_shape() {
    let (url, provider) = start_provider().await;
    *provider.reply.lock().unwrap() = (StatusCode::OK, json!({"id": 77}));
    let mut cfg = twilio_config(format!("{url}/"));
    cfg.format = SmsFormat::Generic {
        path: "/v1/messages".into(),
        auth: GenericAuth::Bearer,
    };
    let sms = SmsTransport::new(cfg).unwrap();
    let rendered = render(
        &full(NoticeKind::CodeReissued, Language::De),
        &Overrides::new(),
    )
    .unwrap();
    let receipt = sms.send("+4915112345678", &rendered.sms).await.unwrap();
    assert_eq!(receipt.provider_id.as_deref(), Some("77"));
    let s = provider.seen.lock().unwrap()[0].clone();
    assert_eq!(s.authorization.as_deref(), Some("Bearer tok-secret"));
    assert_eq!(s.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        s.json,
        json!({"to": "+4915112345678", "from": "+15550001111", "body": rendered.sms})
    );
    assert!(rendered.sms.contains("48213907"));
}

#[tokio::test]
async fn provider_errors_are_classified() {
    let (url, provider) = start_provider().await;
    let sms = SmsTransport::new(twilio_config(url)).unwrap();
    let cases = [
        (StatusCode::SERVICE_UNAVAILABLE, true),
        (StatusCode::INTERNAL_SERVER_ERROR, true),
        (StatusCode::TOO_MANY_REQUESTS, true),
        (StatusCode::BAD_REQUEST, false),
        (StatusCode::UNAUTHORIZED, false),
        (StatusCode::NOT_FOUND, false),
    ];
    for (status, retryable) in cases {
        *provider.reply.lock().unwrap() = (
            status,
            json!({"code": 21211, "message": "bad 'To' +48600100200 body Code 90817263"}),
        );
        let err = sms.send("+48600100200", "Code 90817263").await.unwrap_err();
        assert_eq!(err.retryable, retryable, "{status}: {err}");
        assert!(err.message.contains(&status.as_u16().to_string()), "{err}");
        assert!(err.message.contains("21211"), "{err}");
        // The reply body (which may echo number or code) is not copied.
        assert!(
            !err.message.contains("90817263") && !err.message.contains("+48600100200"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn unreachable_provider_is_retryable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sms = SmsTransport::new(twilio_config(format!("http://127.0.0.1:{port}"))).unwrap();
    let err = sms.send("+48600100200", "hi").await.unwrap_err();
    assert!(err.retryable, "{err}");
}
