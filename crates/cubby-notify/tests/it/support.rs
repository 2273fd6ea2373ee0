//! Sample notices shared by the tests.

use cubby_notify::{Language, Notice, NoticeKind};

/// A notice with every field the kind uses filled in, two parcels.
pub fn full(kind: NoticeKind, language: Language) -> Notice {
    let mut n = Notice::new(
        kind,
        language,
        "Maria Nowak",
        "Riverside Court",
        "Lobby Locker A",
    );
    n.parcel_count = 2;
    match kind {
        NoticeKind::ParcelReady
        | NoticeKind::Reminder
        | NoticeKind::ExpiringToday
        | NoticeKind::CodeReissued => {
            n.code = Some("48213907".into());
            n.qr_token = Some("qr-7f3a9c".into());
            n.expires_at_local = Some("2026-11-20 18:00".into());
        }
        NoticeKind::Expired => {}
        NoticeKind::ReturnedToCarrier => n.carrier_name = Some("DHL".into()),
        NoticeKind::HoldConfirmed => n.hold_until_local = Some("2026-12-01".into()),
        NoticeKind::Escalation => {
            n.recipient_name = "Front desk".into();
            n.unit = Some("4B".into());
            n.days_waiting = Some(9);
        }
    }
    n
}

/// A notice with only the required fields: one parcel, nothing optional.
pub fn minimal(kind: NoticeKind, language: Language) -> Notice {
    Notice::new(
        kind,
        language,
        "Maria Nowak",
        "Riverside Court",
        "Lobby Locker A",
    )
}
