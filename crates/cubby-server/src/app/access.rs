//! Access grants (visitor PINs, courier visits, room codes): the rule a
//! grant asks for, its PIN drawn and MACed for the site and for each
//! controller of its doors, stored and revoked. A PIN is shown once.

use std::collections::BTreeSet;

use cubby_domain::access::{GrantRule, Weekday, WeeklyWindow, parse_minute_of_day};
use cubby_domain::codes::Code;
use cubby_domain::credentials::{mac, new_keypad_code};
use cubby_domain::ids;
use cubby_domain::model::clean_text;
use cubby_protocol::cache::{CredentialKind, local_credential_mac};
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::access::NewGrant;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppResult, Changes, check_id, commit};
use crate::auth::keys::locker_credential_key;
use crate::auth::{Audit, Caller};
use crate::error::ApiError;
use crate::{AppState, new_id, now_ms, os_rng};
use cubby_domain::audit::AuditAction;

/// Digits of a door PIN: a PIN alone selects the grant, so 8 (security.md).
pub const PIN_DIGITS: u32 = 8;
/// Live grants a site may hold: the code space must stay ≥ 1,000 × them.
pub const MAX_LIVE_GRANTS: i64 = 100_000;

/// A weekly window in the site's time zone.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// `HH:MM`, inclusive.
    pub start: String,
    /// `HH:MM` (up to `24:00`), exclusive. A window past midnight is two windows.
    pub end: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrantBody {
    /// Shown to the host and staff, e.g. "Plumber" or "Anna (guest)".
    pub label: String,
    /// Doors the PIN opens. Give doors, a path, or both.
    pub doors: Option<Vec<String>>,
    pub path_id: Option<String>,
    /// Default: now.
    pub not_before_ms: Option<i64>,
    pub not_after_ms: i64,
    /// Openings per door: 1 for a single-use "express" PIN; absent for
    /// unlimited within the period.
    pub max_uses: Option<u32>,
    /// Weekly windows in the site's time zone; absent or empty for any time.
    pub schedule: Option<Vec<Window>>,
    /// The resident the visitor comes to see.
    pub host_resident_id: Option<String>,
}

/// A new grant. The PIN is shown once; only MACs of it are stored.
#[derive(Serialize, ToSchema)]
pub struct IssuedGrant {
    pub grant_id: String,
    pub pin: String,
    pub doors: Vec<String>,
    pub not_before_ms: i64,
    pub not_after_ms: i64,
    pub max_uses: Option<u32>,
}

pub async fn doors_of(state: &AppState, site_id: &str, ids_given: &[String]) -> AppResult<()> {
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    for id in ids_given {
        check_id(ids::DOOR, id, "door")?;
        match db::access::door(&mut conn, id).await? {
            Some(d) if d.site_id == site_id => {}
            _ => {
                return Err(ApiError::invalid(
                    "doors",
                    format!("{id} is not a door of this site"),
                ));
            }
        }
    }
    Ok(())
}

pub fn parse_day(text: &str) -> Option<Weekday> {
    let i = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|d| *d == text)?;
    Some(Weekday::ALL[i])
}

pub fn day_name(d: Weekday) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][d.index()]
}

/// Doors named directly plus those of a path, all checked to be this site's.
pub async fn grant_doors(
    state: &AppState,
    site_id: &str,
    doors: Vec<String>,
    path_id: Option<&str>,
) -> AppResult<BTreeSet<String>> {
    let mut doors: BTreeSet<String> = doors.into_iter().collect();
    if let Some(path_id) = path_id {
        check_id(ids::DOOR_PATH, path_id, "path")?;
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let path = db::access::path(&mut conn, path_id)
            .await?
            .filter(|p| p.site_id == site_id)
            .ok_or_else(|| ApiError::invalid("path_id", "no such path at this site"))?;
        doors.extend(path.doors);
    }
    let door_list: Vec<String> = doors.iter().cloned().collect();
    doors_of(state, site_id, &door_list).await?;
    Ok(doors)
}

pub fn parse_schedule(windows: Vec<Window>) -> AppResult<Vec<WeeklyWindow>> {
    let mut schedule = Vec::new();
    for w in windows {
        let mut days = BTreeSet::new();
        for d in &w.days {
            days.insert(parse_day(d).ok_or_else(|| {
                ApiError::invalid("schedule", format!("{d:?} is not a day (mon … sun)"))
            })?);
        }
        schedule.push(WeeklyWindow {
            days,
            start_minute: parse_minute_of_day("schedule", &w.start)?,
            end_minute: parse_minute_of_day("schedule", &w.end)?,
        });
    }
    Ok(schedule)
}

/// What a grant is, before its PIN is drawn.
#[derive(Debug, Clone)]
pub struct GrantDraft {
    pub site_id: String,
    /// visitor, courier_visit or room_code
    pub kind: &'static str,
    pub label: String,
    pub host_resident_id: Option<String>,
    pub carrier: Option<String>,
    pub courier_id: Option<String>,
    pub room_id: Option<String>,
    pub rule: GrantRule,
    pub created_by: String,
}

/// A grant ready to store, with its PIN (shown once) and the controllers
/// whose caches change when it is stored.
pub struct MintedGrant {
    pub grant: NewGrant,
    pub pin: String,
    pub devices: Vec<String>,
}

impl MintedGrant {
    pub fn issued(&self) -> IssuedGrant {
        IssuedGrant {
            grant_id: self.grant.id.clone(),
            pin: self.pin.clone(),
            doors: self.grant.rule.doors.iter().cloned().collect(),
            not_before_ms: self.grant.rule.not_before_ms,
            not_after_ms: self.grant.rule.not_after_ms,
            max_uses: self.grant.rule.max_uses,
        }
    }
}

/// Draws a PIN for a draft and MACs it for the site and for each controller
/// driving one of its doors (under that controller's locker key). Refuses
/// once the site holds [`MAX_LIVE_GRANTS`].
pub async fn mint_grant(state: &AppState, draft: &GrantDraft) -> AppResult<MintedGrant> {
    let now = now_ms();
    draft.rule.validate(now)?;
    let door_list: Vec<String> = draft.rule.doors.iter().cloned().collect();
    let device_lockers: Vec<(String, String)> = {
        let mut conn = state.store.reader().await.map_err(OpError::from)?;
        let live = db::access::count_live_grants(&mut conn, &draft.site_id, now).await?;
        if live >= MAX_LIVE_GRANTS {
            return Err(ApiError::new(
                Code::TooManyGrants,
                format!("a site may hold {MAX_LIVE_GRANTS} live grants; revoke some first"),
            ));
        }
        let mut out = Vec::new();
        for device_id in db::access::devices_of_doors(&mut conn, &door_list).await? {
            if let Some(d) = db::devices::device(&mut conn, &device_id).await? {
                out.push((device_id, d.locker_id));
            }
        }
        out
    };
    let pin = new_keypad_code(PIN_DIGITS, &mut os_rng());
    let grant = NewGrant {
        id: new_id(ids::ACCESS_GRANT),
        site_id: draft.site_id.clone(),
        kind: draft.kind.to_string(),
        label: draft.label.clone(),
        host_resident_id: draft.host_resident_id.clone(),
        carrier: draft.carrier.clone(),
        rule: draft.rule.clone(),
        pin_mac: mac(&state.secret, &["door-pin", &draft.site_id, &pin]),
        macs: device_lockers
            .iter()
            .map(|(device, locker)| {
                let key = locker_credential_key(&state.secret, locker);
                (
                    device.clone(),
                    local_credential_mac(&key, CredentialKind::Door, &pin),
                )
            })
            .collect(),
        created_by: draft.created_by.clone(),
        courier_id: draft.courier_id.clone(),
        room_id: draft.room_id.clone(),
    };
    Ok(MintedGrant {
        grant,
        pin,
        devices: device_lockers.into_iter().map(|(d, _)| d).collect(),
    })
}

/// Mints and stores a grant, drawing a fresh PIN when it collides with
/// another grant of the site; the changed caches go out once it is stored.
pub async fn store_grant(state: &AppState, draft: &GrantDraft) -> AppResult<IssuedGrant> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let minted = mint_grant(state, draft).await?;
        let grant = minted.grant.clone();
        let changes = minted
            .devices
            .iter()
            .fold(Changes::none(), |c, d| c.and_device(d.clone()));
        let now = now_ms();
        let audit = grant_audit(
            state,
            &grant.site_id,
            &grant.created_by,
            AuditAction::GrantIssued,
            &grant.id,
            format!("{} grant", grant.kind),
        )
        .await?;
        let stored = commit(state, move |conn| {
            Box::pin(async move {
                db::access::issue_grant(conn, &grant, now).await?;
                audit.record(conn, now).await?;
                Ok(((), changes))
            })
        })
        .await;
        match stored {
            Ok(()) => return Ok(minted.issued()),
            // Another grant of the site has this PIN: draw again.
            Err(e) if e.code == Code::PinTaken && attempts < 5 => continue,
            Err(e) => return Err(e),
        }
    }
}

/// The label and rule a visitor grant's request asks for, every door checked
/// to be the site's.
pub async fn visitor_rule(
    state: &AppState,
    site_id: &str,
    req: NewGrantBody,
) -> AppResult<(String, GrantRule)> {
    let label = clean_text("label", &req.label, 80)?;
    let doors = grant_doors(
        state,
        site_id,
        req.doors.unwrap_or_default(),
        req.path_id.as_deref(),
    )
    .await?;
    let rule = GrantRule {
        doors,
        not_before_ms: req.not_before_ms.unwrap_or_else(now_ms),
        not_after_ms: req.not_after_ms,
        max_uses: req.max_uses,
        schedule: parse_schedule(req.schedule.unwrap_or_default())?,
    };
    Ok((label, rule))
}

/// An audit event about a grant of `site_id`, in the site's organisation.
async fn grant_audit(
    state: &AppState,
    site_id: &str,
    actor: &str,
    action: AuditAction,
    grant_id: &str,
    reason: String,
) -> AppResult<Audit> {
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let site = db::tenants::site(&mut conn, site_id)
        .await?
        .ok_or_else(|| ApiError::not_found("site"))?;
    Ok(Audit::of_actor(
        actor,
        action,
        format!("site:{site_id}/grant:{grant_id}"),
        reason,
    )
    .in_org(site.org_id))
}

/// Revokes a grant; the changed caches go out to its doors' controllers.
pub async fn revoke_and_push(
    state: &AppState,
    caller: &Caller,
    grant: &db::access::GrantRow,
) -> AppResult<()> {
    let now = now_ms();
    let id = grant.id.clone();
    let doors: Vec<String> = grant.rule.doors.iter().cloned().collect();
    let audit = grant_audit(
        state,
        &grant.site_id,
        &caller.actor(),
        AuditAction::GrantRevoked,
        &grant.id,
        "revoked".into(),
    )
    .await?;
    commit(state, move |conn| {
        Box::pin(async move {
            db::access::revoke_grant(conn, &id, now).await?;
            audit.record(conn, now).await?;
            let changes = db::access::devices_of_doors(conn, &doors)
                .await?
                .into_iter()
                .fold(Changes::none(), |c, d| c.and_device(d));
            Ok(((), changes))
        })
    })
    .await
}

/// The parcel room doors among `doors`: a visitor PIN never opens one (the
/// room holds everybody's parcels); staff may grant one after a step-up.
pub async fn parcel_room_doors(
    state: &AppState,
    doors: &BTreeSet<String>,
) -> AppResult<Vec<String>> {
    let mut conn = state.store.reader().await.map_err(OpError::from)?;
    let mut found = Vec::new();
    for id in doors {
        if let Some(d) = db::access::door(&mut conn, id).await?
            && d.kind == "parcel_room"
        {
            found.push(d.id);
        }
    }
    Ok(found)
}

fn no_parcel_room_for_visitors() -> ApiError {
    ApiError::new(
        Code::DoorNotAllowed,
        "a visitor PIN never opens a parcel room door: residents collect with their room code",
    )
}

/// Longest a resident's visitor PIN may last.
pub const MAX_VISITOR_DAYS: i64 = 31;

/// A resident lets a visitor in: a PIN for doors or a path of their site,
/// for at most 31 days, with them as the host (told of every use).
pub async fn issue_visitor_grant(
    state: &AppState,
    host: &cubby_store::residents::ResidentRow,
    req: NewGrantBody,
    actor: String,
) -> AppResult<IssuedGrant> {
    if req.host_resident_id.is_some() {
        return Err(ApiError::invalid(
            "host_resident_id",
            "you are the host of the PINs you issue",
        ));
    }
    let (label, rule) = visitor_rule(state, &host.site_id, req).await?;
    if !parcel_room_doors(state, &rule.doors).await?.is_empty() {
        return Err(no_parcel_room_for_visitors());
    }
    if rule.not_after_ms - rule.not_before_ms > MAX_VISITOR_DAYS * 86_400_000 {
        return Err(ApiError::invalid(
            "not_after_ms",
            "a visitor PIN lasts at most 31 days",
        ));
    }
    store_grant(
        state,
        &GrantDraft {
            site_id: host.site_id.clone(),
            kind: "visitor",
            label,
            host_resident_id: Some(host.id.clone()),
            carrier: None,
            courier_id: None,
            room_id: None,
            rule,
            created_by: actor,
        },
    )
    .await
}
