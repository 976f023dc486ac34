//! Admin commands that work directly on a data dir (also while the server runs):
//! `cairn events` prints stored records, `cairn lifecycle run` applies lifecycle
//! expiration as of a given time.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use cairn_store::events;
use clap::{Args, Subcommand};

/// Arguments of `cairn events`.
#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Data directory.
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// Event category.
    #[arg(long, value_enum, default_value_t = Category::Management)]
    category: Category,
}

/// The event categories a store holds.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Category {
    /// Management events.
    #[value(name = "Management")]
    Management,
    /// Data events.
    #[value(name = "Data")]
    Data,
    /// Insights events.
    #[value(name = "Insight")]
    Insight,
}

/// Prints every stored record of a category as one JSON object per line, oldest first. A
/// reader that stops early (`cairn events | head`) ends the command quietly.
pub fn events(args: EventsArgs) -> anyhow::Result<()> {
    let store = crate::admin_store::open_existing(&args.data_dir)?;
    let mut out = std::io::stdout().lock();
    let mut after = 0;
    let category = match args.category {
        Category::Management => "Management",
        Category::Data => "Data",
        Category::Insight => "Insight",
    };
    loop {
        let page = store.read_blocking(move |c| events::records(c, category, after, 10_000))?;
        let Some((last, _)) = page.last() else {
            return Ok(());
        };
        after = *last;
        for (_, record) in page {
            // A reader that went away ends the command as `SIGPIPE` would (main: status 141).
            writeln!(out, "{record}")?;
        }
    }
}

/// Arguments of `cairn lifecycle`.
#[derive(Args, Debug)]
pub struct LifecycleArgs {
    #[command(subcommand)]
    command: LifecycleCommand,
}

#[derive(Subcommand, Debug)]
enum LifecycleCommand {
    /// Expire every object (and abort every upload) due under its bucket's lifecycle rules.
    Run {
        /// Data directory.
        #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
        data_dir: PathBuf,
        /// The time to evaluate rules at: epoch seconds or ISO-8601 (default: now).
        #[arg(long, value_parser = crate::timearg::parse)]
        now: Option<f64>,
    },
}

/// Runs a lifecycle command.
pub fn lifecycle(args: LifecycleArgs) -> anyhow::Result<()> {
    match args.command {
        LifecycleCommand::Run { data_dir, now } => {
            let store = crate::admin_store::open_existing(&data_dir)?;
            let now = now.unwrap_or_else(|| chrono::Utc::now().timestamp() as f64);
            let swept = crate::serve::expire_objects(&store, &data_dir, now)?;
            println!(
                "{}",
                serde_json::json!({"Expired": swept.objects, "AbortedUploads": swept.uploads})
            );
            Ok(())
        }
    }
}

/// Arguments of `cairn external`.
#[derive(Args, Debug)]
pub struct ExternalArgs {
    /// Settings file with the `[buckets.<name>]` sections.
    #[arg(long, env = "CAIRN_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: ExternalCommand,
}

#[derive(Subcommand, Debug)]
enum ExternalCommand {
    /// Check that a configured external bucket is reachable.
    Check {
        /// Bucket name (as configured).
        #[arg(long)]
        bucket: String,
    },
    /// Upload a file with `x-amz-meta-*` metadata.
    Put {
        /// Bucket name (as configured).
        #[arg(long)]
        bucket: String,
        /// Object key.
        #[arg(long)]
        key: String,
        /// File to upload.
        #[arg(long)]
        file: PathBuf,
        /// Metadata as `name=value` (repeatable).
        #[arg(long = "meta")]
        meta: Vec<String>,
    },
    /// Download an object; prints its size, SHA-256 and metadata as JSON.
    Get {
        /// Bucket name (as configured).
        #[arg(long)]
        bucket: String,
        /// Object key.
        #[arg(long)]
        key: String,
    },
}

/// Runs an external-bucket command (connectivity checks for `[buckets.*]` settings).
pub fn external(args: ExternalArgs) -> anyhow::Result<()> {
    let config = crate::config::ServeConfig::resolve(&crate::config::ServeArgs {
        config: Some(args.config),
        ..Default::default()
    })?;
    let buckets = cairn_buckets::ExternalBuckets::new(&config.external_buckets)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match args.command {
            ExternalCommand::Check { bucket } => match buckets.reachable(&bucket).await {
                Ok(reachable) => {
                    println!("{}", serde_json::json!({"Bucket": bucket, "Reachable": reachable}));
                }
                Err(e) => {
                    println!(
                        "{}",
                        serde_json::json!({"Bucket": bucket, "Reachable": false, "Error": e.to_string()})
                    );
                    anyhow::bail!("bucket {bucket} is not reachable");
                }
            },
            ExternalCommand::Put { bucket, key, file, meta } => {
                let body = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let metadata = meta
                    .iter()
                    .map(|m| {
                        m.split_once('=')
                            .map(|(k, v)| (k.to_owned(), v.to_owned()))
                            .with_context(|| format!("--meta {m:?} is not name=value"))
                    })
                    .collect::<anyhow::Result<_>>()?;
                buckets.put(&bucket, &key, body.into(), &metadata).await?;
            }
            ExternalCommand::Get { bucket, key } => {
                use sha2::Digest;
                let object = buckets.get(&bucket, &key).await?;
                println!(
                    "{}",
                    serde_json::json!({
                        "Size": object.body.len(),
                        "Sha256": hex::encode(sha2::Sha256::digest(&object.body)),
                        "Metadata": object.metadata,
                    })
                );
            }
        }
        Ok(())
    })
}

/// Arguments of `cairn flush`.
#[derive(Args, Debug)]
pub struct FlushArgs {
    /// Data directory (must exist; refused while a server runs on it).
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// Settings file (for external buckets).
    #[arg(long, env = "CAIRN_CONFIG")]
    config: Option<PathBuf>,
    /// Deliver as of this time, epoch seconds or ISO-8601 (default: now). Tests use it to
    /// step a trail through digest periods without waiting.
    #[arg(long, value_parser = crate::timearg::parse)]
    now: Option<f64>,
    /// Take a `--now` later than the system clock (test data dirs only: files and digests are
    /// named after it, and no later digest can be written until the clock passes it).
    #[arg(long)]
    allow_future_now: bool,
    /// Most events per log file (1 to 10,000,000; default 50,000).
    #[arg(long, allow_negative_numbers = true, value_parser = crate::bounds::flag::events_per_file)]
    max_events_per_file: Option<usize>,
    /// Most uncompressed bytes per log file (1 to 1 GiB; default 8 MiB).
    #[arg(long, allow_negative_numbers = true, value_parser = crate::bounds::flag::file_bytes)]
    max_file_bytes: Option<usize>,
    /// Longest wait for queued SNS notifications before exiting, seconds (0 to one day).
    #[arg(long, allow_negative_numbers = true, default_value_t = 30.0, value_parser = crate::bounds::flag::notification_wait)]
    notification_wait: f64,
    /// The KMS master key file, as `serve` takes it (default: `<data-dir>.kms-master-key`).
    /// It must be the key the data dir remembers: after `cairn kms rotate-master-key`, the
    /// new one.
    #[arg(long, env = "CAIRN_KMS_MASTER_KEY_FILE")]
    kms_master_key_file: Option<PathBuf>,
}

/// Delivers every pending event now and writes every trail's digest, due or not. Holds the
/// data-dir lock throughout: it is refused while a server runs on the data dir (two writers
/// of one digest chain would fork it). Returns whether everything was delivered: a file or
/// log event that failed stays pending, is counted in the printed `Failed`, and makes the
/// command exit with [`FLUSH_INCOMPLETE`].
pub fn flush(args: FlushArgs) -> anyhow::Result<bool> {
    // Failures (a bucket refusing, damaged state) are logged to stderr as the server logs them.
    crate::serve::init_logs(false, false);
    refuse_future(args.now, args.allow_future_now)?;
    // Checked before the lock, whose file would otherwise be left in any directory named.
    crate::admin_store::require_data_dir(&args.data_dir)?;
    let _lock = crate::datadir::lock(&args.data_dir, crate::datadir::Holder::Admin("flush"))?;
    let config = crate::config::ServeConfig::resolve(&crate::config::ServeArgs {
        config: args.config,
        data_dir: Some(args.data_dir.clone()),
        kms_master_key_file: args.kms_master_key_file,
        ..Default::default()
    })?;
    let store = crate::admin_store::open_existing(&args.data_dir)?;
    // Checked before anything is delivered: SSE-S3 files and trails' KMS keys both need it.
    let master = crate::kms_cmd::master_key_for_admin(
        &store,
        &args.data_dir,
        config.kms_master_key_file.as_deref(),
    )?;
    let external = cairn_buckets::ExternalBuckets::new(&config.external_buckets)?;
    if let Some(now) = args.now {
        let latest = store.read_blocking(|c| {
            let mut latest: Option<(f64, String)> = None;
            for arn in cairn_store::delivery::trails_to_deliver(c)? {
                if let Some(t) = cairn_store::delivery::latest_delivery(c, &arn)?
                    && latest.as_ref().is_none_or(|(l, _)| t > *l)
                {
                    latest = Some((t, arn));
                }
            }
            Ok(latest)
        })?;
        refuse_past(now, latest)?;
    }
    let head = store.read_blocking(cairn_store::delivery::max_seq)?;
    let checker = store.clone();
    let mut worker =
        cairn_delivery::Delivery::new(store, &args.data_dir, external, config.digest_interval)?
            .with_planning_bound(head);
    // SSE-S3 files and trails with a KMS key are sealed under the master key.
    if let Some(m) = master {
        worker = worker.with_kms(m);
    }
    if let Some(n) = args.max_events_per_file {
        worker = worker.with_max_events_per_file(n);
    }
    if let Some(n) = args.max_file_bytes {
        worker = worker.with_max_file_bytes(n);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let now = args
        .now
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis() as f64 / 1000.0);
    let started = std::time::Instant::now();
    // Step until everything recorded so far is planned; the last step writes the digests.
    let mut total = cairn_delivery::Outcome::default();
    let mut add = |o: cairn_delivery::Outcome| {
        total.files += o.files;
        total.events += o.events;
        total.digests += o.digests;
        total.failed += o.failed;
        total.logs.events += o.logs.events;
        // Each step retries what the last one left, so the last step's count is what stays.
        total.logs.failed = o.logs.failed;
    };
    loop {
        let o = runtime.block_on(worker.run_once(now, false))?;
        let planned = o.planned;
        let logged = o.logs.events;
        add(o);
        if planned == 0 && logged == 0 {
            break;
        }
    }
    add(runtime.block_on(worker.run_once(now, true))?);
    // A digest ends at a whole second, after the files it lists were delivered and after the
    // trail's last digest: files delivered in this second, and final digests of stops, wait
    // for the next. On the real clock (no `--now`), flush steps again each second while
    // either is owed (for as many seconds as finals are owed, at most a minute).
    if args.now.is_none() {
        let owing = |c: &cairn_store::Connection| -> cairn_store::StoreResult<usize> {
            Ok(owed_final_digests(c)? + undigested_files(c)?)
        };
        let mut owed = checker.read_blocking(owing)?;
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_secs(owed.min(60) as u64 + 2);
        while owed > 0 && std::time::Instant::now() < deadline {
            let next_second = 1.0 - (chrono::Utc::now().timestamp_millis() % 1000) as f64 / 1000.0;
            std::thread::sleep(std::time::Duration::from_secs_f64(next_second));
            let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
            add(runtime.block_on(worker.run_once(now, true))?);
            owed = checker.read_blocking(owing)?;
        }
    }
    let wait = std::time::Duration::from_secs_f64(args.notification_wait);
    if !runtime.block_on(worker.notifier().drain(wait)) {
        tracing::warn!(
            outstanding = worker.notifier().outstanding(),
            "notifications still queued when flush gave up waiting; they stay queued for the next server start"
        );
    }
    // Final digests stops still owe: written at most one a second per trail and region (a
    // digest's name carries its end second), so a burst of stops leaves some for later steps.
    let owed = checker.read_blocking(owed_final_digests)?;
    if owed > 0 {
        tracing::warn!(
            owed,
            "final digests of stopped logging windows are still to be written (one a second per trail and region); run flush again or let a server write them"
        );
    }
    println!(
        "{}",
        serde_json::json!({"Files": total.files, "Events": total.events, "Digests": total.digests,
                           "Failed": total.failed, "LogEvents": total.logs.events,
                           "LogEventsFailed": total.logs.failed, "FinalDigestsOwed": owed,
                           "Seconds": started.elapsed().as_secs_f64()})
    );
    Ok(total.failed == 0 && total.logs.failed == 0 && owed == 0)
}

/// How many trails with log file validation on have written files that no digest lists yet.
fn undigested_files(c: &cairn_store::Connection) -> cairn_store::StoreResult<usize> {
    let mut n = 0;
    for t in cairn_store::trails::all(c)? {
        if t.log_file_validation_enabled {
            n += usize::from(cairn_store::delivery::has_undigested(c, &t.arn())?);
        }
    }
    Ok(n)
}

/// Final digests owed by stops of live and deleted trails and not yet written in the trail's
/// home region.
fn owed_final_digests(c: &cairn_store::Connection) -> cairn_store::StoreResult<usize> {
    let trails = cairn_store::trails::all(c)?.into_iter().chain(
        cairn_store::delivery::retired(c)?
            .into_iter()
            .map(|r| r.trail),
    );
    Ok(trails
        .map(|t| {
            t.status
                .owed_finals
                .iter()
                .filter(|f| !f.written.contains(&t.home_region))
                .count()
        })
        .sum())
}

/// Refuses a `--now` later than the system clock unless allowed: a digest named after it
/// would end the chain's period in the future, so no digest (not even StopLogging's final
/// one) could follow until the clock passed it, and the server's digests would stop.
fn refuse_future(now: Option<f64>, allowed: bool) -> anyhow::Result<()> {
    let clock = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
    match now {
        Some(t) if t > clock + 1.0 && !allowed => bail!(
            "--now is {:.0} s after the system clock: files and digests would be named after it, \
             and no later digest could be written until the clock passes it (the server's \
             digests, StopLogging's final one included, would wait until then); give a time \
             not after now (`cairn insights run --now` alone evaluates Insights ahead of the \
             clock, and a plain `cairn flush` delivers its events), or add --allow-future-now \
             on a test data dir",
            t - clock
        ),
        _ => Ok(()),
    }
}

/// Refuses a `--now` before the last delivery (log file or digest) of a trail that may
/// deliver more: files and digests are named by their delivery time, so a file named earlier
/// than the chain's last digest would be listed only by a later digest, and a digest before
/// it cannot extend the chain.
fn refuse_past(now: f64, latest: Option<(f64, String)>) -> anyhow::Result<()> {
    match latest {
        Some((last, arn)) if now < last.floor() => bail!(
            "--now {} is before the last delivery of trail {arn}, at {}: log files and \
             digests are named by the time they are delivered, and a file named before the \
             digest chain's head would be listed only by a later digest; give a time at or \
             after it, or leave --now out",
            cairn_logfile::iso_seconds(now.floor() as i64),
            cairn_logfile::iso_seconds(last.floor() as i64),
        ),
        _ => Ok(()),
    }
}

/// The exit status of a `cairn flush` that ran to the end but left a file or log event
/// undelivered (1 stays "could not run at all").
pub const FLUSH_INCOMPLETE: u8 = 3;

/// Arguments of `cairn env`.
#[derive(Args, Debug)]
pub struct EnvArgs {
    /// Data directory.
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// Region for `AWS_DEFAULT_REGION` and `AWS_REGION`.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// The server's URL, for `AWS_ENDPOINT_URL` (default: the URL the data dir's server
    /// listens on, which it writes to `<data-dir>/ENDPOINT`, else `http://127.0.0.1:4599`).
    #[arg(long)]
    endpoint_url: Option<String>,
}

/// The file in a data dir that names the URL its running server listens on (written when it
/// starts listening, removed when it stops).
pub const ENDPOINT_FILE: &str = "ENDPOINT";

/// How long `cairn env` waits for a missing data dir to be made by a server starting beside
/// it.
const DATA_DIR_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The default endpoint of `cairn serve`.
const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:4599";

/// Prints shell `export` lines for the data dir's root credentials (from the environment when
/// the server is given them there, else from the 0600 file), so that `eval "$(cairn env)"`
/// prepares a shell for the AWS CLI. The data dir must exist: a server started just before
/// (`cairn serve … &`) is given a few seconds to make it, and a path that stays missing is
/// refused (credentials made there would be accepted by no server). In an existing data dir
/// whose server has not made them yet, the credentials are generated here; the server then
/// uses the same ones.
pub fn env(args: EnvArgs) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + DATA_DIR_WAIT;
    while !args.data_dir.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if !args.data_dir.exists() {
        bail!(
            "{} is not a Cairn data dir (it does not exist); start `cairn serve --data-dir {}` first, or check the path",
            args.data_dir.display(),
            args.data_dir.display()
        );
    }
    if !args.data_dir.is_dir() {
        bail!(
            "{} is not a Cairn data dir (it is not a directory); check the path",
            args.data_dir.display()
        );
    }
    crate::admin_store::readable(&args.data_dir)?;
    // Another program's SQLite file named cairn.db: no credentials are written beside it.
    let db = args.data_dir.join("cairn.db");
    cairn_store::check_existing(&db)
        .with_context(|| format!("opening the store {}", db.display()))?;
    // A dir a server has started on holds its store or its lock (a server starting beside
    // this command makes them within moments); any other dir is not Cairn's, and no
    // credentials are written into it.
    let is_cairns = || {
        ["cairn.db", crate::datadir::LOCK_FILE]
            .iter()
            .any(|f| args.data_dir.join(f).exists())
    };
    while !is_cairns() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    if !is_cairns() {
        bail!(
            "{} is not a Cairn data dir (it holds no cairn.db); start `cairn serve --data-dir {}` first, or check the path",
            args.data_dir.display(),
            args.data_dir.display()
        );
    }
    let root = crate::credentials::for_client(&args.data_dir)?;
    let endpoint_url = match args.endpoint_url {
        // Given, the URL is known: nothing to wait for (ops5: 10 s with no server up).
        Some(url) => url,
        None => {
            let recorded = || recorded_endpoint(&args.data_dir);
            wait_for_listener(|| recorded().or_else(|| Some(DEFAULT_ENDPOINT.to_owned())))
                .or_else(recorded)
                .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned())
        }
    };
    let quote = |v: &str| format!("'{}'", v.replace('\'', "'\\''"));
    println!("export AWS_ACCESS_KEY_ID={}", quote(&root.access_key_id));
    println!(
        "export AWS_SECRET_ACCESS_KEY={}",
        quote(&root.secret_access_key)
    );
    // The CLI and botocore read AWS_DEFAULT_REGION; the JavaScript, Go, Rust and Java SDKs
    // read AWS_REGION.
    println!("export AWS_DEFAULT_REGION={}", quote(&args.region));
    println!("export AWS_REGION={}", quote(&args.region));
    println!("export AWS_ENDPOINT_URL={}", quote(&endpoint_url));
    Ok(())
}

/// Waits (up to 10 s) until the endpoint `candidate` names accepts connections, so a pasted
/// quick start's next line does not race the server it just started; returns the endpoint
/// that answered, or warns on stderr if none did. `candidate` is asked again each time (the
/// server writes its endpoint file once it listens).
/// The identity of a data dir on this machine (device and inode): a copy or a restored
/// snapshot has its own. `serve` writes it beside its URL in `ENDPOINT`.
pub fn dir_identity(dir: &std::path::Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(dir).ok()?;
    Some(format!("{}:{}", m.dev(), m.ino()))
}

/// The URL the data dir's server wrote into `ENDPOINT`, unless the file came with the data
/// dir from elsewhere (a copy or a restored snapshot, whose file names the server of the
/// original: ops2 found `cairn env` pointing a restore's clients at production).
fn recorded_endpoint(data_dir: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(data_dir.join(ENDPOINT_FILE)).ok()?;
    let mut lines = text.lines();
    let url = lines.next()?.trim().to_owned();
    if url.is_empty() {
        return None;
    }
    if let Some(written_for) = lines.next().and_then(|l| l.strip_prefix("data-dir "))
        && dir_identity(data_dir).as_deref() != Some(written_for.trim())
    {
        // Said once, however often the caller polls (ops4: 101 lines in 10 s).
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            eprintln!(
                "cairn: {} names {url}, the server of the data dir this one was copied from; ignoring it (start `cairn serve` on this copy, or pass --endpoint-url)",
                data_dir.join(ENDPOINT_FILE).display()
            )
        });
        return None;
    }
    Some(url)
}

fn wait_for_listener(candidate: impl Fn() -> Option<String>) -> Option<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut last = None;
    while std::time::Instant::now() < deadline {
        last = candidate();
        let authority = last
            .as_deref()
            .and_then(|url| url.split("://").nth(1))
            .map(|rest| rest.split('/').next().unwrap_or(rest));
        if authority.is_some_and(|a| std::net::TcpStream::connect(a).is_ok()) {
            return last;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if let Some(url) = last {
        eprintln!("cairn: nothing answers at {url} yet; is `cairn serve` running?");
    }
    None
}
