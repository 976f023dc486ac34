//! SNS messages to subscribers (published messages, alarm notifications, CloudTrail's file
//! notifications, subscription confirmations), sent off the calling path.
//!
//! Every subscription has its own queue and its own sender task, so a slow, failing or
//! silent endpoint holds up only its own notifications, never delivery, digests or another
//! subscriber. Sending follows SNS's HTTP/S rules: the endpoint must answer within a timeout
//! (SNS waits about 15 seconds); 2xx–4xx is delivered, anything else (5xx, no answer, no
//! connection) is retried under the delivery policy ([`RetryPolicy`], by default SNS's: three
//! retries 20 seconds apart), then dropped and counted, as SNS discards a message whose
//! policy is exhausted. A queue holds at most [`NotifierConfig::backlog`] notifications;
//! beyond that the oldest is dropped, counted and logged. Once a subscription is confirmed
//! ([`Notifier::confirmed`]), its SubscriptionConfirmation is no longer sent or retried, so
//! its notifications never wait behind a confirmation the endpoint failed to take.
//!
//! Published messages (Publish, alarm actions, CloudTrail's file notifications) are queued in
//! the store by the transaction that accepts them and sent from there ([`durable`]), so they
//! survive a restart or crash, under the delivery policy in effect for each subscription;
//! those queues hold at most `cairn_core::sns_queue::QUEUE_BOUND` messages. Confirmations
//! use the in-memory queues ([`Notifier::send`]): one lost with the process is sent again by
//! a new `Subscribe`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An HTTP/S delivery policy (SNS `healthyRetryPolicy`): retries in four phases — without
/// delay, at the minimum delay, backing off linearly from the minimum to the maximum delay,
/// then at the maximum delay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries in total, over all phases (`numRetries`).
    pub num_retries: u32,
    /// Retries without delay (`numNoDelayRetries`).
    pub num_no_delay_retries: u32,
    /// Retries at the minimum delay (`numMinDelayRetries`).
    pub num_min_delay_retries: u32,
    /// Retries at the maximum delay, after the backoff phase (`numMaxDelayRetries`).
    pub num_max_delay_retries: u32,
    /// `minDelayTarget`.
    pub min_delay: Duration,
    /// `maxDelayTarget`.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// SNS's default for HTTP/S endpoints: `numRetries` 3, `minDelayTarget` and
    /// `maxDelayTarget` 20 s, linear backoff ("up to three retries with a delay between
    /// failed attempts set at 20 seconds").
    pub fn sns_http_default() -> Self {
        Self {
            num_retries: 3,
            num_no_delay_retries: 0,
            num_min_delay_retries: 0,
            num_max_delay_retries: 0,
            min_delay: Duration::from_secs(20),
            max_delay: Duration::from_secs(20),
        }
    }

    /// The wait before retry `n` (0 = the first retry), or `None` once the policy is
    /// exhausted.
    pub fn delay_before_retry(&self, n: u32) -> Option<Duration> {
        if n >= self.num_retries {
            return None;
        }
        let no_delay = self.num_no_delay_retries;
        let at_min = no_delay + self.num_min_delay_retries;
        let backoff = self
            .num_retries
            .saturating_sub(at_min + self.num_max_delay_retries);
        if n < no_delay {
            return Some(Duration::ZERO);
        }
        if n < at_min {
            return Some(self.min_delay);
        }
        if n < at_min + backoff {
            let step = n - at_min + 1;
            let span = self.max_delay.saturating_sub(self.min_delay);
            return Some(self.min_delay + span.mul_f64(f64::from(step) / f64::from(backoff)));
        }
        Some(self.max_delay)
    }
}

/// Says why an endpoint address may not be reached (`Some(reason)`), or `None` when it may.
pub type AddressGuard = Arc<dyn Fn(SocketAddr) -> Option<String> + Send + Sync>;

/// How notifications are sent.
#[derive(Clone)]
pub struct NotifierConfig {
    /// The delivery policy.
    pub policy: RetryPolicy,
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for the endpoint's answer, connection included.
    pub request_timeout: Duration,
    /// Most notifications queued per subscription; the oldest is dropped beyond it.
    pub backlog: usize,
    /// With a guard, each notification's endpoint is resolved once, every address is checked,
    /// and the request is pinned to those addresses (no second lookup that could rebind).
    pub guard: Option<AddressGuard>,
    /// Signs the JSON messages (`Signature`, `SigningCertURL`); unsigned without one.
    pub signer: Option<Arc<crate::SnsSigner>>,
    /// Cairn's URL for subscriptions that recorded none (made before version 16).
    pub base_url: String,
    /// Where `email` and `email-json` subscriptions' mail is written (a maildir); without
    /// one, mail is not sent.
    pub maildir: Option<std::path::PathBuf>,
    /// The store holding the durable queues ([`durable`]): published messages are sent from
    /// it. Without one, only [`Notifier::send`]'s in-memory queues are sent.
    pub store: Option<cairn_store::Store>,
    /// Send, from the durable queues, only the messages this notifier published (a
    /// command beside the server: the server sends the rest, under its address guard).
    pub own_messages_only: bool,
    /// KMS's master key, to open the queued messages of topics with a KMS key
    /// (`cairn_core::sns_sse`); without one they cannot be sent.
    pub kms_master: Option<Arc<cairn_core::kms::MasterKey>>,
}

impl std::fmt::Debug for NotifierConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotifierConfig")
            .field("policy", &self.policy)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("backlog", &self.backlog)
            .field("guard", &self.guard.is_some())
            .field("signer", &self.signer)
            .field("base_url", &self.base_url)
            .field("maildir", &self.maildir)
            .field("store", &self.store.is_some())
            .field("own_messages_only", &self.own_messages_only)
            .finish()
    }
}

/// The URL the links of messages an admin command sends (`cairn flush`, `cairn alarms run`)
/// fall back to for subscriptions that follow the listener: the address the data dir's
/// running server recorded in `<data-dir>/ENDPOINT`, else `serve`'s default listener
/// (`http://127.0.0.1:4599`), never a URL without the server's port. The URL is the file's
/// first line; the lines after it identify the data dir and are not part of any link.
pub fn admin_base_url(data_dir: &std::path::Path) -> String {
    std::fs::read_to_string(data_dir.join("ENDPOINT"))
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .map(|l| l.trim().trim_end_matches('/').to_owned())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "http://127.0.0.1:4599".to_owned())
}

impl Default for NotifierConfig {
    fn default() -> Self {
        Self {
            policy: RetryPolicy::sns_http_default(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            backlog: 1000,
            guard: None,
            signer: None,
            base_url: "http://127.0.0.1".into(),
            maildir: None,
            store: None,
            own_messages_only: false,
            kms_master: None,
        }
    }
}

/// One message for one subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    /// The subscription (its queue).
    pub subscription_arn: String,
    /// Its HTTP(S) endpoint.
    pub endpoint: String,
    /// The topic.
    pub topic_arn: String,
    /// `http`, `https`, `email` or `email-json`.
    pub protocol: String,
    /// `x-amz-sns-message-type`.
    pub message_type: crate::sns_message::MessageType,
    /// `x-amz-sns-message-id`.
    pub message_id: String,
    /// Raw message delivery (`x-amz-sns-rawdelivery: true`).
    pub raw: bool,
    /// The mail's subject (email protocols).
    pub subject: Option<String>,
    /// The mail's sender name: the topic's `DisplayName` ("AWS Notifications" without).
    pub sender: Option<String>,
    /// What the endpoint receives: the signed JSON message, the raw message, or the mail's
    /// text; retries resend it unchanged.
    pub body: String,
    /// The `Content-Type` it is posted with (`None`: SNS's `text/plain; charset=UTF-8`); the
    /// subscription's delivery policy may set another (`requestPolicy.headerContentType`).
    pub content_type: Option<String>,
}

/// Counters since start.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotifyStats {
    /// Answered 2xx–4xx.
    pub delivered: u64,
    /// Given up after the policy's last retry.
    pub failed: u64,
    /// Dropped from a full queue.
    pub dropped: u64,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Notification>,
    /// A sender task is running for this queue (it holds one notification besides these).
    busy: bool,
    /// Set once the subscription is confirmed: a confirmation being sent stops.
    confirmed: Arc<Confirmed>,
}

/// That a subscription was confirmed, and a wake-up for the confirmation waiting to retry.
#[derive(Default)]
struct Confirmed {
    done: AtomicBool,
    wake: tokio::sync::Notify,
}

impl Confirmed {
    /// Returns once the subscription is confirmed.
    async fn wait(&self) {
        loop {
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.done.load(Ordering::SeqCst) {
                return;
            }
            woken.await;
        }
    }
}

#[derive(Default)]
struct State {
    queues: HashMap<String, Queue>,
    /// Subscriptions whose durable queue has a sender task; `true` when more was queued
    /// since the task last looked.
    durable: HashMap<String, bool>,
    /// The message ids this notifier published (kept only with
    /// [`NotifierConfig::own_messages_only`]).
    own: std::collections::HashSet<String>,
    stats: NotifyStats,
}

struct Inner {
    client: reqwest::Client,
    config: NotifierConfig,
    state: Mutex<State>,
    idle: tokio::sync::Notify,
    /// Attempts of the durable senders under way at once, at most [`MAX_ATTEMPTS_AT_ONCE`]
    /// (each holds a connection until its endpoint answers or times out).
    attempts: tokio::sync::Semaphore,
    /// Messages being signed at once, at most [`MAX_SIGNING_AT_ONCE`], on the blocking pool:
    /// one sender per subscription signing on the async workers let a topic owner with a
    /// hundred endpoints keep every worker busy (hostile9), while a silent endpoint costs no
    /// CPU and must not hold up other subscriptions' deliveries.
    signing: tokio::sync::Semaphore,
}

/// Most durable deliveries attempted at once, across every subscription.
pub const MAX_ATTEMPTS_AT_ONCE: usize = 64;

/// Most messages signed at once (CPU work), across every subscription.
const MAX_SIGNING_AT_ONCE: usize = 2;

/// The notification sender. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

impl Notifier {
    /// A notifier. Sender tasks start on the Tokio runtime of the first [`Notifier::send`].
    pub fn new(config: NotifierConfig) -> Self {
        let client = client_builder(&config)
            .build()
            .expect("an HTTP client with timeouts builds");
        Self {
            inner: Arc::new(Inner {
                client,
                config,
                state: Mutex::new(State::default()),
                idle: tokio::sync::Notify::new(),
                attempts: tokio::sync::Semaphore::new(MAX_ATTEMPTS_AT_ONCE),
                signing: tokio::sync::Semaphore::new(MAX_SIGNING_AT_ONCE),
            }),
        }
    }

    /// Queues a notification and returns at once. Must be called within a Tokio runtime.
    pub fn send(&self, n: Notification) {
        let sub = n.subscription_arn.clone();
        let start = {
            let mut state = self.inner.state.lock().expect("notifier lock");
            let backlog = self.inner.config.backlog.max(1);
            let queue = state.queues.entry(sub.clone()).or_default();
            queue.pending.push_back(n);
            let mut dropped = 0;
            while queue.pending.len() > backlog {
                queue.pending.pop_front();
                dropped += 1;
            }
            let start = !queue.busy;
            queue.busy = true;
            if dropped > 0 {
                state.stats.dropped += dropped;
                tracing::warn!(subscription = %sub, dropped, total_dropped = state.stats.dropped,
                    "notification backlog full; the oldest notifications were dropped");
            }
            start
        };
        if start {
            tokio::spawn(work(self.inner.clone(), sub));
        }
    }

    /// Tells the notifier a subscription is confirmed: its SubscriptionConfirmation still
    /// queued is dropped, and one being sent or waiting to be retried stops, so the
    /// subscription's notifications go next.
    pub fn confirmed(&self, subscription_arn: &str) {
        let mut state = self.inner.state.lock().expect("notifier lock");
        if let Some(queue) = state.queues.get_mut(subscription_arn) {
            queue.pending.retain(|n| {
                n.message_type != crate::sns_message::MessageType::SubscriptionConfirmation
            });
            queue.confirmed.done.store(true, Ordering::SeqCst);
            queue.confirmed.wake.notify_waiters();
        }
    }

    /// The signer of JSON messages, if any.
    pub fn signer(&self) -> Option<Arc<crate::SnsSigner>> {
        self.inner.config.signer.clone()
    }

    /// Cairn's URL for subscriptions that recorded none.
    pub fn base_url(&self) -> &str {
        &self.inner.config.base_url
    }

    /// Counters since start.
    pub fn stats(&self) -> NotifyStats {
        self.inner.state.lock().expect("notifier lock").stats
    }

    /// Notifications queued or being sent in memory, plus the durable queues being sent.
    pub fn outstanding(&self) -> usize {
        let state = self.inner.state.lock().expect("notifier lock");
        state
            .queues
            .values()
            .map(|q| q.pending.len() + usize::from(q.busy))
            .sum::<usize>()
            + state.durable.len()
    }

    /// Waits until every queue is empty and idle, for at most `limit`. Returns whether it
    /// got there (`cairn flush` waits for its notifications before exiting).
    pub async fn drain(&self, limit: Duration) -> bool {
        let wait = async {
            loop {
                let idle = self.inner.idle.notified();
                if self.outstanding() == 0 {
                    return;
                }
                idle.await;
            }
        };
        tokio::time::timeout(limit, wait).await.is_ok()
    }
}

/// The sender task of one subscription: sends its queue in order until it is empty.
async fn work(inner: Arc<Inner>, sub: String) {
    loop {
        let (next, confirmed) = {
            let mut state = inner.state.lock().expect("notifier lock");
            let queue = state.queues.get_mut(&sub).expect("a busy queue exists");
            match queue.pending.pop_front() {
                Some(n) => (n, queue.confirmed.clone()),
                None => {
                    state.queues.remove(&sub);
                    drop(state);
                    inner.idle.notify_waiters();
                    return;
                }
            }
        };
        let delivered = deliver(&inner, &next, &confirmed).await;
        let mut state = inner.state.lock().expect("notifier lock");
        if delivered {
            state.stats.delivered += 1;
        } else {
            state.stats.failed += 1;
        }
    }
}

fn client_builder(config: &NotifierConfig) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        .redirect(reqwest::redirect::Policy::none())
}

/// The client to reach `endpoint` with: the shared one, or, under a guard, one pinned to the
/// endpoint's checked addresses. `Err` says why the endpoint may not be reached.
async fn client_for(inner: &Inner, endpoint: &str) -> Result<reqwest::Client, String> {
    let Some(guard) = &inner.config.guard else {
        return Ok(inner.client.clone());
    };
    let url = reqwest::Url::parse(endpoint).map_err(|_| "not a valid URL".to_owned())?;
    let host = url.host_str().ok_or("the URL has no host")?;
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addrs: Vec<SocketAddr> = tokio::time::timeout(
        inner.config.connect_timeout,
        tokio::net::lookup_host((bare.as_str(), port)),
    )
    .await
    .map_err(|_| "the host name did not resolve in time".to_owned())?
    .map_err(|_| "the host name does not resolve".to_owned())?
    .collect();
    if addrs.is_empty() {
        return Err("the host name does not resolve".to_owned());
    }
    if let Some(why) = addrs.iter().find_map(|a| guard(*a)) {
        return Err(why);
    }
    client_builder(&inner.config)
        .resolve_to_addrs(&bare, &addrs)
        .build()
        .map_err(|e| format!("cannot build a client: {e}"))
}

/// Sends one notification under the delivery policy. Returns whether it was delivered (a
/// SubscriptionConfirmation overtaken by the subscription's confirmation counts as
/// delivered: the endpoint took it).
async fn deliver(inner: &Inner, n: &Notification, confirmed: &Confirmed) -> bool {
    if n.message_type == crate::sns_message::MessageType::SubscriptionConfirmation {
        tokio::select! {
            delivered = deliver_under_policy(inner, n) => delivered,
            () = confirmed.wait() => {
                tracing::debug!(subscription = %n.subscription_arn,
                    "subscription confirmed; its confirmation is no longer sent");
                true
            }
        }
    } else {
        deliver_under_policy(inner, n).await
    }
}

/// One attempt to deliver `n`: `Ok` when delivered; `Err((reason, retry))` otherwise, with
/// `retry` false when retrying cannot help (mail not written, an endpoint that may not be
/// reached).
async fn attempt(inner: &Inner, n: &Notification) -> Result<(), (String, bool)> {
    if n.protocol.starts_with("email") {
        return crate::mail::write(inner.config.maildir.as_deref(), n)
            .await
            .map_err(|e| {
                tracing::warn!(subscription = %n.subscription_arn, error = %e, "mail not written");
                (e.to_string(), false)
            });
    }
    let client = client_for(inner, &n.endpoint).await.map_err(|why| {
        tracing::warn!(endpoint = %cairn_core::sns_subscription_checks::masked_endpoint(&n.endpoint), subscription = %n.subscription_arn, reason = %why,
            "notification not sent: the endpoint may not be reached");
        (why, false)
    })?;
    post(&client, n).await.map_err(|e| (e, true))
}

async fn deliver_under_policy(inner: &Inner, n: &Notification) -> bool {
    let mut retry = 0;
    loop {
        let error = match attempt(inner, n).await {
            Ok(()) => return true,
            Err((_, false)) => return false,
            Err((e, true)) => e,
        };
        match inner.config.policy.delay_before_retry(retry) {
            Some(wait) => {
                tracing::debug!(endpoint = %cairn_core::sns_subscription_checks::masked_endpoint(&n.endpoint), error = %error, retry, ?wait, "notification failed; retrying");
                tokio::time::sleep(wait).await;
                retry += 1;
            }
            None => {
                tracing::warn!(endpoint = %cairn_core::sns_subscription_checks::masked_endpoint(&n.endpoint), subscription = %n.subscription_arn, error = %error,
                    attempts = retry + 1, "notification not delivered; the delivery policy is exhausted");
                return false;
            }
        }
    }
}

async fn post(client: &reqwest::Client, n: &Notification) -> Result<(), String> {
    let mut req = client
        .post(&n.endpoint)
        .header("x-amz-sns-message-type", n.message_type.as_str())
        .header("x-amz-sns-message-id", n.message_id.as_str())
        .header("x-amz-sns-topic-arn", n.topic_arn.as_str())
        .header(
            "content-type",
            n.content_type
                .as_deref()
                .unwrap_or("text/plain; charset=UTF-8"),
        )
        .header("user-agent", "Amazon Simple Notification Service Agent");
    if n.message_type != crate::sns_message::MessageType::SubscriptionConfirmation {
        req = req.header("x-amz-sns-subscription-arn", n.subscription_arn.as_str());
    }
    if n.raw {
        req = req.header("x-amz-sns-rawdelivery", "true");
    }
    let resp = req
        .body(n.body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    // "Amazon SNS considers all 5XX errors and 429 (too many requests sent) errors as
    // retryable"; any other answer is the endpoint's and ends the delivery.
    if (200..500).contains(&status) && status != 429 {
        Ok(())
    } else {
        Err(format!("status {status}"))
    }
}

mod durable;

#[cfg(test)]
mod tests;
