//! A site's community policy: readable by everyone who can see the site,
//! changed by managers. Every change is a new version; the parcel timelines
//! name the version that decided each step.

use axum::Json;
use axum::extract::{Path, State};
use cubby_domain::policy::SitePolicy;
use cubby_store as db;
use cubby_store::OpError;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::sites::site_for;
use crate::auth::{Caller, MANAGERS, STAFF};
use crate::error::{ApiResult, ErrorBody};
use crate::write::JsonBody;
use crate::{AppState, now_ms};

#[derive(Serialize, ToSchema)]
pub struct VersionedPolicy {
    pub site_id: String,
    /// 0 until the site changes the defaults.
    pub version: u32,
    /// Dwell limits per zone, reminders, expiry action, holds, quiet hours
    /// and escalation (see docs/notifications.md).
    #[schema(value_type = Object)]
    pub policy: SitePolicy,
}

/// The site's current community policy.
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/policy", params(("site_id" = String, Path)),
    responses((status = 200, body = VersionedPolicy), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_policy(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<VersionedPolicy>> {
    // The policy is the site's security settings: staff read it, nobody else.
    caller.require(STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let (version, policy) = db::schedule::site_policy(&mut conn, &site.id).await?;
    Ok(Json(VersionedPolicy {
        site_id: site.id,
        version,
        policy,
    }))
}

/// Replace the site's community policy (a new version). Parcels already
/// waiting follow it from now on.
#[utoipa::path(put, path = "/api/v1/sites/{site_id}/policy", params(("site_id" = String, Path)),
    responses((status = 200, body = VersionedPolicy), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_policy(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    Path(site_id): Path<String>,
    body: JsonBody<SitePolicy>,
) -> ApiResult<Json<VersionedPolicy>> {
    caller.require(MANAGERS)?;
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let policy = body.value;
    policy.validate()?;
    let (sid, p, actor, now) = (site.id.clone(), policy.clone(), caller.actor(), now_ms());
    let audit = crate::auth::Audit::new(
        &caller,
        cubby_domain::audit::AuditAction::PolicyChanged,
        format!("site:{}/policy", site.id),
        "new version",
    )
    .in_org(site.org_id.clone());
    let version = state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                let version = db::schedule::save_policy(conn, &sid, &p, &actor, now).await?;
                audit.record(conn, now).await?;
                Ok(version)
            })
        })
        .await?;
    Ok(Json(VersionedPolicy {
        site_id: site.id,
        version,
        policy,
    }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// pending, delivered or failed.
    pub status: Option<String>,
    /// At most this many, newest first (default 100, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageStatus {
    pub id: String,
    /// email, sms or staff.
    pub channel: String,
    /// parcel_ready, reminder, expired, escalation, …
    pub kind: Option<String>,
    /// pending, delivered or failed.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub delivered_ms: Option<i64>,
    /// Not sent before this instant (quiet hours, or the next retry).
    pub not_before_ms: Option<i64>,
}

/// Delivery status of a site's messages (never their content: codes stay out).
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/messages", params(("site_id" = String, Path), MessagesQuery),
    responses((status = 200, body = [MessageStatus]), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
    crate::write::QueryParams(q): crate::write::QueryParams<MessagesQuery>,
) -> ApiResult<Json<Vec<MessageStatus>>> {
    caller.require(crate::auth::STAFF)?;
    if let Some(s) = &q.status
        && !["pending", "delivered", "failed"].contains(&s.as_str())
    {
        return Err(crate::error::ApiError::invalid(
            "status",
            "must be pending, delivered or failed",
        ));
    }
    let site = site_for(&state, &caller, &site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = cubby_store::outbox::messages_of_site(
        &mut conn,
        &site.id,
        q.status.as_deref(),
        q.limit.unwrap_or(100).clamp(1, 1000),
    )
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|m| MessageStatus {
                id: m.id,
                channel: m.channel,
                kind: m.kind,
                status: m.status,
                attempts: m.attempts,
                last_error: m.last_error,
                created_ms: m.created_ms,
                delivered_ms: m.delivered_ms,
                not_before_ms: m.not_before_ms,
            })
            .collect(),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct TemplateOverrideDto {
    /// parcel_ready, reminder, expiring_today, expired, returned_to_carrier,
    /// hold_confirmed, code_reissued, escalation.
    pub kind: String,
    /// en, es, pl or de.
    pub language: String,
    /// subject, text, html or sms.
    pub part: String,
    /// A minijinja template (see docs/notifications.md for the variables).
    pub source: String,
    pub updated_ms: i64,
    pub updated_by: String,
}

/// The site's template overrides (everything else uses the built-in templates).
#[utoipa::path(get, path = "/api/v1/sites/{site_id}/templates", params(("site_id" = String, Path)),
    responses((status = 200, body = [TemplateOverrideDto]), (status = 404, body = ErrorBody)))]
pub async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
    Path(site_id): Path<String>,
) -> ApiResult<Json<Vec<TemplateOverrideDto>>> {
    caller.require(crate::auth::STAFF)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let rows = db::outbox::templates_of_site(&mut conn, &site.id).await?;
    Ok(Json(
        rows.into_iter()
            .map(|t| TemplateOverrideDto {
                kind: t.kind,
                language: t.language,
                part: t.part,
                source: t.source,
                updated_ms: t.updated_ms,
                updated_by: t.updated_by,
            })
            .collect(),
    ))
}

#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    pub source: String,
}

type TemplateKey = (
    cubby_notify::NoticeKind,
    cubby_notify::Language,
    cubby_notify::Part,
);

fn template_key(kind: &str, language: &str, part: &str) -> ApiResult<TemplateKey> {
    use crate::error::ApiError;
    let k = cubby_notify::NoticeKind::parse(kind)
        .ok_or_else(|| ApiError::invalid("kind", "is not a notice kind"))?;
    let l = cubby_notify::Language::parse(language);
    if l.as_str() != language {
        return Err(ApiError::invalid("language", "must be en, es, pl or de"));
    }
    let p = cubby_notify::Part::parse(part)
        .ok_or_else(|| ApiError::invalid("part", "must be subject, text, html or sms"))?;
    Ok((k, l, p))
}

/// Replace one built-in template for this site. The template is compiled and
/// test-rendered before it is stored; a broken one is refused with the reason.
#[utoipa::path(put, path = "/api/v1/sites/{site_id}/templates/{kind}/{language}/{part}",
    params(("site_id" = String, Path), ("kind" = String, Path), ("language" = String, Path), ("part" = String, Path)),
    request_body = TemplateBody,
    responses((status = 200, body = TemplateOverrideDto), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_template(
    State(state): State<AppState>,
    caller: Caller,
    Path((site_id, kind, language, part)): Path<(String, String, String, String)>,
    body: JsonBody<TemplateBody>,
) -> ApiResult<Json<TemplateOverrideDto>> {
    caller.require(MANAGERS)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let (k, l, p) = template_key(&kind, &language, &part)?;
    let source = body.value.source;
    cubby_notify::validate_override(k, l, p, &source)
        .map_err(|e| crate::error::ApiError::invalid("source", e))?;
    let t = db::outbox::TemplateOverride {
        kind: k.as_str().to_string(),
        language: l.as_str().to_string(),
        part: p.as_str().to_string(),
        source,
        updated_ms: now_ms(),
        updated_by: caller.actor(),
    };
    let (sid, stored) = (site.id.clone(), t.clone());
    state
        .store
        .transact(move |conn| {
            Box::pin(async move { db::outbox::put_template(conn, &sid, &stored).await })
        })
        .await?;
    Ok(Json(TemplateOverrideDto {
        kind: t.kind,
        language: t.language,
        part: t.part,
        source: t.source,
        updated_ms: t.updated_ms,
        updated_by: t.updated_by,
    }))
}

/// Go back to the built-in template.
#[utoipa::path(delete, path = "/api/v1/sites/{site_id}/templates/{kind}/{language}/{part}",
    params(("site_id" = String, Path), ("kind" = String, Path), ("language" = String, Path), ("part" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_template(
    State(state): State<AppState>,
    caller: Caller,
    Path((site_id, kind, language, part)): Path<(String, String, String, String)>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    caller.require(MANAGERS)?;
    let site = site_for(&state, &caller, &site_id).await?;
    let (k, l, p) = template_key(&kind, &language, &part)?;
    let sid = site.id.clone();
    let removed = state
        .store
        .transact(move |conn| {
            Box::pin(async move {
                db::outbox::delete_template(conn, &sid, k.as_str(), l.as_str(), p.as_str()).await
            })
        })
        .await?;
    if !removed {
        return Err(crate::error::ApiError::not_found("template override"));
    }
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_messages))
        .routes(routes!(list_templates))
        .routes(routes!(put_template, delete_template))
        .routes(routes!(get_policy, put_policy))
}
