//! Web push through the real binary: a subscribed browser's push service
//! receives the notice encrypted for that browser (RFC 8291) with a VAPID
//! token the server signed (RFC 8292); the test plays browser and push
//! service and decrypts it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cubby_testkit::{CubbyProcess, eventually};
use p256::ecdsa::signature::Verifier;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use serde_json::{Value, json};

use crate::{bin, parcel, seed, small_bank};

type Pushed = Arc<Mutex<Vec<(HashMap<String, String>, Vec<u8>)>>>;

#[tokio::test]
async fn notices_are_pushed_encrypted_to_subscribed_browsers() {
    // The browser's keys.
    let ua_secret = web_push_native::p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
    let ua_public =
        URL_SAFE_NO_PAD.encode(ua_secret.public_key().to_encoded_point(false).as_bytes());
    let auth_bytes = [9u8; 16];
    let auth = URL_SAFE_NO_PAD.encode(auth_bytes);

    // The push service.
    let pushed: Pushed = Arc::default();
    let seen = pushed.clone();
    let app = axum::Router::new().route(
        "/push/{id}",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                let h = headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect();
                seen.lock().unwrap().push((h, body.to_vec()));
                StatusCode::CREATED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let p = CubbyProcess::start(bin(), None);
    let w = seed(&p, small_bank()).await;
    let (_, key) = w.admin.get("/api/v1/push/key").await;
    let server_key = key["public_key"].as_str().unwrap().to_string();
    let path = format!("/api/v1/residents/{}/push-subscriptions", w.residents[0]);
    for (body, field) in [
        (
            json!({"endpoint": format!("{origin}/push/a"), "keys": {"p256dh": "AAAA", "auth": auth}}),
            "keys",
        ),
        (
            json!({"endpoint": "http://push.example.com/a", "keys": {"p256dh": ua_public, "auth": auth}}),
            "endpoint",
        ),
    ] {
        let (status, e) = w.admin.post(&path, body).await;
        assert_eq!(
            (status, e["details"]["field"].as_str()),
            (422, Some(field)),
            "{e}"
        );
    }
    let sub = w
        .admin
        .created(
            &path,
            json!({"endpoint": format!("{origin}/push/anna"), "keys": {"p256dh": ua_public, "auth": auth}}),
        )
        .await;

    w.admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("RB123456785GB", &w.residents[0], 60),
        )
        .await;
    let (headers, body) = eventually(15, "the push", || async {
        pushed.lock().unwrap().first().cloned()
    })
    .await;
    assert_eq!(headers["content-encoding"], "aes128gcm");
    assert!(headers.contains_key("ttl"));
    // VAPID: signed by the key browsers subscribed with, for this origin.
    let vapid = &headers["authorization"];
    let (t, k) = vapid
        .strip_prefix("vapid t=")
        .and_then(|rest| rest.split_once(", k="))
        .expect("vapid t=…, k=…");
    assert_eq!(k, server_key);
    let (signed, signature) = t.rsplit_once('.').unwrap();
    let verifying =
        p256::ecdsa::VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
    let signature =
        p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
    verifying
        .verify(signed.as_bytes(), &signature)
        .expect("the VAPID token verifies");
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(signed.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["aud"], origin.as_str());
    // Only the browser can read it: decrypt with its keys.
    let auth_key = web_push_native::Auth::clone_from_slice(&auth_bytes);
    let plain = web_push_native::decrypt(body, &ua_secret, &auth_key).expect("decrypts");
    let notice: Value = serde_json::from_slice(&plain).unwrap();
    let code = eventually(10, "the email notice", || async {
        p.outbox()
            .iter()
            .find_map(|m| m["payload"]["code"].as_str().map(str::to_string))
    })
    .await;
    assert!(notice["body"].as_str().unwrap().contains(&code), "{notice}");

    // Unsubscribed: nothing more is pushed.
    let (status, _) = w
        .admin
        .delete(&format!(
            "/api/v1/push-subscriptions/{}",
            sub["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 204);
    w.admin
        .created(
            &format!("/api/v1/lockers/{}/deposits", w.locker_id),
            parcel("1Z5R89390357567127", &w.residents[0], 60),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(pushed.lock().unwrap().len(), 1);
}
