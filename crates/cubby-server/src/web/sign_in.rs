//! Console sign-in with a staff API token, and sign-out.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use cubby_domain::model::Role;
use serde::Deserialize;

use super::CsrfOnly;
use super::*;
use crate::AppState;

#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub(super) struct SignInPage {
    error: Option<String>,
}

pub(super) async fn sign_in_page() -> Response {
    render(&SignInPage { error: None })
}

#[derive(Deserialize)]
pub(super) struct SignInForm {
    token: String,
}

pub(super) async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    source: crate::auth::Source,
    Form(form): Form<SignInForm>,
) -> Response {
    open_portal_session(
        &state,
        &headers,
        &source,
        &form.token,
        super::SignInRule {
            portal: &CONSOLE,
            allowed: |role| matches!(role, Role::Admin | Role::Manager | Role::Concierge),
            refusal: "The console is for staff: sign in with a manager or concierge token.",
        },
        |error| render(&SignInPage { error: Some(error) }),
    )
    .await
}

pub(super) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    _: CsrfForm<Session, CsrfOnly>,
) -> Response {
    close_portal_session(&state, &headers, &CONSOLE).await
}
