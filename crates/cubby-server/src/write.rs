//! State-changing requests: the body extractor (strict JSON with clear errors)
//! and the idempotent write helper.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cubby_domain::codes::Code;
use cubby_store::AnyConnection;
use cubby_store::JobFuture;
use cubby_store::idempotency::IdempotencyKey;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::app::{self, Changes, Committed};
use crate::auth::Caller;
use crate::error::ApiError;

/// A JSON body parsed strictly (unknown fields refused), with its fingerprint for
/// `Idempotency-Key`.
pub struct JsonBody<T> {
    pub value: T,
    pub fingerprint: [u8; 32],
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::new(
                Code::UnsupportedMediaType,
                "send the body as application/json",
            ));
        }
        let method = req.method().to_string();
        let path = req.uri().path().to_string();
        let bytes = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::new(
                Code::BodyTooLarge,
                "the request body is too large or unreadable",
            )
        })?;
        let value = serde_json::from_slice::<T>(&bytes).map_err(|e| {
            let message = e.to_string();
            ApiError::new(
                Code::InvalidBody,
                format!("the JSON body is not valid for this request: {message}"),
            )
        })?;
        let mut h = Sha256::new();
        h.update(method.as_bytes());
        h.update([0]);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(&bytes);
        Ok(JsonBody {
            value,
            fingerprint: h.finalize().into(),
        })
    }
}

/// An optional JSON body: a request without `Content-Type` has none; one
/// with a body is parsed as [`JsonBody`] is.
impl<T: DeserializeOwned, S: Send + Sync> axum::extract::OptionalFromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .is_none()
        {
            return Ok(None);
        }
        <JsonBody<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The caller's `Idempotency-Key`, scoped to their token.
pub fn idempotency_key(
    headers: &HeaderMap,
    caller: &Caller,
    fingerprint: [u8; 32],
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(raw) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let raw = raw.to_str().map_err(|_| bad_idempotency_key())?;
    idempotency_key_of(raw, caller, fingerprint).map(Some)
}

/// An idempotency key given as text (a form's nonce, a header), checked and
/// scoped to the caller's token.
pub fn idempotency_key_of(
    raw: &str,
    caller: &Caller,
    fingerprint: [u8; 32],
) -> Result<IdempotencyKey, ApiError> {
    let key = raw.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad_idempotency_key());
    }
    Ok(IdempotencyKey {
        scope: caller.token_id.clone(),
        key: key.to_string(),
        fingerprint,
    })
}

fn bad_idempotency_key() -> ApiError {
    ApiError::invalid(
        "Idempotency-Key",
        "must be 1 to 255 visible ASCII characters",
    )
}

/// Runs `job` in one durable transaction and answers with `status` and the job's
/// value as JSON, once committed. With an idempotency key, a repeat of the same
/// request gets the first answer (and `Idempotent-Replayed: true`) without running
/// the job again.
pub async fn write_json<T, F>(
    state: &AppState,
    key: Option<IdempotencyKey>,
    status: StatusCode,
    job: F,
) -> Result<Response, ApiError>
where
    T: Serialize + Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, T> + Send + 'static,
{
    write_json_with(state, key, status, move |conn| {
        Box::pin(async move { Ok((job(conn).await?, Changes::none())) })
    })
    .await
}

/// As [`write_json`], for a job that also reports what lockers must learn
/// of (told once it has committed).
pub async fn write_json_with<T, F>(
    state: &AppState,
    key: Option<IdempotencyKey>,
    status: StatusCode,
    job: F,
) -> Result<Response, ApiError>
where
    T: Serialize + Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, (T, Changes)> + Send + 'static,
{
    let (stored, fresh) = app::commit_stored(state, key, status, job).await?;
    Ok(stored_answer(stored.status, stored.body, fresh.is_none()))
}

/// An idempotent write's answer, as first stored.
pub fn answer<T>(done: Committed<T>) -> Response {
    stored_answer(done.status.as_u16(), done.body, done.replayed)
}

/// An answer as stored (or as it would be), marked when it is a replay.
pub fn stored_answer(status: u16, body: String, replayed: bool) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if replayed {
        response.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    response
}

/// Query string parameters with the same error shape as everything else.
pub struct QueryParams<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded_parse(query).map(QueryParams).map_err(|m| {
            ApiError::new(
                Code::InvalidQuery,
                format!("the query string is not valid: {m}"),
            )
        })
    }
}

fn serde_urlencoded_parse<T: DeserializeOwned>(query: &str) -> Result<T, String> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| "unreadable".to_string())?,
    )
    .map(|q| q.0)
    .map_err(|e| e.body_text())
}
