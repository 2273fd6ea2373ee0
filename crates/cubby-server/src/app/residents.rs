//! Residents: registering one (every field checked), and what a resident does
//! for themselves — vacation, pick-up passes, delegate codes for someone
//! collecting on their behalf.

use cubby_domain::ids;
use cubby_domain::lifecycle::{ParcelState, Transition};
use cubby_domain::model::{Language, ReachBand, clean_email, clean_phone, clean_text};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::lockers::LockerRow;
use cubby_store::parcels::DepositSecrets;
use cubby_store::parcels::ParcelRow;
use cubby_store::residents::DelegateRow;
use cubby_store::residents::NewDelegate;
use cubby_store::residents::NewResident;
use cubby_store::residents::ResidentRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::credentials::{fresh_keypad_code, fresh_secrets, retrying};
use super::parcels::hold_or_release;
use super::{AppResult, Changes, commit};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::{AppState, new_id, now_ms};

const DAY_MS: i64 = 86_400_000;
/// The furthest ahead a vacation may end.
pub const MAX_VACATION_DAYS: i64 = 60;

#[derive(Deserialize, Serialize, ToSchema, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub struct Reach {
    pub min_mm: u32,
    pub max_mm: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResidentBody {
    pub name: String,
    /// Unit label, e.g. `B-204`; created on first use.
    pub unit: String,
    pub email: Option<String>,
    /// E.164, e.g. `+48601234567`.
    pub phone: Option<String>,
    /// en, es, pl or de (default en).
    pub language: Option<String>,
    pub building_id: Option<String>,
    /// Heights above the floor the resident can reach; compartments inside the band are preferred.
    pub reach: Option<Reach>,
}

/// A resident to store from a request body, every field checked.
pub fn new_resident(req: NewResidentBody, site_id: String) -> AppResult<NewResident> {
    Ok(NewResident {
        id: new_id(ids::RESIDENT),
        site_id,
        unit: clean_text("unit", &req.unit, 40)?,
        building_id: req.building_id,
        name: clean_text("name", &req.name, 200)?,
        email: req.email.as_deref().map(clean_email).transpose()?,
        phone: req.phone.as_deref().map(clean_phone).transpose()?,
        language: req
            .language
            .as_deref()
            .map(str::parse::<Language>)
            .transpose()
            .map_err(|_| ApiError::invalid("language", "must be en, es, pl or de"))?
            .unwrap_or(Language::En),
        reach: req
            .reach
            .map(|r| ReachBand::new(r.min_mm, r.max_mm))
            .transpose()?,
    })
}

/// A field that may be cleared: absent leaves it, `null` clears it.
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// An edit of a resident: what is given changes, the rest stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResidentPatch {
    /// The version you read (`GET /api/v1/residents/{resident_id}`).
    pub version: i64,
    pub name: Option<String>,
    /// Another unit of the site (created on first use).
    pub unit: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    /// en, es, pl or de.
    pub language: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Reach>)]
    pub reach: Option<Option<Reach>>,
}

/// Edits a resident of a site the caller sees, every given field checked as
/// at registration, if nobody edited them since the caller read them.
pub async fn edit_resident(
    state: &AppState,
    caller: &Caller,
    resident_id: &str,
    patch: ResidentPatch,
) -> AppResult<ResidentRow> {
    caller.require(crate::auth::STAFF)?;
    let (resident, _) = super::places::resident_for(state, caller, resident_id).await?;
    let edit = db::residents::ResidentEdit {
        name: patch
            .name
            .as_deref()
            .map(|n| clean_text("name", n, 200))
            .transpose()?,
        unit: patch
            .unit
            .as_deref()
            .map(|u| clean_text("unit", u, 40))
            .transpose()?,
        email: patch
            .email
            .map(|e| e.as_deref().map(clean_email).transpose())
            .transpose()?,
        phone: patch
            .phone
            .map(|p| p.as_deref().map(clean_phone).transpose())
            .transpose()?,
        language: patch
            .language
            .as_deref()
            .map(str::parse::<Language>)
            .transpose()
            .map_err(|_| ApiError::invalid("language", "must be en, es, pl or de"))?,
        reach: patch
            .reach
            .map(|r| r.map(|r| ReachBand::new(r.min_mm, r.max_mm)).transpose())
            .transpose()?,
    };
    let (id, version) = (resident.id.clone(), patch.version);
    commit(state, move |conn| {
        Box::pin(async move {
            let (row, _) = db::residents::edit_resident(conn, &id, version, &edit).await?;
            Ok((row, Changes::none()))
        })
    })
    .await
}

/// Everything held about a resident, as one JSON document (Art. 15): the
/// same document for staff (`GET /residents/{id}/export`) and for the
/// resident's own portal download. Audited.
pub async fn export(
    state: &AppState,
    caller: &Caller,
    resident_id: &str,
) -> AppResult<serde_json::Value> {
    let (resident, site) = super::places::resident_for(state, caller, resident_id).await?;
    let own = caller.resident_id.as_deref() == Some(resident.id.as_str());
    if !own {
        caller.require(crate::auth::STAFF)?;
    }
    let doc = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        db::residents::export::export(&mut conn, &resident.id).await?
    };
    crate::auth::Audit::new(
        caller,
        cubby_domain::audit::AuditAction::Export,
        format!("resident:{}", resident.id),
        if own { "their own data" } else { "by staff" },
    )
    .in_org(site.org_id)
    .record_alone(&state.store, now_ms())
    .await?;
    Ok(serde_json::json!({
        "resident_id": resident.id,
        "exported_at_ms": now_ms(),
        "data": doc,
    }))
}

/// What an erasure removed: rows changed, by table (never their content).
#[derive(Serialize, ToSchema)]
pub struct Erased {
    pub resident_id: String,
    pub rows: std::collections::BTreeMap<String, u64>,
}

/// Erases a resident (GDPR Art. 17): admins, with a fresh passkey step-up,
/// audited. Their personal data leaves every table, and the database's
/// write-ahead log is checkpointed so that freed pages (zeroed by
/// `secure_delete`) are all that is left on disk.
pub async fn erase(
    state: &AppState,
    caller: &Caller,
    resident_id: &str,
    step_up: Option<&str>,
) -> AppResult<Erased> {
    caller.require(&[])?;
    crate::auth::step_up::require_settings_step_up(state, caller, step_up)?;
    let (resident, site) = super::places::resident_for(state, caller, resident_id).await?;
    let audit = crate::auth::Audit::new(
        caller,
        cubby_domain::audit::AuditAction::Erasure,
        format!("resident:{}", resident.id),
        "personal data erased",
    )
    .in_org(site.org_id.clone());
    let (rid, actor, now) = (resident.id.clone(), caller.actor(), now_ms());
    let rows = commit(state, move |conn| {
        Box::pin(async move {
            let rows = db::residents::erase(conn, &rid, &actor, now).await?;
            audit.record(conn, now).await?;
            let rows: std::collections::BTreeMap<String, u64> =
                rows.into_iter().map(|(t, n)| (t.to_string(), n)).collect();
            Ok((rows, Changes::site(site.id.clone())))
        })
    })
    .await?;
    // The old page images leave the write-ahead log now, not at the next
    // outbox round.
    if let Err(e) = state.store.checkpoint().await {
        tracing::warn!("checkpoint after an erasure: {e}");
    }
    Ok(Erased {
        resident_id: resident.id,
        rows,
    })
}

/// What a move-out ended (counts and ids, never personal data).
#[derive(Serialize, ToSchema)]
pub struct MovedOut {
    pub resident_id: String,
    /// Parcels that were waiting for them, now unassigned in the manager's queue.
    pub parcels_to_manager_queue: Vec<String>,
    pub tokens_revoked: u64,
    pub passkeys_removed: u64,
    /// Pick-up and delegate codes that stopped.
    pub codes_revoked: u64,
    pub visitor_grants_revoked: u64,
}

/// Ends a resident's tenancy (managers of their site; audited): see
/// `cubby_store::residents::move_out`. The lockers and doors hear at once.
pub async fn move_out(state: &AppState, caller: &Caller, resident_id: &str) -> AppResult<MovedOut> {
    caller.require(crate::auth::MANAGERS)?;
    let (resident, site) = super::places::resident_for(state, caller, resident_id).await?;
    let audit = crate::auth::Audit::new(
        caller,
        cubby_domain::audit::AuditAction::ResidentMovedOut,
        format!("resident:{}", resident.id),
        "tenancy ended",
    )
    .in_org(site.org_id.clone());
    let (rid, actor, now) = (resident.id.clone(), caller.actor(), now_ms());
    let done = commit(state, move |conn| {
        Box::pin(async move {
            let out = db::residents::move_out(conn, &rid, &actor, now).await?;
            audit.record(conn, now).await?;
            let changes = out
                .lockers
                .iter()
                .fold(Changes::none(), |c, l| c.and_locker(l.clone()));
            let changes = out
                .devices
                .iter()
                .fold(changes, |c, d| c.and_device(d.clone()));
            Ok((out, changes))
        })
    })
    .await?;
    Ok(MovedOut {
        resident_id: resident.id,
        parcels_to_manager_queue: done.parcels_queued,
        tokens_revoked: done.tokens_revoked,
        passkeys_removed: done.passkeys_removed,
        codes_revoked: done.codes_revoked,
        visitor_grants_revoked: done.visitor_grants_revoked,
    })
}

/// Vacation: until `until`, parcels waiting and parcels that arrive are held
/// instead of expiring (`None` ends it now). Answers the parcels put on hold.
pub async fn apply_vacation(
    state: &AppState,
    me: &ResidentRow,
    until: Option<i64>,
    actor: &str,
) -> AppResult<Vec<String>> {
    let now = now_ms();
    if let Some(u) = until
        && (u <= now || u > now + MAX_VACATION_DAYS * DAY_MS)
    {
        return Err(ApiError::invalid(
            "away_until_ms",
            "must be in the future and at most 60 days ahead",
        ));
    }
    let rid = me.id.clone();
    commit(state, move |conn| {
        Box::pin(async move {
            db::residents::set_away_until(conn, &rid, until).await?;
            Ok(((), Changes::none()))
        })
    })
    .await?;
    let mut held = Vec::new();
    if until.is_some() {
        let waiting = {
            let mut conn = state.store.reader().await.map_err(OpError::from)?;
            db::parcels::parcels_of_resident(&mut conn, &me.site_id, &me.id, 100).await?
        };
        for p in waiting
            .into_iter()
            .filter(|p| p.state == ParcelState::Deposited)
        {
            hold_or_release(state, &p, Transition::Hold, actor).await?;
            held.push(p.id);
        }
    }
    Ok(held)
}

/// A delegate code for one of the resident's parcels: it opens that parcel's
/// compartment only (at most three live per parcel). Answers the stored
/// delegate and the code, shown once.
pub async fn issue_delegate(
    state: &AppState,
    resident_id: &str,
    parcel: &ParcelRow,
    name: &str,
) -> AppResult<(DelegateRow, String)> {
    let name = clean_text("name", name, 80)?;
    let locker_id = parcel.locker_id.clone().unwrap_or_default();
    retrying(
        || fresh_keypad_code(state, &locker_id),
        |fresh| {
            let d = NewDelegate {
                id: new_id(ids::CREDENTIAL),
                parcel_id: parcel.id.clone(),
                resident_id: resident_id.to_string(),
                name: name.clone(),
                mac: fresh.mac,
                local_mac: fresh.local_mac,
            };
            let now = now_ms();
            async move {
                let row = commit(state, move |conn| {
                    Box::pin(async move {
                        let row = db::residents::issue_delegate(conn, &d, now).await?;
                        let changes = Changes::locker(row.locker_id.clone());
                        Ok((row, changes))
                    })
                })
                .await?;
                Ok((row, fresh.code))
            }
        },
    )
    .await
}

/// A pick-up pass for the resident at one locker: a fresh code and QR token
/// that open every parcel of theirs waiting there. Not found when nothing
/// waits there for them.
pub async fn issue_pass(
    state: &AppState,
    resident_id: &str,
    locker: &LockerRow,
) -> AppResult<DepositSecrets> {
    retrying(
        || fresh_secrets(state, &locker.id),
        |secrets| {
            let (lid, rid, now) = (locker.id.clone(), resident_id.to_string(), now_ms());
            async move {
                let s = secrets.clone();
                commit(state, move |conn| {
                    Box::pin(async move {
                        db::parcels::issue_pass(conn, &lid, &rid, &s, now).await?;
                        Ok(((), Changes::locker(lid)))
                    })
                })
                .await?;
                Ok(secrets)
            }
        },
    )
    .await
}

/// Revokes one of the resident's delegate codes; the locker drops it from
/// its cache at once.
pub async fn revoke_delegate(
    state: &AppState,
    resident_id: &str,
    delegate_id: &str,
) -> AppResult<DelegateRow> {
    let (rid, did, now) = (resident_id.to_string(), delegate_id.to_string(), now_ms());
    commit(state, move |conn| {
        Box::pin(async move {
            let row = db::residents::revoke_delegate(conn, &rid, &did, now).await?;
            let changes = Changes::locker(row.locker_id.clone());
            Ok((row, changes))
        })
    })
    .await
}

/// The site's community rules as the resident reads them, and when they
/// acknowledged them.
pub async fn community_rules(
    state: &AppState,
    me: &ResidentRow,
) -> AppResult<(String, Option<i64>)> {
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let (_, policy) = db::schedule::site_policy(&mut conn, &me.site_id).await?;
    let acknowledged = db::residents::rules_acknowledged(&mut conn, &me.id).await?;
    Ok((policy.community_rules, acknowledged))
}

/// The resident acknowledges the rules, once: answers when they first did.
pub async fn acknowledge_rules(state: &AppState, me: &ResidentRow) -> AppResult<i64> {
    if community_rules(state, me).await?.0.is_empty() {
        return Err(ApiError::invalid(
            "rules",
            "this site publishes no community rules to acknowledge",
        ));
    }
    let (rid, now) = (me.id.clone(), now_ms());
    commit(state, move |conn| {
        Box::pin(async move {
            let at = db::residents::acknowledge_rules(conn, &rid, now).await?;
            Ok((at, Changes::none()))
        })
    })
    .await
}
