//! The retention job: once an hour by [`crate::Clock`], every site's expired
//! personal data is deleted as its policy says, then the installation's
//! (stored answers to retried requests, old security audit events). Each run
//! is one transaction that claims its scope, deletes, and — when it deleted
//! anything — records the counts (never the content) in the audit log, so a
//! crash mid-run deletes nothing and a second instance does not run it again.

use cubby_domain::Millis;
use cubby_domain::audit::AuditAction;
use cubby_domain::policy::Retention;
use cubby_store as db;
use cubby_store::OpError;
use cubby_store::retention::{INSTALLATION, Purged, describe};

use crate::AppState;
use crate::auth::audit::Audit;

/// How often each scope runs.
pub const EVERY_MS: Millis = 3_600_000;
const DAY_MS: Millis = 24 * 3_600_000;
/// Actor named in the audit log.
const ACTOR: &str = "retention";

/// Runs every scope that is due at the clock's `now`; what each deleted.
pub async fn tick(state: &AppState) -> Result<Vec<(String, Purged)>, OpError> {
    let now = state.clock.now();
    let (sites, recent) = {
        let mut conn = state.store.reader().await?;
        (
            db::tenants::sites(&mut conn, None).await?,
            db::retention::ran_since(&mut conn, now - EVERY_MS + 1).await?,
        )
    };
    let mut runs = Vec::new();
    for site in sites {
        let scope = format!("site:{}", site.id);
        if recent.contains(&scope) {
            continue;
        }
        let claimed = scope.clone();
        let purged = state
            .store
            .transact(move |conn| {
                Box::pin(async move {
                    if !db::retention::claim_run(conn, &scope, now, EVERY_MS).await? {
                        return Ok(Purged::new());
                    }
                    let (version, policy) = db::schedule::site_policy(conn, &site.id).await?;
                    let cutoffs = policy.retention.cutoffs(now);
                    let purged = db::retention::purge_site(conn, &site.id, &cutoffs).await?;
                    if !purged.is_empty() {
                        Audit::of_actor(
                            ACTOR,
                            AuditAction::RetentionPurged,
                            scope,
                            format!("policy v{version}: {}", describe(&purged)),
                        )
                        .in_org(site.org_id)
                        .record(conn, now)
                        .await?;
                    }
                    Ok(purged)
                })
            })
            .await?;
        runs.push((claimed, purged));
    }
    if !recent.contains(INSTALLATION) {
        let purged = state
            .store
            .transact(move |conn| Box::pin(async move { purge_installation(conn, now).await }))
            .await?;
        runs.push((INSTALLATION.to_string(), purged));
    }
    // What was deleted leaves the SQLite log and free pages too.
    if runs.iter().any(|(_, p)| !p.is_empty()) {
        state.store.checkpoint().await?;
    }
    Ok(runs)
}

/// Stored answers go with the shortest parcel period of any site; audit
/// events (one chain for every site) with the longest audit period.
async fn purge_installation(conn: &mut db::AnyConnection, now: Millis) -> Result<Purged, OpError> {
    if !db::retention::claim_run(conn, INSTALLATION, now, EVERY_MS).await? {
        return Ok(Purged::new());
    }
    let mut parcel_days = Retention::default().parcel_days;
    let mut audit_days = None::<u32>;
    for site in db::tenants::sites(conn, None).await? {
        let (_, policy) = db::schedule::site_policy(conn, &site.id).await?;
        parcel_days = parcel_days.min(policy.retention.parcel_days);
        audit_days = Some(audit_days.map_or(policy.retention.audit_days, |d| {
            d.max(policy.retention.audit_days)
        }));
    }
    let audit_days = audit_days.unwrap_or(Retention::default().audit_days);
    let purged = db::retention::purge_installation(
        conn,
        now - Millis::from(parcel_days) * DAY_MS,
        now - Millis::from(audit_days) * DAY_MS,
    )
    .await?;
    if !purged.is_empty() {
        Audit::of_actor(
            ACTOR,
            AuditAction::RetentionPurged,
            INSTALLATION,
            describe(&purged),
        )
        .record(conn, now)
        .await?;
    }
    Ok(purged)
}

/// Runs until the process ends, looking once a minute of the clock.
pub async fn run(state: AppState) {
    let mut next: Millis = 0;
    loop {
        let now = state.clock.now();
        // (A clock set back, as tests may, starts the minute again.)
        if now >= next || now + 60_000 < next {
            if let Err(e) = tick(&state).await {
                tracing::warn!("retention: {e}");
            }
            next = now + 60_000;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
