//! Writes. Each function runs inside a write job (see [`crate::Store::transact`])
//! and leaves the database consistent or returns an error (and the job's savepoint
//! is rolled back).

pub mod access;
mod custody;
mod devices;
mod idempotency;
mod lockers;
mod outbox;
mod parcels;
pub mod passkeys;
mod schedule;
pub mod self_service;
mod tenants;
pub mod web_sessions;
pub mod webhooks;

pub use custody::append_event;
pub use devices::{
    CommandToSend, IngestHooks, JournalIngest, NewCourierPass, NewIncident, NewUnlock, add_device,
    command_answered, expire_commands, ingest_journal, issue_courier_pass, mark_command_sent,
    next_cache_version, next_command_seq, open_commands, queue_unlock, raise_incident,
    revoke_courier_pass, revoke_device, save_device_state, set_device_online, touch_device,
};
pub use idempotency::{IdempotencyKey, Stored, recall, remember};
pub use lockers::{
    NewCompartment, NewLocker, NewRoom, create_locker, create_room, set_compartment_status,
};
pub use outbox::{
    Message, PushSubscriptionRow, TemplateOverride, add_push_subscription, claim_message,
    delete_push_subscription, delete_template, enqueue, enqueue_not_before, enqueue_push_copies,
    mark_delivered, mark_failed, push_subscriptions_of, put_template, templates_of_site,
};
pub use parcels::{
    Announcement, DepositOutcome, DepositRequest, DepositSecrets, IssuedCredential, PickupOutcome,
    PresentedMac, Recipient, announce, deposit, issue_pass, pickup, pickup_reported_by_device,
    reissue_code, reset_keypad, transition,
};
pub use schedule::{
    ScheduleRow, Unscheduled, due_parcels, insert_schedule, lock_schedule, save_policy,
    schedule_hold, site_policy, unscheduled_parcels, update_schedule,
};
pub use tenants::{
    NewResident, create_building, create_carrier, create_org, create_resident, create_site,
    create_token,
};

use sqlx::AnyConnection;

/// Whether the connection is PostgreSQL (row locks needed) rather than SQLite.
pub(crate) fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
        || conn.backend_name().eq_ignore_ascii_case("postgres")
}

/// Picks the locking variant of a statement on PostgreSQL.
macro_rules! locked {
    ($conn:expr, $sql:literal) => {
        if crate::ops::is_postgres($conn) {
            concat!($sql, " FOR UPDATE")
        } else {
            $sql
        }
    };
}
pub(crate) use locked;
