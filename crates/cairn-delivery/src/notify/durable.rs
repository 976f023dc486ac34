//! Sending the durable queues (`cairn_store::sns_queue`): every message a topic accepted is
//! queued in the store by the transaction that accepted it, and sent from there by one sender
//! task per subscription, oldest first, at most 64 attempts at once across all of them, each
//! message signed on the blocking pool, two at a time (never on the workers that answer API
//! calls). A failed attempt is recorded in the row (attempts
//! made, time of the next one) under the delivery policy in effect for the subscription (its
//! topic's or its own `DeliveryPolicy`, else the notifier's); the row goes once the message
//! is delivered or the policy is exhausted. Each attempt first claims its row for
//! [`LEASE`] (`cairn_store::sns_queue::claim`), so two processes on one data dir never send
//! one message at once. A crash between an attempt and its record sends the message again
//! once the lease ends (at least once). [`Notifier::resume`] starts the senders of what is
//! due: at start-up everything a previous run left, and then, every few seconds in a server,
//! what another process (`cairn alarms run`) queued and left unsent for longer than a grace
//! period.

use std::sync::Arc;
use std::time::Duration;

use super::{Inner, Notifier, RetryPolicy, attempt};

/// Longest time one attempt holds its row: connect and request timeouts with a margin.
pub const LEASE: Duration = Duration::from_secs(60);

/// Longest sleep of a sender waiting for a message to become due: it looks again then,
/// since another process may have sent or rescheduled one meanwhile.
const POLL: Duration = Duration::from_secs(2);

/// The longest a message's retries may span in all (SNS: "The total policy retry time for
/// an HTTP/S endpoint cannot be greater than 3,600 seconds").
const TOTAL_RETRY_TIME: Duration = Duration::from_secs(3600);

/// Most retries SNS allows a policy (`numRetries` ≤ 100).
const MAX_RETRIES: u32 = 100;

/// Furthest ahead any row is scheduled (the longest retry delay SNS allows, with the lease
/// and a margin); a row further ahead is due, since the wall clock was set back.
const HORIZON: Duration = Duration::from_secs(2 * 3600);

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn policy_of(r: &cairn_core::sns_delivery_policy::HealthyRetry) -> RetryPolicy {
    RetryPolicy {
        num_retries: r.num_retries,
        num_no_delay_retries: r.num_no_delay_retries,
        num_min_delay_retries: r.num_min_delay_retries,
        num_max_delay_retries: r.num_max_delay_retries,
        min_delay: Duration::from_secs(r.min_delay_target.into()),
        max_delay: Duration::from_secs(r.max_delay_target.into()),
    }
}

impl Notifier {
    /// Whether published messages are sent from the store's durable queues.
    pub fn durable(&self) -> bool {
        self.inner.config.store.is_some()
    }

    /// Makes sure message `message_id`, just queued for `subscription_arn` by this process,
    /// is being sent. Must be called within a Tokio runtime, after the commit.
    pub fn kick_published(&self, subscription_arn: &str, message_id: &str) {
        if self.inner.config.own_messages_only {
            let mut state = self.inner.state.lock().expect("notifier lock");
            state.own.insert(message_id.to_owned());
        }
        self.kick(subscription_arn);
    }

    /// Makes sure `subscription_arn`'s durable queue is being sent (after a commit that
    /// queued messages for it). Must be called within a Tokio runtime.
    pub fn kick(&self, subscription_arn: &str) {
        if self.inner.config.store.is_none() {
            return;
        }
        let start = {
            let mut state = self.inner.state.lock().expect("notifier lock");
            match state.durable.get_mut(subscription_arn) {
                Some(more) => {
                    *more = true;
                    false
                }
                None => {
                    state.durable.insert(subscription_arn.to_owned(), false);
                    true
                }
            }
        };
        if start {
            tokio::spawn(run(self.inner.clone(), subscription_arn.to_owned()));
        }
    }

    /// Starts sending every durable queue with a message due `grace` ago or earlier: at
    /// start-up (no grace) what a previous run left; later, with a grace, what another process
    /// queued and has not sent (the grace lets that process send its own messages first).
    /// Returns how many messages those queues hold.
    pub async fn resume(&self, grace: Duration) -> i64 {
        let Some(store) = self.inner.config.store.clone() else {
            return 0;
        };
        let grace_ms = i64::try_from(grace.as_millis()).unwrap_or(i64::MAX);
        let due_by = now_ms().saturating_sub(grace_ms);
        let backlog = match store
            .read(move |c| cairn_store::sns_queue::backlog(c, due_by))
            .await
        {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the SNS delivery queues");
                return 0;
            }
        };
        let total: i64 = backlog.iter().map(|(_, n)| n).sum();
        // At start-up what a previous run left is news; the periodic check finding a backlog
        // (a failing subscriber, or one behind) is not, every few seconds (ops8).
        if total > 0 && grace.is_zero() {
            tracing::info!(
                messages = total,
                subscriptions = backlog.len(),
                "resuming queued SNS deliveries"
            );
        } else if total > 0 {
            tracing::debug!(
                messages = total,
                subscriptions = backlog.len(),
                "queued SNS deliveries pending"
            );
        }
        for (sub, _) in &backlog {
            self.kick(sub);
        }
        total
    }
}

/// Stops `sub`'s sender after a store failure: its messages stay queued for the next sweep or start.
fn give_up(inner: &Inner, sub: &str) {
    inner
        .state
        .lock()
        .expect("notifier lock")
        .durable
        .remove(sub);
    inner.idle.notify_waiters();
}

/// The messages this notifier may send: its own (`NotifierConfig::own_messages_only`), or
/// any (`None`).
fn own_messages(inner: &Inner) -> Option<std::collections::HashSet<String>> {
    inner
        .config
        .own_messages_only
        .then(|| inner.state.lock().expect("notifier lock").own.clone())
}

/// Ends the sender of `sub` unless more was queued since it last looked (then it goes on).
fn finished(inner: &Inner, sub: &str) -> bool {
    let mut state = inner.state.lock().expect("notifier lock");
    if state.durable.get(sub).copied().unwrap_or(false) {
        state.durable.insert(sub.to_owned(), false);
        return false;
    }
    state.durable.remove(sub);
    drop(state);
    inner.idle.notify_waiters();
    true
}

/// The wait before retry number `attempts` (0 for the first retry), or `None` when the
/// policy is exhausted or the retry would take the message's retries past SNS's hard limit
/// of an hour in all, whatever a merged topic and subscription policy adds up to.
fn next_retry(policy: &RetryPolicy, attempts: u32) -> Option<Duration> {
    let spent: Duration = (0..attempts.min(MAX_RETRIES))
        .filter_map(|i| policy.delay_before_retry(i))
        .sum();
    policy
        .delay_before_retry(attempts)
        .filter(|wait| spent + *wait <= TOTAL_RETRY_TIME)
}

/// The delivery policy in effect for a subscription: its retries (`None`: the notifier's)
/// and the `Content-Type` of its posts.
struct Policy {
    retry: Option<cairn_core::sns_delivery_policy::HealthyRetry>,
    content_type: Option<String>,
}

/// What a sender sees of its queue at one look.
enum Look {
    /// Nothing left for this sender.
    Empty,
    /// The subscription is gone: its messages were dropped.
    Gone,
    /// Nothing due yet; the earliest is due in this many ms.
    Wait(i64),
    /// A due message, claimed for one attempt, with the subscription's delivery policy.
    Claimed(cairn_store::sns_queue::Queued, Policy),
    /// A due message another sender took first.
    Lost,
}

/// Whether a row is due at `now`: its time has come, or it lies further ahead than any
/// schedule puts it (the wall clock was set back since).
fn due(next_attempt_ms: i64, now: i64) -> bool {
    let horizon = i64::try_from(HORIZON.as_millis()).unwrap_or(i64::MAX);
    next_attempt_ms <= now || next_attempt_ms > now.saturating_add(horizon)
}

/// Looks at `sub`'s queue and claims its oldest due message (among this process's own,
/// when the notifier sends only those).
async fn look(
    inner: &Inner,
    store: &cairn_store::Store,
    sub: &str,
) -> cairn_store::StoreResult<Look> {
    let own = own_messages(inner);
    let s = sub.to_owned();
    let lease_ms = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
    store
        .write(move |c| {
            if cairn_store::sns::get_subscription(c, &s)?.is_none() {
                cairn_store::sns_queue::forget(c, &s)?;
                return Ok(Look::Gone);
            }
            let entries: Vec<_> = cairn_store::sns_queue::entries(c, &s)?
                .into_iter()
                .filter(|e| own.as_ref().is_none_or(|o| o.contains(&e.message_id)))
                .collect();
            let now = now_ms();
            let Some(next) = entries.iter().find(|e| due(e.next_attempt_ms, now)) else {
                return Ok(match entries.iter().map(|e| e.next_attempt_ms).min() {
                    Some(at) => Look::Wait(at - now),
                    None => Look::Empty,
                });
            };
            let next_attempt = now.saturating_add(lease_ms);
            if !cairn_store::sns_queue::claim_at(
                c,
                next.id,
                &next.message_id,
                next.next_attempt_ms,
                next_attempt,
            )? {
                return Ok(Look::Lost);
            }
            let Some(row) = cairn_store::sns_queue::get(c, next.id)? else {
                return Ok(Look::Lost);
            };
            let corrupt = |e: cairn_core::ApiError| cairn_store::StoreError::Corrupt(e.message);
            let policy = Policy {
                retry: cairn_core::sns::retry_policy(c, &s).map_err(corrupt)?,
                content_type: cairn_core::sns::content_type(c, &s).map_err(corrupt)?,
            };
            // The attempt count and time the row had before this claim.
            let row = cairn_store::sns_queue::Queued {
                next_attempt_ms: next.next_attempt_ms,
                ..row
            };
            Ok(Look::Claimed(row, policy))
        })
        .await
        .and_then(|r| r)
}

/// The sender task of one subscription's durable queue.
async fn run(inner: Arc<Inner>, sub: String) {
    let store = inner
        .config
        .store
        .clone()
        .expect("a durable sender has a store");
    let notifier = Notifier {
        inner: inner.clone(),
    };
    loop {
        if let Some(more) = inner
            .state
            .lock()
            .expect("notifier lock")
            .durable
            .get_mut(&sub)
        {
            *more = false;
        }
        // One of a bounded number of attempts at once, taken before the claim (so a claim
        // never waits out its lease) and given back before any wait.
        let Ok(permit) = inner.attempts.acquire().await else {
            give_up(&inner, &sub);
            return;
        };
        let (row, policy) = match look(&inner, &store, &sub).await {
            Ok(Look::Claimed(row, policy)) => (row, policy),
            Ok(Look::Lost) => continue,
            Ok(Look::Wait(ms)) => {
                drop(permit);
                let wait = Duration::from_millis(ms.max(1).unsigned_abs()).min(POLL);
                tokio::time::sleep(wait).await;
                continue;
            }
            Ok(Look::Empty | Look::Gone) => {
                if finished(&inner, &sub) {
                    return;
                }
                continue;
            }
            Err(e) => {
                tracing::error!(subscription = %sub, error = %e,
                    "cannot read the SNS delivery queue; its messages wait, and are sent again within seconds of the store coming back");
                give_up(&inner, &sub);
                return;
            }
        };
        // The sealed part: the shared body, or a whole row queued before bodies were apart.
        let (sealed, row_part) = match row.body.clone() {
            Some(body) => (body, Some(row.payload.as_str())),
            None => (row.payload.clone(), None),
        };
        let opened = open_sealed(&inner, &store, sealed).await;
        let decoded = opened.as_deref().map(|o| match row_part {
            Some(part) => cairn_core::sns_queue::decode(part, Some(o)),
            None => cairn_core::sns_queue::decode(o, None),
        });
        let outcome = match decoded {
            // The topic's key is disabled or gone: retried as a failed delivery is.
            Err(why) => Err((format!("the message cannot be opened: {why}"), true)),
            Ok(Some(p)) => {
                // Signing (RSA) is CPU work: on the blocking pool, never on the workers that
                // answer API calls.
                let signer = notifier.clone();
                let signing = inner.signing.acquire().await;
                let built = tokio::task::spawn_blocking(move || {
                    crate::publish::notification_for(&signer, &p, &p.recipients[0])
                })
                .await;
                drop(signing);
                match built {
                    Ok(mut n) => {
                        if n.protocol.starts_with("http") {
                            n.content_type = policy.content_type.clone();
                        }
                        attempt(&inner, &n).await
                    }
                    Err(e) => Err((format!("the message could not be signed: {e}"), true)),
                }
            }
            Ok(None) => Err(("a queued message this binary cannot read".to_owned(), false)),
        };
        let next = match outcome {
            Ok(()) => {
                inner.state.lock().expect("notifier lock").stats.delivered += 1;
                None
            }
            Err((error, retry)) => {
                let policy = policy
                    .retry
                    .as_ref()
                    .map_or_else(|| inner.config.policy.clone(), policy_of);
                let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
                match next_retry(&policy, attempts).filter(|_| retry) {
                    Some(wait) => {
                        tracing::debug!(subscription = %sub, error = %error, attempts = attempts + 1,
                            ?wait, "notification failed; retrying");
                        let ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                        Some(now_ms().saturating_add(ms))
                    }
                    None => {
                        tracing::warn!(subscription = %sub, error = %error, attempts = attempts + 1,
                            "notification not delivered; the delivery policy is exhausted");
                        inner.state.lock().expect("notifier lock").stats.failed += 1;
                        None
                    }
                }
            }
        };
        let (id, message_id, attempts) = (row.id, row.message_id.clone(), row.attempts + 1);
        let written = store
            .write(move |c| match next {
                Some(at) => cairn_store::sns_queue::retry_later(c, id, &message_id, attempts, at),
                None => cairn_store::sns_queue::remove(c, id, &message_id),
            })
            .await;
        drop(permit);
        if let Err(e) = written.and_then(|r| r) {
            tracing::error!(subscription = %sub, error = %e,
                "cannot record an SNS delivery; it is sent again once its claim lapses (a minute), when the store takes writes again");
            give_up(&inner, &sub);
            return;
        }
    }
}

/// A queued payload ready to decode: a sealed one (a topic with a KMS key) opened with the
/// topic's key, which must still be enabled.
async fn open_sealed(
    inner: &Inner,
    store: &cairn_store::Store,
    payload: String,
) -> Result<String, String> {
    if !cairn_core::sns_sse::is_sealed(&payload) {
        return Ok(payload);
    }
    let Some(master) = inner.config.kms_master.clone() else {
        return Err("no KMS master key to open it with".to_owned());
    };
    store
        .read(move |c| Ok(cairn_core::sns_sse::open(c, &master, &payload)))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stop_within_an_hour_in_all() {
        // 100 retries 1,000 s apart, as a topic's delays with a subscription's count could merge.
        let policy = RetryPolicy {
            num_retries: 100,
            num_no_delay_retries: 0,
            num_min_delay_retries: 0,
            num_max_delay_retries: 0,
            min_delay: Duration::from_secs(1000),
            max_delay: Duration::from_secs(1000),
        };
        let allowed = (0..100)
            .take_while(|a| next_retry(&policy, *a).is_some())
            .count();
        assert_eq!(allowed, 3, "three waits of 1,000 s fit in 3,600 s");
        let default = RetryPolicy::sns_http_default();
        assert_eq!(next_retry(&default, 0), default.delay_before_retry(0));
    }
}
