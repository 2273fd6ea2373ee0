//! Organisations, API tokens and carriers.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cubby_domain::ids;
use cubby_domain::model::{Role, clean_text};
use cubby_store as db;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app;
use crate::app::couriers::carrier_code;
use crate::auth::{Caller, MANAGERS, token_mac};
use crate::error::{ApiError, ApiResult};
use crate::write::{JsonBody, idempotency_key, stored_answer, write_json};
use crate::{AppState, new_api_token, new_id, now_ms};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct Organisation {
    pub id: String,
    pub name: String,
}

/// Create an organisation (a property management company; admin only).
#[utoipa::path(post, path = "/api/v1/organisations", request_body = NewOrganisation,
    responses((status = 201, body = Organisation), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_organisation(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewOrganisation>,
) -> ApiResult<Response> {
    caller.require(&[])?;
    let name = clean_text("name", &body.value.name, 200)?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let id = new_id(ids::ORG);
    let now = now_ms();
    write_json(&state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            db::tenants::create_org(conn, &id, &name, now).await?;
            Ok(Organisation { id, name })
        })
    })
    .await
}

/// List organisations (admin only).
#[utoipa::path(get, path = "/api/v1/organisations", responses((status = 200, body = Vec<Organisation>)))]
pub async fn list_organisations(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<axum::Json<Vec<Organisation>>> {
    caller.require(&[])?;
    let mut conn = state
        .store
        .reader()
        .await
        .map_err(cubby_store::OpError::from)?;
    let orgs = db::tenants::organisations(&mut conn).await?;
    Ok(axum::Json(
        orgs.into_iter()
            .map(|o| Organisation {
                id: o.id,
                name: o.name,
            })
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// admin, manager, concierge, carrier, courier or resident.
    pub role: String,
    /// Required unless the caller is a manager (whose organisation is used).
    pub organisation_id: Option<String>,
    /// Carrier code the token acts for (carrier and courier roles).
    pub carrier: Option<String>,
    /// The resident a resident token acts for (required for that role).
    pub resident_id: Option<String>,
    pub label: String,
    /// When it stops working (epoch ms, at most 365 days away). Default: 90
    /// days for staff, a year for carriers and couriers, 30 days for residents.
    pub expires_at_ms: Option<i64>,
    /// The sites of its organisation it may act at; absent for every site.
    pub site_ids: Option<Vec<String>>,
}

#[derive(Serialize, ToSchema)]
pub struct IssuedToken {
    pub id: String,
    /// The bearer token. Shown once; only its MAC is stored. Absent in the
    /// replay of an `Idempotency-Key` (the secret is never kept): see
    /// `secret_withheld`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// True in the replay of an `Idempotency-Key`: the token was shown once,
    /// with the first answer, and is not kept anywhere to be shown again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub secret_withheld: bool,
    pub role: String,
    pub organisation_id: Option<String>,
    pub expires_at_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_ids: Option<Vec<String>>,
}

/// Issue an API token. Managers issue tokens for their own organisation, never admin tokens.
#[utoipa::path(post, path = "/api/v1/tokens", request_body = NewToken,
    responses((status = 201, body = IssuedToken), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewToken>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let req = body.value;
    let role: Role = req.role.parse().map_err(|_| {
        ApiError::invalid(
            "role",
            "must be admin, manager, concierge, carrier, courier or resident",
        )
    })?;
    let resident_id = match (role, req.resident_id) {
        (Role::Resident, Some(rid)) => {
            super::check_id(ids::RESIDENT, &rid, "resident")?;
            Some(rid)
        }
        (Role::Resident, None) => {
            return Err(ApiError::invalid(
                "resident_id",
                "is required for resident tokens",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "resident_id",
                "only resident tokens act for a resident",
            ));
        }
        (_, None) => None,
    };
    let org_id = match (caller.role, req.organisation_id) {
        (Role::Admin, _) if role == Role::Admin => None,
        (Role::Admin, Some(org)) => Some(org),
        (Role::Admin, None) => {
            return Err(ApiError::invalid(
                "organisation_id",
                "is required for this role",
            ));
        }
        (_, _) if role == Role::Admin => return Err(ApiError::forbidden()),
        (_, Some(org)) if Some(&org) != caller.org_id.as_ref() => {
            return Err(ApiError::not_found("organisation"));
        }
        (_, _) => caller.org_id.clone(),
    };
    let carrier = match (role, req.carrier) {
        (Role::Carrier | Role::Courier, Some(c)) => Some(carrier_code(&c)?),
        (Role::Carrier | Role::Courier, None) => {
            return Err(ApiError::invalid(
                "carrier",
                "is required for carrier and courier tokens",
            ));
        }
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "carrier",
                "only carrier and courier tokens have a carrier",
            ));
        }
        (_, None) => None,
    };
    let label = clean_text("label", &req.label, 200)?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let now = now_ms();
    let expires_ms = app::tokens::expiry(role, req.expires_at_ms, now)?;
    // A scoped manager issues only tokens scoped within their own sites.
    let site_ids = match (&caller.site_ids, req.site_ids) {
        (Some(mine), None) => Some(mine.clone()),
        (Some(mine), Some(asked)) if !asked.iter().all(|s| mine.contains(s)) => {
            return Err(ApiError::forbidden());
        }
        (_, asked) => asked,
    };
    let site_ids = app::tokens::sites_in(&state, org_id.as_deref(), site_ids).await?;
    let token = new_api_token();
    let mac = token_mac(&state.secret, &token);
    let id = new_id(ids::TOKEN);
    let mut audit = crate::auth::Audit::new(
        &caller,
        cubby_domain::audit::AuditAction::TokenIssued,
        format!("token:{id}"),
        match &site_ids {
            Some(sites) => format!("role {role}, sites {}", sites.join(" ")),
            None => format!("role {role}"),
        },
    );
    if let Some(org) = &org_id {
        audit = audit.in_org(org.clone());
    }
    let (answer, fresh) = app::commit_withholding(
        &state,
        key,
        StatusCode::CREATED,
        move |conn| {
            Box::pin(async move {
                db::tokens::create_token(
                    conn,
                    &db::tokens::NewToken {
                        id: &id,
                        mac: &mac,
                        org_id: org_id.as_deref(),
                        role,
                        carrier: carrier.as_deref(),
                        label: &label,
                        expires_ms: Some(expires_ms),
                        site_ids: site_ids.as_deref(),
                    },
                    now,
                )
                .await?;
                if let Some(rid) = &resident_id {
                    // A resident token acts for a resident of the token's organisation.
                    let resident = cubby_store::residents::resident(conn, rid)
                        .await?
                        .ok_or(cubby_store::OpError::NotFound { what: "resident" })?;
                    let site = cubby_store::tenants::site(conn, &resident.site_id)
                        .await?
                        .ok_or(cubby_store::OpError::NotFound { what: "resident" })?;
                    if Some(&site.org_id) != org_id.as_ref() {
                        return Err(cubby_store::OpError::NotFound { what: "resident" });
                    }
                    cubby_store::tokens::bind_token(conn, &id, Some(rid), None).await?;
                }
                audit.record(conn, now).await?;
                Ok((
                    IssuedToken {
                        id,
                        token: Some(token),
                        secret_withheld: false,
                        role: role.to_string(),
                        organisation_id: org_id,
                        expires_at_ms: expires_ms,
                        site_ids,
                    },
                    app::Changes::none(),
                ))
            })
        },
        |issued| {
            serde_json::to_value(IssuedToken {
                id: issued.id.clone(),
                token: None,
                secret_withheld: true,
                role: issued.role.clone(),
                organisation_id: issued.organisation_id.clone(),
                expires_at_ms: issued.expires_at_ms,
                site_ids: issued.site_ids.clone(),
            })
        },
    )
    .await?;
    Ok(stored_answer(answer.status, answer.body, fresh.is_none()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCarrier {
    pub code: String,
    pub name: String,
    pub organisation_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Carrier {
    pub id: String,
    pub code: String,
    pub name: String,
}

/// Register a carrier with an organisation.
#[utoipa::path(post, path = "/api/v1/carriers", request_body = NewCarrier,
    responses((status = 201, body = Carrier), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_carrier(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewCarrier>,
) -> ApiResult<Response> {
    caller.require(MANAGERS)?;
    let req = body.value;
    let org_id = resolve_org(&state, &caller, req.organisation_id).await?;
    let code = carrier_code(&req.code)?;
    let name = clean_text("name", &req.name, 200)?;
    let key = idempotency_key(&headers, &caller, body.fingerprint)?;
    let id = new_id(ids::CARRIER);
    write_json(&state, key, StatusCode::CREATED, move |conn| {
        Box::pin(async move {
            db::couriers::create_carrier(conn, &id, &org_id, &code, &name).await?;
            Ok(Carrier { id, code, name })
        })
    })
    .await
}

/// The organisation a request acts in: the caller's own, or for admins the one
/// named (or the first, default organisation when none is named).
pub(crate) async fn resolve_org(
    state: &AppState,
    caller: &Caller,
    requested: Option<String>,
) -> ApiResult<String> {
    match (&caller.org_id, requested) {
        (Some(own), None) => Ok(own.clone()),
        (Some(own), Some(req)) if &req == own => Ok(req),
        (Some(_), Some(_)) => Err(ApiError::not_found("organisation")),
        (None, requested) => {
            let mut conn = state
                .store
                .reader()
                .await
                .map_err(cubby_store::OpError::from)?;
            let orgs = db::tenants::organisations(&mut conn).await?;
            match requested {
                Some(req) => orgs
                    .into_iter()
                    .find(|o| o.id == req)
                    .map(|o| o.id)
                    .ok_or_else(|| ApiError::not_found("organisation")),
                None => orgs
                    .into_iter()
                    .next()
                    .map(|o| o.id)
                    .ok_or_else(|| ApiError::not_found("organisation")),
            }
        }
    }
}

/// The carriers of the caller's organisation (every organisation's for an
/// admin), by organisation and code.
#[utoipa::path(get, path = "/api/v1/carriers",
    responses((status = 200, body = Vec<Carrier>), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_carriers(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<Carrier>>> {
    let rows = app::couriers::carriers_for(&state, &caller).await?;
    Ok(Json(
        rows.into_iter()
            .map(|c| Carrier {
                id: c.id,
                code: c.code,
                name: c.name,
            })
            .collect(),
    ))
}

/// A token as listed: never its secret.
#[derive(Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: String,
    pub role: String,
    pub label: String,
    pub organisation_id: Option<String>,
    pub carrier: Option<String>,
    pub created_at_ms: i64,
    /// Absent for tokens issued before tokens expired.
    pub expires_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    /// The sites it acts at; absent for every site of its organisation.
    pub site_ids: Option<Vec<String>>,
}

impl From<db::tokens::TokenLine> for TokenInfo {
    fn from(t: db::tokens::TokenLine) -> Self {
        TokenInfo {
            id: t.id,
            role: t.role,
            label: t.label,
            organisation_id: t.org_id,
            carrier: t.carrier,
            created_at_ms: t.created_ms,
            expires_at_ms: t.expires_ms,
            // Revoked before revocation times were kept: known revoked, not when.
            revoked_at_ms: t.revoked_ms.or(t.revoked.then_some(0)),
            site_ids: t.site_ids,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

/// The organisation's API tokens (every one for an admin), oldest first,
/// with when each expires and whether it was revoked. Never a secret.
#[utoipa::path(get, path = "/api/v1/tokens",
    responses((status = 200, body = TokenList), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<TokenList>> {
    let tokens = app::tokens::list(&state, &caller).await?;
    Ok(Json(TokenList {
        tokens: tokens.into_iter().map(TokenInfo::from).collect(),
    }))
}

/// Revoke a token: from its next request on, on every instance, it is
/// refused with 401 `token_revoked`. Managers never revoke an admin's token.
#[utoipa::path(post, path = "/api/v1/tokens/{token_id}/revoke", params(("token_id" = String, Path)),
    responses((status = 200, body = TokenInfo), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    axum::extract::Path(token_id): axum::extract::Path<String>,
) -> ApiResult<Json<TokenInfo>> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    Ok(Json(TokenInfo::from(
        app::tokens::revoke(&state, &caller, &token_id).await?,
    )))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// When the new token stops working (default: its role's lifetime).
    pub expires_at_ms: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RotatedToken {
    /// The new bearer token. Shown once; only its MAC is stored.
    pub token: String,
    /// The token it replaces, revoked in the same step.
    pub replaces: String,
    #[serde(flatten)]
    pub info: TokenInfo,
}

/// Rotate a token: a new one acting exactly as the old (role, organisation,
/// carrier, resident or courier, sites), and the old one revoked at once.
#[utoipa::path(post, path = "/api/v1/tokens/{token_id}/rotate", params(("token_id" = String, Path)), request_body = RotateBody,
    responses((status = 201, body = RotatedToken), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn rotate_token(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    axum::extract::Path(token_id): axum::extract::Path<String>,
    body: Option<JsonBody<RotateBody>>,
) -> ApiResult<Response> {
    crate::auth::step_up::require_settings_step_up_of(&state, &caller, &headers)?;
    let req = body.map(|b| b.value).unwrap_or_default();
    let rotated = app::tokens::rotate(&state, &caller, &token_id, req.expires_at_ms).await?;
    Ok((
        StatusCode::CREATED,
        Json(RotatedToken {
            token: rotated.token,
            replaces: rotated.replaces,
            info: TokenInfo::from(rotated.line),
        }),
    )
        .into_response())
}

/// This module's endpoints, each registered once with its OpenAPI entry.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_organisation, list_organisations))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(rotate_token))
        .routes(routes!(create_carrier, list_carriers))
}
