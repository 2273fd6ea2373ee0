//! The portal's "home and visitors" page: visitor codes (issued and revoked
//! by the resident, told of each use), household members, and the language
//! of the resident's notices. The rules are the API's (`/api/v1/me`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use cubby_domain::ids;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::passkeys::Holder;
use serde::Deserialize;

use super::portal::ResidentSession;
use super::{CsrfForm, CsrfOnly};
use super::{Session, not_found, render, unavailable};
use crate::AppState;
use crate::app::access::{NewGrantBody, revoke_and_push};
use crate::app::residents::{NewResidentBody, new_resident};

const LANGUAGES: [(&str, &str); 4] = [
    ("en", "English"),
    ("es", "Español"),
    ("pl", "Polski"),
    ("de", "Deutsch"),
];
const MAX_VISITOR_HOURS: i64 = 31 * 24;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/settings", get(page))
        .route("/portal/visitors", post(add_visitor))
        .route("/portal/visitors/{grant_id}/revoke", post(revoke_visitor))
        .route("/portal/household", post(add_member))
        .route(
            "/portal/household/{resident_id}/remove",
            post(remove_member),
        )
        .route("/portal/language", post(set_language))
        .route("/portal/vacation", post(set_vacation))
        .route(
            "/portal/delegates/{delegate_id}/revoke",
            post(revoke_delegate),
        )
        .route("/portal/passkeys/{cred_id}/remove", post(remove_passkey))
}

/// Removes one of my passkeys (never the last: that would lock me out).
async fn remove_passkey(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(cred_id): Path<String>,
    CsrfForm {
        session: ResidentSession(session, rid),
        form: _,
    }: CsrfForm<ResidentSession, CsrfOnly>,
) -> Response {
    let owner = rid.clone();
    let removed = state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::passkeys::remove_passkey(conn, Holder::Resident, &owner, &cred_id).await
            })
        })
        .await;
    let notice = match removed {
        Ok(true) => "The passkey was removed; it signs you in no more.".to_string(),
        Ok(false) => "No such passkey of yours.".to_string(),
        Err(e) => crate::error::ApiError::from(e).message,
    };
    view(&state, &session, &rid, Some(notice)).await
}

struct GrantLine {
    id: String,
    label: String,
    uses: usize,
    status: String,
    live: bool,
}

struct DelegateLine {
    id: String,
    name: String,
    status: String,
    active: bool,
}

struct MemberLine {
    id: String,
    name: String,
    removable: bool,
}

#[derive(Template)]
#[template(path = "portal/settings.html")]
struct SettingsPage {
    csrf: String,
    notice: Option<String>,
    grants: Vec<GrantLine>,
    /// The site's door paths: (id, name).
    paths: Vec<(String, String)>,
    members: Vec<MemberLine>,
    delegates: Vec<DelegateLine>,
    away_until: Option<String>,
    language: String,
    languages: [(&'static str, &'static str); 4],
    /// (credential id, shown id, added, last used)
    passkeys: Vec<(String, String, String, String)>,
}

async fn view(state: &AppState, session: &Session, rid: &str, notice: Option<String>) -> Response {
    let built: Result<SettingsPage, OpError> = async {
        let mut conn = state.store.reader().await?;
        let me = db::residents::resident(&mut conn, rid)
            .await?
            .ok_or(OpError::NotFound { what: "resident" })?;
        let now = crate::now_ms();
        let mut lines = Vec::new();
        for g in db::access::grants_of_site(&mut conn, &me.site_id, Some(&me.id), 200).await? {
            if g.kind != "visitor" {
                continue;
            }
            let uses = db::access::uses_of_grant(&mut conn, &g.id).await?.len();
            let live = g.revoked_ms.is_none() && g.rule.not_after_ms > now;
            lines.push(GrantLine {
                status: match (g.revoked_ms, live) {
                    (Some(_), _) => "revoked".into(),
                    (None, true) => format!("valid until {} UTC", super::utc(g.rule.not_after_ms)),
                    (None, false) => "ended".into(),
                },
                id: g.id,
                label: g.label,
                uses,
                live,
            });
        }
        let paths = db::access::paths_of_site(&mut conn, &me.site_id)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let members = db::residents::household(&mut conn, &me.site_id, &me.unit)
            .await?
            .into_iter()
            .map(|m| MemberLine {
                removable: m.added_by.is_some() && m.resident.id != me.id,
                id: m.resident.id,
                name: m.resident.name,
            })
            .collect();
        let delegates = db::residents::delegates_of_resident(&mut conn, &me.id)
            .await?
            .into_iter()
            .map(|d| DelegateLine {
                status: match (d.active, d.revoked_ms) {
                    (true, _) => "can collect".to_string(),
                    (false, Some(_)) => "revoked".to_string(),
                    (false, None) => "used or ended".to_string(),
                },
                id: d.id,
                name: d.name,
                active: d.active,
            })
            .collect();
        let away_until = db::residents::away_until(&mut conn, &me.id)
            .await?
            .filter(|u| *u > now)
            .map(super::utc);
        let passkeys = db::passkeys::passkeys_of(&mut conn, Holder::Resident, rid)
            .await?
            .into_iter()
            .map(|p| {
                (
                    p.cred_id.chars().take(10).collect(),
                    super::utc(p.created_ms),
                    p.last_used_ms
                        .map_or_else(|| "never".to_string(), super::utc),
                    p.cred_id,
                )
            })
            .map(|(short, added, used, id)| (id, short, added, used))
            .collect();
        Ok(SettingsPage {
            passkeys,
            csrf: session.csrf.clone(),
            delegates,
            away_until,
            notice: None,
            grants: lines,
            paths,
            members,
            language: me.language,
            languages: LANGUAGES,
        })
    }
    .await;
    match built {
        Ok(mut p) => {
            p.notice = notice;
            render(&p)
        }
        Err(e) => unavailable(e),
    }
}

/// The signed-in resident's record.
async fn me_of(state: &AppState, rid: &str) -> Result<db::residents::ResidentRow, Response> {
    let mut conn = state.store.reader().await.map_err(unavailable)?;
    db::residents::resident(&mut conn, rid)
        .await
        .map_err(unavailable)?
        .ok_or_else(|| not_found("resident"))
}

async fn page(
    State(state): State<AppState>,
    ResidentSession(session, rid): ResidentSession,
) -> Response {
    view(&state, &session, &rid, None).await
}

#[derive(Deserialize)]
struct VisitorForm {
    label: String,
    path_id: String,
    hours: String,
    #[serde(default)]
    single_use: Option<String>,
}

async fn add_visitor(
    State(state): State<AppState>,
    _headers: HeaderMap,
    CsrfForm {
        session: ResidentSession(session, rid),
        form,
    }: CsrfForm<ResidentSession, VisitorForm>,
) -> Response {
    let me = match me_of(&state, &rid).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let hours: i64 = match form.hours.trim().parse() {
        Ok(h) if (1..=MAX_VISITOR_HOURS).contains(&h) => h,
        _ => {
            let msg = "A visitor code lasts 1 to 744 hours (31 days).".to_string();
            return view(&state, &session, &rid, Some(msg)).await;
        }
    };
    let now = crate::now_ms();
    let body = NewGrantBody {
        label: form.label.clone(),
        doors: None,
        path_id: Some(form.path_id.clone()),
        not_before_ms: Some(now),
        not_after_ms: now + hours * 3_600_000,
        max_uses: form.single_use.as_ref().map(|_| 1),
        schedule: None,
        host_resident_id: None,
    };
    let issued =
        crate::app::access::issue_visitor_grant(&state, &me, body, session.caller.actor()).await;
    let notice = match issued {
        Ok(g) => format!(
            "Visitor code for {}: {}. Share it with them; you will be told each time it is used.",
            form.label.trim(),
            g.pin
        ),
        Err(e) => e.message,
    };
    view(&state, &session, &rid, Some(notice)).await
}

async fn revoke_visitor(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(grant_id): Path<String>,
    CsrfForm {
        session: ResidentSession(session, rid),
        form: _,
    }: CsrfForm<ResidentSession, CsrfOnly>,
) -> Response {
    if !ids::looks_like(ids::ACCESS_GRANT, &grant_id) {
        return not_found("visitor code");
    }
    let grant = match state.store.reader().await {
        Ok(mut conn) => match db::access::grant(&mut conn, &grant_id).await {
            Ok(Some(g))
                if g.host_resident_id.as_deref() == Some(rid.as_str()) && g.kind == "visitor" =>
            {
                g
            }
            Ok(_) => return not_found("visitor code"),
            Err(e) => return unavailable(e),
        },
        Err(e) => return unavailable(e),
    };
    let notice = match revoke_and_push(&state, &session.caller, &grant).await {
        Ok(()) => format!("The code for {} is revoked.", grant.label),
        Err(e) => e.message,
    };
    view(&state, &session, &rid, Some(notice)).await
}

#[derive(Deserialize)]
struct MemberForm {
    name: String,
    #[serde(default)]
    email: String,
}

async fn add_member(
    State(state): State<AppState>,
    _headers: HeaderMap,
    CsrfForm {
        session: ResidentSession(session, rid),
        form,
    }: CsrfForm<ResidentSession, MemberForm>,
) -> Response {
    let me = match me_of(&state, &rid).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let body = NewResidentBody {
        name: form.name.clone(),
        unit: me.unit.clone(),
        email: Some(form.email.trim().to_string()).filter(|e| !e.is_empty()),
        phone: None,
        language: Some(me.language.clone()),
        building_id: None,
        reach: None,
    };
    let notice = match new_resident(body, me.site_id.clone()) {
        Err(e) => e.message,
        Ok(member) => {
            let now = crate::now_ms();
            let host = me.clone();
            let stored = state
                .store
                .transact(move |conn| {
                    Box::pin(async move {
                        db::residents::add_household_member(conn, &host, &member, now).await
                    })
                })
                .await;
            match stored {
                Ok(r) => format!("{} is now part of your household.", r.name),
                Err(e) => crate::error::ApiError::from(e).message,
            }
        }
    };
    view(&state, &session, &rid, Some(notice)).await
}

async fn remove_member(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(member_id): Path<String>,
    CsrfForm {
        session: ResidentSession(session, rid),
        form: _,
    }: CsrfForm<ResidentSession, CsrfOnly>,
) -> Response {
    let me = match me_of(&state, &rid).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let now = crate::now_ms();
    let removed = state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::residents::remove_household_member(conn, &me, &member_id, now).await
            })
        })
        .await;
    let notice = match removed {
        Ok(()) => "Removed from your household.".to_string(),
        Err(e) => crate::error::ApiError::from(e).message,
    };
    view(&state, &session, &rid, Some(notice)).await
}

#[derive(Deserialize)]
struct LanguageForm {
    language: String,
}

async fn set_language(
    State(state): State<AppState>,
    _headers: HeaderMap,
    CsrfForm {
        session: ResidentSession(session, rid),
        form,
    }: CsrfForm<ResidentSession, LanguageForm>,
) -> Response {
    let Some((code, name)) = LANGUAGES.iter().find(|(c, _)| *c == form.language) else {
        return view(
            &state,
            &session,
            &rid,
            Some("Pick one of the languages.".into()),
        )
        .await;
    };
    let (r, c) = (rid.clone(), code.to_string());
    let saved = state
        .store
        .transact(move |conn| {
            Box::pin(async move { db::residents::set_language(conn, &r, &c).await })
        })
        .await;
    let notice = match saved {
        Ok(()) => format!("Your notices will be in {name}."),
        Err(e) => crate::error::ApiError::from(e).message,
    };
    view(&state, &session, &rid, Some(notice)).await
}

#[derive(Deserialize)]
struct VacationForm {
    days: String,
}

/// Away for some days (parcels held), or back (`days` = 0).
async fn set_vacation(
    State(state): State<AppState>,
    _headers: HeaderMap,
    CsrfForm {
        session: ResidentSession(session, rid),
        form,
    }: CsrfForm<ResidentSession, VacationForm>,
) -> Response {
    let me = match me_of(&state, &rid).await {
        Ok(r) => r,
        Err(res) => return res,
    };
    let until = match form.days.trim().parse::<i64>() {
        Ok(0) => None,
        Ok(d) if (1..=60).contains(&d) => Some(crate::now_ms() + d * 86_400_000),
        _ => {
            let msg = "Pick 1 to 60 days.".to_string();
            return view(&state, &session, &rid, Some(msg)).await;
        }
    };
    let notice =
        match crate::app::residents::apply_vacation(&state, &me, until, &session.caller.actor())
            .await
        {
            Ok(held) if until.is_some() => format!(
                "Your parcels are held while you are away ({} waiting now held).",
                held.len()
            ),
            Ok(_) => "Welcome back: new parcels wait as usual.".to_string(),
            Err(e) => e.message,
        };
    view(&state, &session, &rid, Some(notice)).await
}

async fn revoke_delegate(
    State(state): State<AppState>,
    _headers: HeaderMap,
    Path(delegate_id): Path<String>,
    CsrfForm {
        session: ResidentSession(session, rid),
        form: _,
    }: CsrfForm<ResidentSession, CsrfOnly>,
) -> Response {
    if !ids::looks_like(ids::CREDENTIAL, &delegate_id) {
        return not_found("delegate code");
    }
    let notice = match crate::app::residents::revoke_delegate(&state, &rid, &delegate_id).await {
        Ok(d) => format!("The code of {} is revoked.", d.name),
        Err(e) => e.message,
    };
    view(&state, &session, &rid, Some(notice)).await
}
