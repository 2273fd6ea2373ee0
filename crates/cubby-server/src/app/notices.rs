//! What residents are told: the notice the templates render from, and the
//! pick-up message queued in the outbox. A notice names no merchant and no
//! contents (security.md): thieves read lock screens too.

use cubby_store::lockers::LockerRow;
use cubby_store::outbox::Message;
use cubby_store::residents::ResidentRow;
use cubby_store::tenants::SiteRow;

/// What the templates render a message from (in the resident's language).
pub fn notice(
    kind: cubby_notify::NoticeKind,
    resident: &ResidentRow,
    site_name: &str,
    locker_name: &str,
    code: Option<&str>,
    qr_token: Option<&str>,
) -> serde_json::Value {
    let mut n = cubby_notify::Notice::new(
        kind,
        cubby_notify::Language::parse(&resident.language),
        resident.name.clone(),
        site_name,
        locker_name,
    );
    n.code = code.map(str::to_string);
    n.qr_token = qr_token.map(str::to_string);
    n.unit = Some(resident.unit.clone());
    serde_json::to_value(&n).unwrap_or(serde_json::Value::Null)
}

/// The pick-up notice. It names no merchant and no contents (security.md): thieves
/// read lock screens too.
pub fn code_message(
    id: String,
    site: &SiteRow,
    locker: &LockerRow,
    resident: &ResidentRow,
    code: &str,
    qr_token: Option<&str>,
) -> Message {
    let (channel, recipient) = resident.contact(&site.name);
    // The stored body carries no code: the message is rendered from its
    // notice when it is sent, and the notice's code is erased once it is.
    let body = format!(
        "Hello {name},\n\nA parcel is waiting for you in locker \"{locker}\" at {site}.",
        name = resident.name,
        locker = locker.name,
        site = site.name,
    );
    Message {
        id,
        site_id: site.id.clone(),
        channel: channel.to_string(),
        recipient,
        subject: "A parcel is waiting for you".to_string(),
        body,
        payload: serde_json::json!({
            "kind": "parcel_ready",
            "resident_id": resident.id,
            "locker_id": locker.id,
            "code": if code.is_empty() { None } else { Some(code) },
            "qr_token": qr_token,
            "notice": notice(
                cubby_notify::NoticeKind::ParcelReady,
                resident,
                &site.name,
                &locker.name,
                (!code.is_empty()).then_some(code),
                qr_token,
            ),
        }),
    }
}

/// Tells a resident that the carrier took the return or shipment they
/// dropped off. Plain text, in no template: it carries no code.
pub fn sending_collected_message(
    id: String,
    site: &SiteRow,
    locker: &LockerRow,
    resident: &ResidentRow,
    carrier: Option<&str>,
    parcel_id: &str,
) -> Message {
    let (channel, recipient) = resident.contact(&site.name);
    let by = carrier.map_or_else(|| "the carrier".to_string(), str::to_uppercase);
    Message {
        id,
        site_id: site.id.clone(),
        channel: channel.to_string(),
        recipient,
        subject: "Your parcel was collected".to_string(),
        body: format!(
            "Hello {name},\n\nThe parcel you dropped off at locker \"{locker}\", {site}, was collected by {by}.",
            name = resident.name,
            locker = locker.name,
            site = site.name,
        ),
        payload: serde_json::json!({
            "kind": "sending_collected",
            "resident_id": resident.id,
            "locker_id": locker.id,
            "parcel_id": parcel_id,
        }),
    }
}
