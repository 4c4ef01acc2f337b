//! Background work, run by every instance but each unit by one instance at a time: a unit
//! runs only while its instance holds the unit's PostgreSQL advisory lock, taken with
//! `pg_try_advisory_xact_lock` in a transaction held for the unit: the lock ends with that
//! transaction, however the unit ends (done, failed, panicked, cancelled), and with the
//! connection if the instance dies, so it can never go back to the pool still held. Units are
//! also safe on their own (claims, row locks and idempotent recording), so the lock saves
//! duplicate work and gateway calls, not correctness.
//!
//! Each periodic task runs its tick in a task of its own: a tick that fails or panics is
//! logged and counted ([`failures`]), and the next tick runs as usual.

use crate::integration::{api_keys, import, webhooks};
use crate::people::{rate, sessions, users};
use crate::{email, methods, payments, AppState};
use sqlx::PgPool;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, OnceLock};
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
    /// Finished rate-limit windows and failed sign-ins that lock nothing any more.
    ForgetRateWindows = 7_243_010,
    /// The NACHA rail: the file of a cut-off, the outbox folder, the bank's files read back.
    AchFiles = 7_243_011,
    /// Pending refunds asked about again by their keys.
    RefundSync = 7_243_012,
    /// The dashboard's figures of the whole book.
    Dashboard = 7_243_013,
    /// The month's statements, on the day the schedule says.
    Statements = 7_243_014,
}

/// Runs `work` if no other instance is running `unit` now; `None` when another is.
pub async fn exclusively<T>(
    pool: &PgPool,
    unit: Unit,
    work: impl Future<Output = T>,
) -> crate::Result<Option<T>> {
    let mut tx = pool.begin().await?;
    let got = sqlx::query_scalar!(
        r#"SELECT pg_try_advisory_xact_lock($1) AS "got!""#,
        unit as i64
    )
    .fetch_one(&mut *tx)
    .await?;
    if !got {
        return Ok(None);
    }
    let out = work.await;
    // Ends the transaction, and the lock with it (dropped unfinished, it rolls back: the same).
    tx.commit().await?;
    Ok(Some(out))
}

/// Failed or panicked runs of each periodic task since the process started.
fn failure_counts() -> &'static Mutex<HashMap<&'static str, u64>> {
    static COUNTS: OnceLock<Mutex<HashMap<&'static str, u64>>> = OnceLock::new();
    COUNTS.get_or_init(Default::default)
}

/// Counts one failure of `name`; the count so far.
fn count_failure(name: &'static str) -> u64 {
    let mut counts = failure_counts().lock().unwrap_or_else(|p| p.into_inner());
    let n = counts.entry(name).or_default();
    *n += 1;
    *n
}

/// How many runs of the periodic task (or unit) `name` failed or panicked so far.
pub fn failures(name: &str) -> u64 {
    failure_counts()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(name)
        .copied()
        .unwrap_or(0)
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
        Ok(Some(Err(e))) => {
            let failures = count_failure(unit.name());
            tracing::warn!(?unit, failures, error = %e, "housekeeping failed; runs again next time")
        }
        Ok(None) => tracing::debug!(?unit, "another instance is on it"),
        Err(e) => {
            let failures = count_failure(unit.name());
            tracing::warn!(?unit, failures, error = %e, "housekeeping lock; runs again next time")
        }
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
    let client = webhooks::client(&s.config);
    every("webhooks", s.config.webhook_poll, move || {
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
        Ok(mailer) => every("emails", s.config.email_poll, move || {
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
    every("reconcile", s.config.reconcile_every, move || {
        let s = s.clone();
        async move {
            let run = payments::reconcile(&s.pool, s.gateway.as_ref(), &s.config);
            let outcome = exclusively(&s.pool, Unit::Reconcile, run).await;
            report(Unit::Reconcile, outcome, |n| *n == 0);
        }
    });
    let s = state.clone();
    // Not at start: a restart mid-day finds today's snapshot stored, and the first view of a
    // new day makes its own.
    every_from(
        "dashboard",
        s.config.dashboard_every,
        s.config.dashboard_every,
        move || {
            let s = s.clone();
            async move {
                let run = crate::reports::dashboard::refresh(&s.pool);
                let outcome = exclusively(&s.pool, Unit::Dashboard, run).await;
                report(Unit::Dashboard, outcome, |_| true);
            }
        },
    );
    let s = state.clone();
    // Not at start (the day's statements wait a period at most); once per company and month
    // (the kept statement's key), so running again sends none twice.
    every_from(
        "statements",
        s.config.statements_every,
        s.config.statements_every,
        move || {
            let s = s.clone();
            async move {
                let run = crate::reports::statements::send_due(&s.pool, &s.config);
                let outcome = exclusively(&s.pool, Unit::Statements, run).await;
                report(Unit::Statements, outcome, |n| *n == 0);
            }
        },
    );
    let s = state.clone();
    every("card_expiry", s.config.card_notices_every, move || {
        let s = s.clone();
        async move {
            // Once per card per month (the outbox's key), so running it again changes nothing.
            let run = email::queue_card_expiry(&s.pool, crate::companies::today());
            let outcome = exclusively(&s.pool, Unit::CardExpiry, run).await;
            report(Unit::CardExpiry, outcome, |n| *n == 0);
        }
    });
    let s = state.clone();
    every("ach_sync", s.config.ach_sync_every, move || {
        let s = s.clone();
        async move {
            // The sandbox's books move on by themselves, as a bank network's would.
            if let Some(sandbox) = s.sandbox.clone() {
                let run = async {
                    let gateway =
                        |e: crate::gateway::GatewayError| crate::Error::Other(e.to_string());
                    let moved = sandbox
                        .advance_ach(s.config.sandbox_ach_after)
                        .await
                        .map_err(gateway)?;
                    // Late returns and disputes reach Settle as a bank's return file and a hosted
                    // gateway's events would.
                    let late = sandbox
                        .advance_late_returns(s.config.sandbox_ach_after)
                        .await
                        .map_err(gateway)?;
                    for r in &late {
                        payments::record_late_return(&s.pool, &r.charge_id, &r.code, &r.message)
                            .await?;
                    }
                    let disputes = sandbox
                        .advance_disputes(s.config.sandbox_dispute_after)
                        .await
                        .map_err(gateway)?;
                    for notice in &disputes {
                        payments::disputes::report(&s.pool, notice).await?;
                    }
                    Ok::<_, crate::Error>(moved + late.len() as u64 + disputes.len() as u64)
                };
                let outcome = exclusively(&s.pool, Unit::SandboxClock, run).await;
                report(Unit::SandboxClock, outcome, |n| *n == 0);
            }
            // The tokenizer endpoint's limit, whatever the gateway.
            let run = crate::gateway::sandbox::forget_old_tokenizations(&s.pool);
            let outcome = exclusively(&s.pool, Unit::ForgetTokenizations, run).await;
            report(Unit::ForgetTokenizations, outcome, |n| *n == 0);
            // The NACHA rail's files (before the sync, so returns read are seen at once).
            if let Some(nacha) = s.config.nacha.clone() {
                let run = async {
                    let written =
                        crate::ach_files::outbox::run(&s.pool, &nacha, chrono::Utc::now()).await?;
                    let read = crate::ach_files::inbox::read_inbox(&s.pool, &nacha).await?;
                    Ok::<_, crate::Error>(written + read.len())
                };
                let outcome = exclusively(&s.pool, Unit::AchFiles, run).await;
                report(Unit::AchFiles, outcome, |n| *n == 0);
            }
            let run = payments::refunds::sync_refunds(&s.pool, s.gateway.as_ref());
            let outcome = exclusively(&s.pool, Unit::RefundSync, run).await;
            report(Unit::RefundSync, outcome, |n| *n == 0);
            let run = payments::sync_ach(&s.pool, s.gateway.as_ref(), s.config.ach_sync_every);
            let outcome = exclusively(&s.pool, Unit::AchSync, run).await;
            report(Unit::AchSync, outcome, |r| {
                r.recorded == 0 && r.unknown == 0 && r.failed == 0
            });
            let run = methods::clear_unattached_documents(&s.pool);
            let outcome = exclusively(&s.pool, Unit::ClearUploads, run).await;
            report(Unit::ClearUploads, outcome, |n| *n == 0);
        }
    });
    let s = state;
    every("cleanup", Duration::from_secs(600), move || {
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
            let run = async {
                Ok::<_, crate::Error>(
                    rate::forget_old(&s.pool).await? + users::forget_old_failures(&s.pool).await?,
                )
            };
            let outcome = exclusively(&s.pool, Unit::ForgetRateWindows, run).await;
            report(Unit::ForgetRateWindows, outcome, |n| *n == 0);
        }
    });
}

/// Runs `tick` at once and then every `period`, never two at a time. Each tick runs as a task
/// of its own: one that panics is logged and counted under `name`, and the next runs as usual.
fn every<F, Fut>(name: &'static str, period: Duration, tick: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    every_from(name, Duration::ZERO, period, tick)
}

/// [`every`], the first tick after `first`.
fn every_from<F, Fut>(name: &'static str, first: Duration, period: Duration, tick: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + first;
        let mut interval = tokio::time::interval_at(start, period);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = tokio::spawn(tick()).await {
                let failures = count_failure(name);
                tracing::error!(task = name, failures, error = %e, "periodic task panicked; runs again next time");
            }
        }
    });
}

impl Unit {
    /// The unit's name in logs and [`failures`].
    pub fn name(self) -> &'static str {
        match self {
            Unit::Reconcile => "reconcile",
            Unit::SandboxClock => "sandbox_clock",
            Unit::AchSync => "ach_sync",
            Unit::ClearUploads => "clear_uploads",
            Unit::PurgeSessions => "purge_sessions",
            Unit::ForgetTokenizations => "forget_tokenizations",
            Unit::ForgetApiRequests => "forget_api_requests",
            Unit::ForgetImports => "forget_imports",
            Unit::CardExpiry => "card_expiry",
            Unit::ForgetRateWindows => "forget_rate_windows",
            Unit::AchFiles => "ach_files",
            Unit::RefundSync => "refund_sync",
            Unit::Dashboard => "dashboard",
            Unit::Statements => "statements",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_panicking_tick_is_counted_and_the_next_one_runs() {
        let runs = Arc::new(AtomicU32::new(0));
        let seen = runs.clone();
        every("test_panics", Duration::from_millis(20), move || {
            let runs = seen.clone();
            async move {
                if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                    panic!("the first tick fails");
                }
            }
        });
        for _ in 0..200 {
            if runs.load(Ordering::SeqCst) >= 3 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            runs.load(Ordering::SeqCst) >= 3,
            "ticks went on after the panic"
        );
        assert_eq!(failures("test_panics"), 1);
    }
}
