//! Background work, run by every instance but each unit by one instance at a time: a unit
//! runs only while its instance holds the unit's PostgreSQL advisory lock (taken with
//! `pg_try_advisory_lock` on a connection held for the unit; released when the unit ends, or by
//! PostgreSQL when the instance dies). Units are also safe on their own (claims, row locks and
//! idempotent recording), so the lock saves duplicate work and gateway calls, not correctness.

use crate::{
    api_keys, email, import, invitations, methods, payments, sessions, webhooks, AppState,
};
use sqlx::PgPool;
use std::future::Future;
use std::time::Duration;

/// The periodic units, each with its own advisory lock key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Payments the gateway has not answered for.
    Reconcile = 7_243_001,
    /// The sandbox bank network's clock.
    SandboxClock = 7_243_002,
    /// Pending ACH payments read again from the gateway.
    AchSync = 7_243_003,
    /// Uploads never attached to a method.
    ClearUploads = 7_243_004,
    /// Sessions past their absolute expiry.
    PurgeSessions = 7_243_005,
    /// The sandbox tokenizer's old rate-limit rows.
    ForgetTokenizations = 7_243_006,
    /// The API's finished rate-limit windows and day-old idempotent answers.
    ForgetApiRequests = 7_243_007,
    /// CSV uploads never committed.
    ForgetImports = 7_243_008,
    /// The card-expiry notices of the day.
    CardExpiry = 7_243_009,
    /// Finished rate-limit windows of the sign-in links.
    ForgetRateWindows = 7_243_010,
}

/// Runs `work` if no other instance is running `unit` now; `None` when another is.
pub async fn exclusively<T>(
    pool: &PgPool,
    unit: Unit,
    work: impl Future<Output = T>,
) -> crate::Result<Option<T>> {
    let mut conn = pool.acquire().await?;
    let key = unit as i64;
    let got = sqlx::query_scalar!(r#"SELECT pg_try_advisory_lock($1) AS "got!""#, key)
        .fetch_one(&mut *conn)
        .await?;
    if !got {
        return Ok(None);
    }
    let out = work.await;
    sqlx::query_scalar!(r#"SELECT pg_advisory_unlock($1) AS "released!""#, key)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Some(out))
}

/// Logs a unit's outcome: what it did, or why it could not.
fn report<T: std::fmt::Debug, E: std::fmt::Display>(
    unit: Unit,
    outcome: crate::Result<Option<Result<T, E>>>,
    idle: impl Fn(&T) -> bool,
) {
    match outcome {
        Ok(Some(Ok(done))) if idle(&done) => {}
        Ok(Some(Ok(done))) => tracing::info!(?unit, ?done, "housekeeping"),
        Ok(Some(Err(e))) => tracing::warn!(?unit, error = %e, "housekeeping failed"),
        Ok(None) => tracing::debug!(?unit, "another instance is on it"),
        Err(e) => tracing::warn!(?unit, error = %e, "housekeeping lock"),
    }
}

/// Starts the background work: payments whose gateway answer is overdue every
/// `SETTLE_RECONCILE_EVERY_MS` (the first pass at start-up, so a crash is recovered as soon as
/// its payments are due); every `SETTLE_ACH_SYNC_MS` (30 s) the sandbox's clock, the ACH sync and clearing old
/// uploads and rate-limit rows; every 10 minutes expired sessions. Webhook deliveries go out
/// every `SETTLE_WEBHOOK_POLL_MS` from every instance at once (each delivery is claimed with
/// `SKIP LOCKED`, so instances share the work instead of taking turns), and so do emails every
/// `SETTLE_EMAIL_POLL_MS`; the card-expiry notices are written every
/// `SETTLE_CARD_NOTICES_EVERY_MS` (once per card per month whatever the period).
pub fn spawn(state: AppState) {
    let s = state.clone();
    let client = webhooks::client();
    every(s.config.webhook_poll, move || {
        let s = s.clone();
        let client = client.clone();
        async move {
            // Drain what is due, a batch at a time.
            loop {
                match webhooks::deliver_due(&s.pool, &client, &s.config).await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook deliveries");
                        break;
                    }
                }
            }
        }
    });
    let s = state.clone();
    match email::mailer(&s.config) {
        Err(e) => tracing::error!(error = %e, "emails will not be sent"),
        Ok(mailer) => every(s.config.email_poll, move || {
            let s = s.clone();
            let mailer = mailer.clone();
            async move {
                loop {
                    match email::deliver_due(&s.pool, &mailer, &s.config).await {
                        Ok(n) if n > 0 => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "email deliveries");
                            break;
                        }
                    }
                }
            }
        }),
    }
    let s = state.clone();
    every(s.config.reconcile_every, move || {
        let s = s.clone();
        async move {
            let run = payments::reconcile(&s.pool, s.gateway.as_ref(), &s.config);
            let outcome = exclusively(&s.pool, Unit::Reconcile, run).await;
            report(Unit::Reconcile, outcome, |n| *n == 0);
        }
    });
    let s = state.clone();
    every(s.config.card_notices_every, move || {
        let s = s.clone();
        async move {
            // Once per card per month (the outbox's key), so running it again changes nothing.
            let run = email::queue_card_expiry(&s.pool, crate::companies::today());
            let outcome = exclusively(&s.pool, Unit::CardExpiry, run).await;
            report(Unit::CardExpiry, outcome, |n| *n == 0);
        }
    });
    let s = state.clone();
    every(s.config.ach_sync_every, move || {
        let s = s.clone();
        async move {
            // The sandbox's books move on by themselves, as a bank network's would.
            if let Some(sandbox) = s.sandbox.clone() {
                let run = sandbox.advance_ach(s.config.sandbox_ach_after);
                let outcome = exclusively(&s.pool, Unit::SandboxClock, run).await;
                report(Unit::SandboxClock, outcome, |n| *n == 0);
                let run = sandbox.forget_old_tokenizations();
                let outcome = exclusively(&s.pool, Unit::ForgetTokenizations, run).await;
                report(Unit::ForgetTokenizations, outcome, |n| *n == 0);
            }
            let run = payments::sync_ach(&s.pool, s.gateway.as_ref());
            let outcome = exclusively(&s.pool, Unit::AchSync, run).await;
            report(Unit::AchSync, outcome, |r| {
                *r == payments::AchSync::default()
            });
            let run = methods::clear_unattached_documents(&s.pool);
            let outcome = exclusively(&s.pool, Unit::ClearUploads, run).await;
            report(Unit::ClearUploads, outcome, |n| *n == 0);
        }
    });
    let s = state;
    every(Duration::from_secs(600), move || {
        let s = s.clone();
        async move {
            let run = sessions::purge_expired(&s.pool);
            let outcome = exclusively(&s.pool, Unit::PurgeSessions, run).await;
            report(Unit::PurgeSessions, outcome, |n| *n == 0);
            let run = api_keys::forget_old(&s.pool);
            let outcome = exclusively(&s.pool, Unit::ForgetApiRequests, run).await;
            report(Unit::ForgetApiRequests, outcome, |n| *n == 0);
            let run = import::forget_uncommitted(&s.pool);
            let outcome = exclusively(&s.pool, Unit::ForgetImports, run).await;
            report(Unit::ForgetImports, outcome, |n| *n == 0);
            let run = invitations::forget_rate_windows(&s.pool);
            let outcome = exclusively(&s.pool, Unit::ForgetRateWindows, run).await;
            report(Unit::ForgetRateWindows, outcome, |n| *n == 0);
        }
    });
}

/// Runs `tick` at once and then every `period`, never two at a time.
fn every<F, Fut>(period: Duration, tick: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            tick().await;
        }
    });
}
