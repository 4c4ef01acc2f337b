//! What the two outboxes (email and webhook deliveries) share: both are rows written in the
//! transaction of the change they report, claimed by any instance with
//! `FOR UPDATE SKIP LOCKED` and a lease (a dead instance's claim is taken over once the lease
//! ends), and retried after [`backoff`]; both name the event they carry by its [`event_id`].

use shared::EventId;
use std::time::Duration;

/// The wait after the `attempts`-th failure: base × 2^(attempts−1), at most 6 hours.
pub fn backoff(base: Duration, attempts: u32) -> Duration {
    let factor = 1u32 << attempts.saturating_sub(1).min(20);
    (base * factor).min(Duration::from_secs(6 * 3600))
}

/// An event's public id (`evt_…`): receivers and the feed's readers de-duplicate by it.
pub fn event_id(id: EventId) -> String {
    format!("evt_{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        let b = Duration::from_secs(30);
        assert_eq!(backoff(b, 1), Duration::from_secs(30));
        assert_eq!(backoff(b, 2), Duration::from_secs(60));
        assert_eq!(backoff(b, 4), Duration::from_secs(240));
        assert_eq!(backoff(b, 30), Duration::from_secs(6 * 3600));
    }

    #[test]
    fn events_are_named_by_their_row() {
        assert_eq!(event_id(EventId(1042)), "evt_1042");
    }
}
