//! The web pages' guards, over plain HTTP in-process: staff only on the
//! console, forms from this origin only and with their session's CSRF token
//! (the `CsrfForm` extractor), cookies out of scripts' reach.

use cubby_testkit::ADMIN_TOKEN;
use cubby_testkit::world::{World, seed, small_bank};
use serde_json::json;

use crate::support::App;

async fn site_org(w: &World) -> String {
    let (_, site) = w.admin.get(&format!("/api/v1/sites/{}", w.site_id)).await;
    site["organisation_id"].as_str().unwrap().to_string()
}

/// The console's guards, over plain HTTP: staff only, forms from this
/// origin only, a CSRF token on signing out, cookies out of scripts' reach.
#[tokio::test]
async fn console_sessions_are_guarded_against_forgery() {
    let p = App::start().await;
    let w = seed(&p.base, &p.admin_passkey_invite, small_bank()).await;
    let http = no_redirects();
    let origin = p.base.clone();
    let sign_in = |token: &str, origin: Option<&str>| {
        let mut req = http
            .post(format!("{}/console/sign-in", p.base))
            .form(&[("token", token)]);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    // Another site's form, or none at all: refused before the token is looked at.
    let res = sign_in(ADMIN_TOKEN, Some("http://evil.example"))
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = sign_in(ADMIN_TOKEN, None).await.unwrap();
    assert_eq!(res.status(), 403);
    // Not a token; a resident's token: no session.
    let res = sign_in("nope", Some(&origin)).await.unwrap();
    assert_eq!(res.status(), 401);
    let resident = w
        .admin
        .created(
            "/api/v1/tokens",
            serde_json::json!({"role": "resident", "resident_id": w.residents[0], "organisation_id": site_org(&w).await, "label": "portal"}),
        )
        .await;
    let res = sign_in(resident["token"].as_str().unwrap(), Some(&origin))
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "the console is for staff");

    let res = sign_in(ADMIN_TOKEN, Some(&origin)).await.unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/console"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let session = cookie.split(';').next().unwrap().to_string();
    let page = http
        .get(format!("{}/console", p.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("Test Court"));
    assert!(!html.contains(ADMIN_TOKEN), "the token never comes back");
    let csrf = hidden(&html, "csrf");

    // Signing out needs the session's CSRF token.
    let out = |csrf: String| {
        http.post(format!("{}/console/sign-out", p.base))
            .header("cookie", &session)
            .header("origin", &origin)
            .form(&[("csrf", csrf)])
            .send()
    };
    assert_eq!(out("0".repeat(64)).await.unwrap().status(), 403);
    let still = http
        .get(format!("{}/console", p.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(still.status(), 200, "a forged sign-out changes nothing");
    assert_eq!(out(csrf).await.unwrap().status(), 303);
    let gone = http
        .get(format!("{}/console", p.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 303, "back to sign-in");
}

/// A client that shows redirects instead of following them.
pub(crate) fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of a hidden form field a page carries (`csrf`, `nonce`).
pub(crate) fn hidden(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no {name} field"))
        .to_string()
}

#[tokio::test]
async fn forms_without_their_sessions_token_or_from_elsewhere_change_nothing() {
    let p = App::start().await;
    let w = seed(&p.base, &p.admin_passkey_invite, small_bank()).await;
    let http = no_redirects();
    let origin = p.base.clone();
    w.pre_advise("CSRF00001", "dhl").await;
    let in_lockers = |parcels: &serde_json::Value| {
        parcels
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["state"] != "announced")
            .count()
    };
    // A courier signs in to the courier screens with a personal token.
    let carrier = w
        .admin
        .created(
            "/api/v1/carriers",
            json!({"code": "dhl", "name": "DHL", "organisation_id": site_org(&w).await}),
        )
        .await;
    let courier = w
        .admin
        .created(
            &format!(
                "/api/v1/carriers/{}/couriers",
                carrier["id"].as_str().unwrap()
            ),
            json!({"name": "Marek"}),
        )
        .await;
    let res = http
        .post(format!("{}/courier/sign-in", p.base))
        .header("origin", &origin)
        .form(&[("token", courier["token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_string();
    let page = http
        .get(format!("{}/courier/lockers/{}", p.base, w.locker_id))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf");
    let nonce = hidden(&html, "nonce");
    let deposit = |csrf: &str, origin: Option<&str>| {
        let mut req = http
            .post(format!("{}/courier/lockers/{}", p.base, w.locker_id))
            .header("cookie", &session)
            .form(&[
                ("csrf", csrf),
                ("nonce", nonce.as_str()),
                ("tracking", "CSRF00001"),
                ("unit", "A-1"),
                ("name", "Anna Kowalska"),
                ("size", "small"),
                ("done", ""),
            ]);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    // Another page's token, a missing token, another site, no Origin: 403.
    for (token, from) in [
        ("0".repeat(64), Some(origin.as_str())),
        (String::new(), Some(origin.as_str())),
        (csrf.clone(), Some("http://evil.example")),
        (csrf.clone(), None),
    ] {
        let res = deposit(&token, from).await.unwrap();
        assert_eq!(res.status(), 403, "token {token:?} from {from:?}");
    }
    let (_, parcels) = w
        .admin
        .get(&format!("/api/v1/sites/{}/parcels", w.site_id))
        .await;
    assert_eq!(in_lockers(&parcels), 0, "a forged form deposits nothing");
    // The page's own form goes through.
    let res = deposit(&csrf, Some(&origin)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("is open"));
    let (_, parcels) = w
        .admin
        .get(&format!("/api/v1/sites/{}/parcels", w.site_id))
        .await;
    assert_eq!(in_lockers(&parcels), 1);
    // Without a session there is no form to forge: back to sign-in.
    let res = http
        .post(format!("{}/courier/lockers/{}", p.base, w.locker_id))
        .header("origin", &origin)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}
