//! Ends the process when its async runtime stops making progress: every worker thread blocked
//! (a lock-ordering deadlock inside a library, say) leaves a server that accepts connections
//! and answers none, and that no longer even sees SIGTERM. A plain OS thread outside the
//! runtime notices, says so and exits, so that a supervisor (systemd, the cluster's restart)
//! starts a fresh one; payments left under way are recovered by the reconciler at start-up.

use std::sync::mpsc;
use std::time::Duration;
use tokio::runtime::Handle;

/// How often the runtime is asked to run a small task.
pub const EVERY: Duration = Duration::from_secs(5);
/// How long that task may wait for a thread before the runtime counts as stuck.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Watches `runtime` from a thread of its own: every `every` it spawns a task that only
/// answers; when no answer comes within `limit`, `stuck` is called (once) and the watch ends.
/// The watch also ends, quietly, when the runtime is shut down.
pub fn watch(
    runtime: Handle,
    every: Duration,
    limit: Duration,
    stuck: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            let (answer, answered) = mpsc::channel::<()>();
            runtime.spawn(async move {
                let _ = answer.send(());
            });
            match answered.recv_timeout(limit) {
                Ok(()) => {}
                // The task was dropped unrun: the runtime has shut down.
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    stuck();
                    return;
                }
            }
        })
        .map(|_| ())
}

/// What the server does when its runtime is stuck: says so on stderr and exits with 70.
pub fn exit_when_stuck() {
    eprintln!(
        "settle: the server has run no work for {} s (every thread is blocked); \
         stopping so that it can be started again",
        LIMIT.as_secs()
    );
    std::process::exit(70);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime")
    }

    /// Watches `rt` every 20 ms; the receiver gets a message when it is reported stuck.
    fn reports(rt: &tokio::runtime::Runtime, limit: Duration) -> mpsc::Receiver<()> {
        let (tx, rx) = mpsc::channel();
        watch(
            rt.handle().clone(),
            Duration::from_millis(20),
            limit,
            move || {
                let _ = tx.send(());
            },
        )
        .expect("thread");
        rx
    }

    #[test]
    fn a_runtime_whose_only_thread_is_blocked_is_reported() {
        let rt = runtime();
        let lock = Arc::new(Mutex::new(()));
        let held = lock.lock().expect("lock");
        let blocked = Arc::clone(&lock);
        // The runtime's one worker waits on a lock this thread holds: nothing else can run.
        rt.spawn(async move {
            let _g = blocked.lock();
        });
        let rx = reports(&rt, Duration::from_millis(300));
        assert!(
            rx.recv_timeout(Duration::from_secs(10)).is_ok(),
            "the stuck runtime was not reported"
        );
        drop(held);
    }

    #[test]
    fn a_runtime_that_runs_its_tasks_is_left_alone() {
        let rt = runtime();
        let rx = reports(&rt, Duration::from_secs(5));
        // Fifty checks or so, each answered.
        assert!(rx.recv_timeout(Duration::from_secs(1)).is_err());
        drop(rt);
    }
}
