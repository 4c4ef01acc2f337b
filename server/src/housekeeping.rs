//! Background work, each unit safe to run on every instance at once (the claims and row
//! locks decide who does what).

use crate::{methods, payments};
use std::time::Duration;

/// Background work: payments the gateway has not answered for, checked every
/// `SETTLE_RECONCILE_EVERY_MS` (the first pass at start-up, so a crash is recovered as soon as
/// its payments are due); and every 30 s the sandbox's own clock for ACH, the ACH sync and the
/// clearing of uploads never attached to a method.
pub fn spawn(state: crate::AppState) {
    let reconciling = state.clone();
    tokio::spawn(async move {
        let state = reconciling;
        let mut tick = tokio::time::interval(state.config.reconcile_every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match payments::reconcile(&state.pool, state.gateway.as_ref(), &state.config).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(payments = n, "reconciled payments left processing"),
                Err(e) => tracing::warn!(error = %e, "reconciling payments"),
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        loop {
            tick.tick().await;
            // The sandbox's books move on by themselves, as a bank network's would.
            if let Some(sandbox) = &state.sandbox {
                if let Err(e) = sandbox.advance_ach(Duration::from_secs(60)).await {
                    tracing::warn!(error = %e, "sandbox ACH clock");
                }
            }
            match payments::sync_ach(&state.pool, state.gateway.as_ref()).await {
                Ok(payments::AchSync {
                    recorded: 0,
                    failed: 0,
                }) => {}
                Ok(r) => tracing::info!(recorded = r.recorded, failed = r.failed, "ACH sync"),
                Err(e) => tracing::warn!(error = %e, "syncing ACH payments"),
            }
            match methods::clear_unattached_documents(&state.pool).await {
                Ok(0) => {}
                Ok(n) => {
                    tracing::info!(documents = n, "cleared uploads never attached to a method")
                }
                Err(e) => tracing::warn!(error = %e, "clearing unattached uploads"),
            }
        }
    });
}
