//! CloudWatch alarm evaluation: the server's loop ([`run_loop`]) and `cairn alarms run`, which
//! evaluates a data dir's alarms once as of a given time (safe while a server runs on the data
//! dir: the evaluation is one store transaction, and each alarm is evaluated at most once per
//! period end, whoever gets there first).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use cairn_core::kms::MasterKey;

use clap::{Args, Subcommand};

/// Evaluates every alarm due as of `now_ms` in one write transaction, then queues the
/// notifications of its state changes. Returns how many publications were queued. `master`
/// (the KMS master key; `None` only when the data dir has none, and so no KMS key) lets
/// CloudWatch seal notifications to topics with a KMS key.
pub async fn evaluate_once(
    store: &cairn_store::Store,
    notifier: &cairn_delivery::Notifier,
    master: Option<Arc<MasterKey>>,
    now_ms: i64,
    force: bool,
    budget: usize,
) -> anyhow::Result<usize> {
    let sent = store
        .write(move |c| {
            let evaluator = cairn_core::authz::PolicyEvaluator::new();
            let kms = master.as_deref().map(|master| cairn_core::sse::KmsAccess {
                master,
                evaluator: &evaluator,
            });
            cairn_store::with_savepoint(c, |c| {
                cairn_core::alarms::run::evaluate_pass_within(c, now_ms, force, budget, kms)
            })
        })
        .await??;
    for p in &sent {
        cairn_delivery::publish(notifier, p);
    }
    Ok(sent.len())
}

/// The server's evaluation loop: every `tick`, evaluate the alarms whose period has ended.
pub async fn run_loop(
    store: cairn_store::Store,
    notifier: cairn_delivery::Notifier,
    master: Arc<MasterKey>,
    tick: Duration,
) {
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = chrono::Utc::now().timestamp_millis();
        let budget = cairn_core::alarms::run::MAX_POINTS_PER_PASS;
        match evaluate_once(&store, &notifier, Some(master.clone()), now, false, budget).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(published = n, "alarm actions"),
            // A full store is reported by the store once and then once a minute; a line per
            // tick would fill the log on the same full disk (upgrade4).
            Err(e) if crate::serve::store_full(&e) => {
                tracing::debug!(error = %e, "alarm evaluation waits: the store is full")
            }
            Err(e) => tracing::warn!(error = %e, "alarm evaluation failed"),
        }
    }
}

/// Arguments of `cairn alarms`.
#[derive(Args, Debug)]
pub struct AlarmsArgs {
    #[command(subcommand)]
    command: AlarmsCommand,
}

#[derive(Subcommand, Debug)]
enum AlarmsCommand {
    /// Evaluate every alarm once, as of `--now`, and send the notifications of state changes.
    Run {
        /// Data directory.
        #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
        data_dir: PathBuf,
        /// The evaluation time: epoch seconds or ISO-8601 (default: now). Every alarm is
        /// evaluated at the end of its period containing this time, even if that period was
        /// evaluated already.
        #[arg(long, value_parser = crate::timearg::parse)]
        now: Option<f64>,
        /// Longest wait for queued SNS notifications before exiting, seconds (0 to one day).
        #[arg(long, allow_negative_numbers = true, default_value_t = 30.0, value_parser = crate::bounds::flag::notification_wait)]
        notification_wait: f64,
        /// The KMS master key file, as `serve` takes it (default:
        /// `<data-dir>.kms-master-key`): actions on a topic with a KMS key need it.
        #[arg(long, env = "CAIRN_KMS_MASTER_KEY_FILE")]
        kms_master_key_file: Option<PathBuf>,
    },
}

/// Runs an alarms command.
pub fn run(args: AlarmsArgs) -> anyhow::Result<()> {
    match args.command {
        AlarmsCommand::Run {
            data_dir,
            now,
            notification_wait,
            kms_master_key_file,
        } => {
            crate::serve::init_logs(false, false);
            let store = crate::admin_store::open_existing(&data_dir)?;
            // Without the master key, alarms still run; only actions on topics with a KMS
            // key fail (they are never sent unsealed).
            let master = crate::kms_cmd::master_key_for_admin(
                &store,
                &data_dir,
                kms_master_key_file.as_deref(),
            )
            .unwrap_or_else(|e| {
                eprintln!("cairn: warning: {e:#}; actions on SNS topics with a KMS key will fail");
                None
            });
            let now_ms = now.map_or_else(
                || chrono::Utc::now().timestamp_millis(),
                |n| (n * 1000.0) as i64,
            );
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let notifier = cairn_delivery::Notifier::new(cairn_delivery::NotifierConfig {
                signer: cairn_delivery::SnsSigner::load_or_create(&data_dir)
                    .ok()
                    .map(std::sync::Arc::new),
                maildir: Some(data_dir.join("mail")),
                base_url: cairn_delivery::admin_base_url(&data_dir),
                store: Some(store.clone()),
                own_messages_only: true,
                // What it queued for encrypted topics is sealed: it opens it to send it.
                kms_master: master.clone(),
                ..Default::default()
            });
            let published = runtime.block_on(async {
                let n = evaluate_once(&store, &notifier, master, now_ms, now.is_some(), usize::MAX)
                    .await?;
                notifier
                    .drain(Duration::from_secs_f64(notification_wait.max(0.0)))
                    .await;
                anyhow::Ok(n)
            })?;
            let stats = notifier.stats();
            println!(
                "{}",
                serde_json::json!({"Published": published, "Delivered": stats.delivered, "Failed": stats.failed})
            );
            Ok(())
        }
    }
}
