//! `cairn serve`: open the data dir, start the listener, run the retention sweep, and shut
//! down gracefully on SIGTERM/SIGINT.

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use anyhow::Context;
use cairn_api::{AppState, Settings, router};
use cairn_core::token::TokenKey;
use cairn_store::{Store, events, meta};
use tracing_subscriber::EnvFilter;

use crate::config::{ServeArgs, ServeConfig};
use crate::credentials;
use crate::datadir::{self, DataDirLock, Holder};

/// Logs go to stderr, in colour only when stderr is a terminal. A `CAIRN_LOG` that is not a
/// valid filter is named in a warning, and `info` is used. `s3s` logs every client
/// mistake at ERROR; Cairn logs those itself at DEBUG, so `s3s` is silenced unless `CAIRN_LOG`
/// names it.
pub(crate) fn init_logs(json: bool, access_log: bool) {
    use std::io::IsTerminal;
    let given = std::env::var("CAIRN_LOG").ok();
    let spec = given.clone().unwrap_or_else(|| "info".to_owned());
    // s3s's own logging writes whole requests (`Authorization`, session tokens, presigned
    // URLs): it stays off whatever the filter names (ops5: `info,s3s=debug` logged them).
    let kept: Vec<&str> = spec
        .split(',')
        .filter(|d| !d.trim_start().starts_with("s3s"))
        .collect();
    let named_s3s = kept.len() != spec.split(',').count();
    let mut spec = format!("{},s3s=off", kept.join(","));
    // `--access-log` asks for its lines whatever the level (ops5: `CAIRN_LOG=warn` hid them
    // all without a word); a filter naming `cairn::access` itself decides.
    if access_log && !spec.contains("cairn::access") {
        spec.push_str(",cairn::access=info");
    }
    let (filter, refused) = match EnvFilter::try_new(&spec) {
        Ok(f) => (f, None),
        Err(e) => (EnvFilter::new("info,s3s=off"), Some(e)),
    };
    // A log line that cannot be written is dropped. tracing-subscriber would otherwise report
    // the failure with `eprintln!`, which panics when stderr itself is gone (a closed pipe, a
    // full disk): the panic killed the request (no response) or the delivery loop (silently).
    // With the filter's own level hint, so macros below its level stay a static check (a
    // filter with no hint made every level's events reach the callsite check).
    let hint = tracing_subscriber::Layer::<tracing_subscriber::Registry>::max_level_hint(&filter)
        .unwrap_or(tracing_subscriber::filter::LevelFilter::TRACE);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .log_internal_errors(false)
        .with_writer(std::io::stderr);
    // And whatever the filter's span directives enable (`info,[call]=debug` turned s3s's
    // events inside a call's span back on, before `s3s=off` was looked at: ops6), a filter
    // over every layer drops s3s's events first.
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let no_s3s = tracing_subscriber::filter::filter_fn(|m| !m.target().starts_with("s3s"))
        .with_max_level_hint(hint);
    if json {
        builder.json().finish().with(no_s3s).init();
    } else {
        builder.finish().with(no_s3s).init();
    }
    if named_s3s {
        tracing::warn!(
            "CAIRN_LOG names s3s: its logging stays off, as it writes request secrets (Authorization headers, session tokens, presigned URLs)"
        );
    }
    if let Some(e) = refused {
        tracing::warn!(
            CAIRN_LOG = given.as_deref().unwrap_or_default(),
            error = %e,
            "CAIRN_LOG is not a valid log filter (tracing EnvFilter syntax, such as `info` or `warn,cairn_api=debug`); logging at info instead"
        );
    }
}

/// Whether a background loop's error is the store refusing a write for a full disk (or its
/// `--max-store-mb` limit), or for a store file gone from its data dir: the store reports
/// that itself, so the loop logs it only at DEBUG instead of a WARN per tick.
pub(crate) fn store_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<cairn_store::StoreError>()
            .is_some_and(|e| e.is_full() || matches!(e, cairn_store::StoreError::Gone(_)))
            || c.downcast_ref::<cairn_core::ApiError>()
                .is_some_and(|a| a.kind == cairn_core::ErrorKind::ServiceUnavailable)
    })
}

/// Prints a line on stdout for whoever started the server; a stdout that cannot be written
/// (closed, full) loses the line, never the server (`println!` would panic).
pub(crate) fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// `text` as one POSIX shell word: as is when it is only safe characters, else in single
/// quotes (a hint's path with spaces pastes as one argument).
fn shell_quoted(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// Creates `dir` and its missing parents. Each new directory is synced into its parent: until
/// then a power cut can take the directory away with everything acknowledged inside it.
pub fn create_dir_durably(dir: &std::path::Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    create_dir_durably(parent)?;
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        other => other?,
    }
    std::fs::File::open(parent)?.sync_all()
}

/// What a data dir holds before its store exists (a start that stopped early), besides
/// `cairn.db*`, each with its temporary siblings; `lost+found` is a fresh file system's.
const EARLY_ENTRIES: [&str; 8] = [
    "LOCK",
    "ENDPOINT",
    "buckets",
    "objects",
    "keys",
    "sns",
    "root-credentials.json",
    "lost+found",
];

/// Refuses an existing directory that holds no store but other files: not a data dir, and
/// not to be taken over (its mode set to 0700, Cairn's files written among someone else's),
/// as a mistaken `--data-dir /tmp` or `$HOME` would be.
fn refuse_foreign_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    let db = dir.join("cairn.db");
    if db.exists() {
        // Not Cairn's store (another program's SQLite file, a newer schema): refused before
        // the directory's mode or anything in it changes.
        return cairn_store::check_existing(&db)
            .with_context(|| format!("opening the store {}", db.display()));
    }
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("reading the data dir {}", dir.display()))?;
    let foreign = entries.filter_map(Result::ok).find(|e| {
        let name = e.file_name();
        let name = name.to_string_lossy();
        // Each with its temporary sibling (`ENDPOINT.new`, …).
        !name.starts_with("cairn.db") && !EARLY_ENTRIES.iter().any(|e| name.starts_with(e))
    });
    if let Some(entry) = foreign {
        anyhow::bail!(
            "--data-dir {} is not a Cairn data dir: it holds no cairn.db but other files ({}, …); give a new or empty directory, or an existing data dir. Nothing was changed",
            dir.display(),
            entry.file_name().to_string_lossy()
        );
    }
    Ok(())
}

/// Opens the data dir (0700), takes its lock (held as long as the returned guard lives:
/// a second server on the same data dir is refused) and opens its store.
/// Every step names the path and what it was doing, so an error such as "Operation not
/// permitted" (a data dir owned by another user) or "Read-only file system" says where.
pub fn open_data_dir(config: &ServeConfig) -> anyhow::Result<(DataDirLock, Store)> {
    let dir = &config.data_dir;
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "--data-dir {} is not a directory: give the path of a data dir (or of one to create)",
            dir.display()
        );
    }
    // SQLite opens no database (or WAL) whose absolute path reaches 512 bytes; say so before
    // anything is created.
    let wal = std::path::absolute(dir)
        .with_context(|| format!("resolving the data dir {}", dir.display()))?
        .join("cairn.db-wal");
    if wal.as_os_str().len() >= 512 {
        anyhow::bail!(
            "--data-dir {} is too long: its database's files would have paths of {} bytes, and SQLite opens none of 512 bytes or more; use a shorter path",
            dir.display(),
            wal.as_os_str().len()
        );
    }
    let existed = dir.is_dir();
    if existed {
        refuse_foreign_dir(dir)?;
    }
    create_dir_durably(dir).with_context(|| format!("creating the data dir {}", dir.display()))?;
    if existed
        && let Ok(meta) = std::fs::metadata(dir)
        && meta.permissions().mode() & 0o777 != 0o700
    {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{:o}", meta.permissions().mode() & 0o777),
            "setting the data dir's mode to 0700: the server must write it, and only its owner may read it"
        );
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).with_context(|| {
        format!(
            "restricting the data dir {} to its owner (chmod 0700; is it owned by another user, or on a read-only file system?)",
            dir.display()
        )
    })?;
    let lock = datadir::lock(dir, Holder::Server)?;
    let buckets = dir.join("buckets");
    create_dir_durably(&buckets).with_context(|| format!("creating {}", buckets.display()))?;
    let db = dir.join("cairn.db");
    // The schema before opening: an upgrade is one-way, so the log says when it happened.
    let before = db
        .is_file()
        .then(|| cairn_store::schema_version_of(&db).ok())
        .flatten();
    let store = Store::open_with(
        &db,
        cairn_store::StoreOptions {
            max_bytes: config.max_store_bytes,
        },
    )
    .with_context(|| format!("opening the store {}", db.display()))
    .map_err(|e| match disk_full(dir) {
        // SQLite says "disk I/O error" when it cannot make its WAL on a full disk.
        true => e.context(format!(
            "the disk holding {} is full: free some space on it, then start again (nothing stored is lost)",
            dir.display()
        )),
        false => e,
    })?;
    if let Some(from) = before.filter(|v| *v > 0 && *v < cairn_store::SCHEMA_VERSION) {
        tracing::warn!(
            from,
            to = cairn_store::SCHEMA_VERSION,
            data_dir = %dir.display(),
            "upgraded the data dir's schema; older versions of cairn can no longer open it"
        );
    }
    Ok((lock, store))
}

/// Whether the file system holding `dir` has no room for a small new file.
fn disk_full(dir: &std::path::Path) -> bool {
    let probe = dir.join(".space-probe");
    let full = std::fs::write(&probe, [0u8; 4096])
        .is_err_and(|e| e.kind() == std::io::ErrorKind::StorageFull);
    let _ = std::fs::remove_file(&probe);
    full
}

/// Descriptors kept for what is not a client connection (the store and its WAL, object files
/// being read or written, delivery, outbound SNS connections).
const FILES_RESERVED: usize = 128;

/// Installs the SIGINT and SIGTERM handlers at once, so a signal sent as soon as the server
/// says it is listening stops it cleanly; the future ends at the first of them.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    // Signals whose default action would end the server without its graceful stop (a closed
    // terminal's SIGHUP, a "reload" sent by habit) are noted and ignored: nothing reloads.
    let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let mut usr1 = signal(SignalKind::user_defined1()).context("installing the SIGUSR1 handler")?;
    let mut usr2 = signal(SignalKind::user_defined2()).context("installing the SIGUSR2 handler")?;
    Ok(async move {
        loop {
            let ignored = tokio::select! {
                _ = int.recv() => break,
                _ = term.recv() => break,
                _ = hup.recv() => "SIGHUP",
                _ = usr1.recv() => "SIGUSR1",
                _ = usr2.recv() => "SIGUSR2",
            };
            tracing::info!(
                signal = ignored,
                "signal ignored: Cairn has nothing to reload; SIGTERM or SIGINT stops it"
            );
        }
        tracing::info!("shutting down");
        // A second SIGTERM or SIGINT stops at once, as a crash would: requests still in
        // flight were not acknowledged, and every acknowledged one is already durable.
        tokio::spawn(async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            tracing::warn!("second stop signal: exiting without waiting for requests in flight");
            std::process::exit(1);
        });
    })
}

/// Deletes events older than the retention window, in batches of 5,000 (one write job
/// each): only the oldest prefix of the log, and never an event a trail has not delivered
/// yet (a planned file or a logging trail's cursor holds it back; see
/// `cairn_store::events::retention`). Each batch moves the chain's retention anchor in the
/// same transaction.
pub async fn sweep_once(store: &Store, retention_secs: i64) -> anyhow::Result<usize> {
    let cutoff = chrono::Utc::now().timestamp() - retention_secs;
    let mut total = 0;
    loop {
        let n = store
            .write(move |c| events::expire_before(c, cutoff, 5_000))
            .await??;
        total += n;
        if n < 5_000 {
            return Ok(total);
        }
    }
}

/// Applies lifecycle rules as of `now` (epoch seconds): removes the due objects' and
/// uploads' records in one write, then their files. Returns what was removed.
pub fn expire_objects(
    store: &Store,
    data_dir: &std::path::Path,
    now: f64,
) -> anyhow::Result<cairn_core::lifecycle::Swept> {
    let swept = store.write_blocking(move |c| cairn_core::lifecycle::expire_due(c, now))??;
    let dir = data_dir.join("objects");
    for f in &swept.files {
        if let Err(e) = std::fs::remove_file(dir.join(f))
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(file = %f, error = %e, "cannot delete expired object file");
        }
    }
    Ok(swept)
}

/// Runs the server until a signal arrives.
pub fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = ServeConfig::resolve(&args)?;
    init_logs(config.json_logs, config.access_log);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(config))
}

/// How often a server looks for SNS messages another process queued and left unsent, and how
/// long it leaves them to that process first.
const SNS_SWEEP: Duration = Duration::from_secs(5);

/// How often access keys' noted last use is written to the store.
const KEY_USE_FLUSH: Duration = Duration::from_secs(2);

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    // Everything that can be checked without the data dir is checked before it is created,
    // so a start that fails (a bad key file, a port in use) leaves no half-made data dir
    // with fresh secrets behind.
    credentials::from_env()?;
    crate::kms_cmd::precheck_master_key(config.kms_master_key_file.as_deref(), &config.data_dir)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    // The lock lives as long as this function: until the server has shut down.
    let (lock, store) = open_data_dir(&config)?;
    tracing::debug!(lock = %lock.path().display(), "data dir locked");
    let account = crate::account::for_serve(&store, &config.data_dir, config.account_id.as_ref())?;
    // The master key before anything the start writes (root credentials, the credential
    // report's root row, console sessions): a data dir whose key is missing is refused with
    // nothing changed (upgrade2).
    let kms_master = crate::kms_cmd::master_key_for_serve(
        &store,
        &config.data_dir,
        config.kms_master_key_file.as_deref(),
    )?;
    let key_hex =
        store.write_blocking(|c| meta::get_or_insert(c, "token-key", TokenKey::generate_hex))??;
    let token_key = TokenKey::from_hex(&key_hex).context("stored token key is damaged")?;
    let (root, generated) = credentials::load_or_create(&config.data_dir, account.as_str())?;
    credentials::record_source(&config.data_dir, &root, generated.is_none())?;
    // The credential report's root row: the key's id (never its secret) and when it was first
    // served.
    let root_id = root.access_key_id.clone();
    let now = chrono::Utc::now().timestamp() as f64;
    store.write_blocking(move |c| cairn_store::iam::report::note_root_key(c, &root_id, now))??;
    // Console sessions signed in with another root secret (one since rotated) end here.
    let (root_id, print) = (
        root.access_key_id.clone(),
        token_key.fingerprint("root-secret", &root.secret_access_key),
    );
    let ended =
        store.write_blocking(move |c| cairn_store::console::note_secret(c, &root_id, &print))??;
    if ended > 0 {
        tracing::info!(
            ended,
            "root's secret access key changed: the console sessions signed in with the old one ended"
        );
    }
    if let Some(path) = generated {
        say(&format!(
            "root credentials are in {} (mode 0600); read them with: cat {}",
            path.display(),
            shell_quoted(&path.display().to_string())
        ));
    }
    let retention_secs = i64::from(config.retention_days) * 86_400;
    if config.clock.is_controlled() {
        tracing::warn!(
            "the JSON and Query services read their clock from --clock-file: for tests only"
        );
    }
    let settings = Settings {
        account: account.clone(),
        root,
        token_key,
        retention_secs,
        data_dir: config.data_dir.clone(),
        max_body_bytes: config.max_body_bytes,
        external: cairn_buckets::ExternalBuckets::new(&config.external_buckets)
            .context("configuring external buckets")?,
        kms_master: kms_master.clone(),
        s3_host: cairn_api::s3::access::CairnHost::new(&config.s3_domains),
        trusted_proxies: config.trusted_proxies.clone(),
        sns_allowed_networks: config.sns_allowed_networks.clone(),
        listen_addr: None,
        access_log: config.access_log,
        clock: config.clock.clone(),
    };
    let settings = Settings {
        listen_addr: Some(addr),
        ..settings
    };
    let state = AppState::new(store.clone(), settings).context("opening the object store")?;
    if config.alarm_tick_secs > 0.0 {
        let tick = Duration::from_secs_f64(config.alarm_tick_secs.max(0.05));
        tokio::spawn(crate::alarms_cmd::run_loop(
            store.clone(),
            state.notifier.clone(),
            state.settings.kms_master.clone(),
            tick,
        ));
    }
    // SNS messages a previous run accepted and had not yet delivered are sent again; later,
    // so are those another process on this data dir (`cairn alarms run`) queued and left.
    state.notifier.resume(Duration::ZERO).await;
    let sweeper = state.notifier.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(SNS_SWEEP);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            sweeper.resume(SNS_SWEEP).await;
        }
    });
    // Access keys' last use, noted by the gate, reaches the store every few seconds.
    let gate = state.gate.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(KEY_USE_FLUSH);
        loop {
            ticker.tick().await;
            gate.flush_key_use().await;
        }
    });
    let state_for_worker = state.clone();
    // IAM changes made by another process on this data dir (the `cairn iam` admin commands)
    // reach the credential cache within one poll.
    let credentials = state.credentials.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_millis(500));
        loop {
            ticker.tick().await;
            credentials.poll().await;
        }
    });
    // CloudFormation: stack operations a previous run left in progress resume (or roll back)
    // in the background.
    match cairn_api::cloudformation::start(&state).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(stacks = n, "resuming interrupted stack operations"),
        Err(e) => tracing::error!(error = %e, "cannot resume interrupted stack operations"),
    }
    let mut limits = config.limits;
    match cairn_api::listener::raise_open_file_limit() {
        Ok(n) => {
            tracing::debug!(open_files = n, "open-file limit");
            // Each connection holds a descriptor, and the store, object files and delivery
            // need some more: past the open-file limit, accept() fails and clients stall.
            let fit = usize::try_from(n)
                .unwrap_or(usize::MAX)
                .saturating_sub(FILES_RESERVED)
                .max(16);
            if limits.max_connections > fit {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    open_files = n,
                    capped_at = fit,
                    "the open-file limit is too low for the connection cap: connections are capped so each gets a descriptor (raise `ulimit -n` to allow more)"
                );
                limits.max_connections = fit;
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
    let shutdown = shutdown_signal()?;
    let endpoint_file = config.data_dir.join(crate::admin_cmd::ENDPOINT_FILE);
    if let Err(e) = write_endpoint(&endpoint_file, addr) {
        // A full disk, say: tried again every two seconds until it is written.
        tracing::warn!(error = %e, "cannot write {}; trying again until it is written", endpoint_file.display());
        let file = endpoint_file.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                if write_endpoint(&file, addr).is_ok() {
                    tracing::info!("wrote {}", file.display());
                    break;
                }
            }
        });
    }
    say(&format!("cairn listening on http://{addr}"));
    tracing::info!(%addr, %account, data_dir = %config.data_dir.display(), "listening");

    // A damaged database file (truncated, overwritten) would otherwise go unnoticed until a
    // query reaches the bad page; check it once, in the background, and say so loudly.
    let check_store = store.clone();
    tokio::task::spawn_blocking(move || {
        match check_store.read_blocking(|c| Ok(cairn_store::meta::quick_check(c))) {
            Ok(problems) if problems.is_empty() => {
                tracing::debug!("the store's database file passed its integrity check")
            }
            Ok(problems) => tracing::error!(
                problems = %problems.join("; "),
                "the store's database file is damaged: calls may fail or lose data; stop the server, run `cairn verify-store` and restore the data dir from a backup"
            ),
            Err(e) => tracing::error!(
                error = %e,
                "the store's database file could not be checked; it may be damaged"
            ),
        }
    });

    let sweep_store = store.clone();
    let sweep_dir = config.data_dir.clone();
    let sweep_clock = config.clock.clone();
    let interval = Duration::from_secs(config.sweep_interval_secs);
    let (newest, last_sweep) = store
        .read(|c| {
            let last = cairn_store::meta::get(c, crate::clock_guard::LAST_SWEEP_KEY)?;
            Ok((
                cairn_store::events::newest_event_time(c)?,
                last.and_then(|t| t.parse::<f64>().ok()),
            ))
        })
        .await
        .unwrap_or((None, None));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        let started = std::time::Instant::now();
        let wall = || chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
        let mut guard = crate::clock_guard::ClockGuard::new(wall(), 0.0, last_sweep, newest);
        if guard.holding() {
            tracing::warn!(
                "the clock is more than a day past the last sweep (or the newest event): retention and lifecycle sweeps wait an hour in case the clock is wrong"
            );
        }
        loop {
            ticker.tick().await;
            match guard.check(wall(), started.elapsed().as_secs_f64()) {
                crate::clock_guard::Verdict::Sweep => {}
                crate::clock_guard::Verdict::Hold { jump: Some(secs) } => {
                    tracing::warn!(
                        jump_secs = secs,
                        "the clock jumped forward: retention and lifecycle sweeps wait an hour in case the clock is wrong"
                    );
                    continue;
                }
                crate::clock_guard::Verdict::Hold { jump: None } => continue,
            }
            // The mark a restart compares its clock with.
            let mark = wall().to_string();
            let kept = sweep_store
                .write(move |c| {
                    cairn_store::meta::put(c, crate::clock_guard::LAST_SWEEP_KEY, &mark)
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            if let Err(e) = kept {
                tracing::warn!(error = %e, "the sweep's time could not be kept");
            }
            match sweep_once(&sweep_store, retention_secs).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "retention sweep"),
                Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
            }
            // Pending SNS subscriptions past 48 hours, by the API's clock (a clock file's, in
            // tests), as the calls that hide them judge them.
            let at = sweep_clock.now().timestamp();
            let deleted = sweep_store
                .write(move |c| {
                    Ok::<_, cairn_store::StoreError>(cairn_core::sns_pending::delete_expired(c, at))
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
                .and_then(|r| r.map_err(|e| e.message));
            match deleted {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "expired pending SNS subscriptions"),
                Err(e) => tracing::warn!(error = %e, "pending subscription sweep failed"),
            }
            match crate::logs_cmd::sweep(&sweep_store, chrono::Utc::now().timestamp_millis()).await
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(expired = n, "log retention sweep"),
                Err(e) => tracing::warn!(error = %e, "log retention sweep failed"),
            }
            let (store, dir) = (sweep_store.clone(), sweep_dir.clone());
            let now = chrono::Utc::now().timestamp() as f64;
            match tokio::task::spawn_blocking(move || expire_objects(&store, &dir, now)).await {
                Ok(Ok(s)) if s.objects + s.uploads == 0 => {}
                Ok(Ok(s)) => {
                    tracing::info!(
                        expired = s.objects,
                        aborted_uploads = s.uploads,
                        "lifecycle sweep"
                    )
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "lifecycle sweep failed"),
                Err(e) => tracing::warn!(error = %e, "lifecycle sweep task failed"),
            }
            let master = kms_master.clone();
            let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
            match sweep_store
                .write(move |c| cairn_core::kms::keys::sweep(c, Some(&master), now))
                .await
            {
                Ok(Ok(r)) if r.deleted.len() + r.rotated.len() > 0 => {
                    tracing::info!(
                        deleted = r.deleted.len(),
                        rotated = r.rotated.len(),
                        "KMS sweep"
                    )
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e.message, "KMS sweep failed"),
                Err(e) => tracing::warn!(error = %e, "KMS sweep failed"),
            }
        }
    });

    // CloudTrail Insights: the warm-up is kept in the data dir for `cairn insights run`;
    // every minute, count what was recorded and evaluate the minutes that closed.
    let warm_up = config.insights_warm_up_secs as i64;
    store.write_blocking(move |c| cairn_store::insights::set_warm_up(c, warm_up))??;
    let insights_store = store.clone();
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(60));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let store = insights_store.clone();
            let now = chrono::Utc::now().timestamp();
            match tokio::task::spawn_blocking(move || crate::insights_cmd::tick(&store, now)).await
            {
                Ok(Ok(r)) if r.written > 0 => tracing::info!(written = r.written, "insights"),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "insights step failed"),
                Err(e) => tracing::warn!(error = %e, "insights task failed"),
            }
        }
    });

    let worker = cairn_delivery::Delivery::new(
        store.clone(),
        &config.data_dir,
        state_for_worker.settings.external.clone(),
        config.digest_interval,
    )?
    .with_shared_notifier(state_for_worker.notifier.clone())
    .with_kms(state_for_worker.settings.kms_master.clone())
    .with_external_in_background();
    let delivery_every = Duration::from_secs_f64(config.delivery_interval);
    // One step at a time; a trail's failure is recorded in its status and retried on a later
    // step, and notifications leave through their own queues, so a step never waits on a
    // subscriber.
    // The first step comes one interval after the start, not at once: a step at start raced
    // the first calls (a test's, flushing with `--now` and then calling at once) for whether
    // they are delivered now or at the next step.
    tokio::spawn(async move {
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + delivery_every, delivery_every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let now = chrono::Utc::now().timestamp_millis() as f64 / 1000.0;
            match worker.run_once(now, false).await {
                Ok(o) if o.files + o.digests + o.failed > 0 => {
                    tracing::info!(
                        files = o.files,
                        events = o.events,
                        digests = o.digests,
                        failed = o.failed,
                        "delivery step"
                    )
                }
                Ok(_) => {}
                // Reported by the store once, then once a minute (see `store_full`).
                Err(cairn_delivery::DeliveryError::Store(e)) if e.is_full() => {
                    tracing::debug!(error = %e, "delivery step waits: the store is full")
                }
                Err(e) => tracing::warn!(error = %e, "delivery step failed"),
            }
        }
    });
    let gate = state.gate.clone();
    let served = cairn_api::listener::serve(listener, router(state), limits, shutdown).await;
    gate.flush_key_use().await;
    let _ = std::fs::remove_file(&endpoint_file);
    served?;
    Ok(())
}

/// Writes `<data-dir>/ENDPOINT` whole under another name and renames it into place, so a
/// reader (`cairn env`, a test) never sees it empty or half written; a failed attempt leaves
/// no `ENDPOINT.new` behind.
fn write_endpoint(file: &std::path::Path, addr: std::net::SocketAddr) -> std::io::Result<()> {
    let written = file.with_extension("new");
    // The data dir's identity beside the URL: a copy of the dir carries the file but not the
    // identity, so `cairn env` on the copy does not point at this server.
    let identity = file
        .parent()
        .and_then(crate::admin_cmd::dir_identity)
        .map(|id| format!("data-dir {id}\n"))
        .unwrap_or_default();
    let result = std::fs::write(&written, format!("http://{}\n{identity}", reachable(addr)))
        .and_then(|()| std::fs::rename(&written, file));
    if result.is_err() {
        let _ = std::fs::remove_file(&written);
    }
    result
}

/// The address a local client reaches a listener on: a wildcard bind (`0.0.0.0`, `[::]`) is
/// reached on loopback of its family; any other address is itself.
fn reachable(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quoted;

    #[test]
    fn a_full_store_is_told_apart_from_other_loop_failures() {
        let full = anyhow::Error::new(cairn_store::StoreError::Full("disk full".into()));
        assert!(super::store_full(&full));
        assert!(super::store_full(&full.context("evaluating alarms")));
        let refused = anyhow::Error::new(cairn_core::ApiError::from(
            cairn_store::StoreError::Full("disk full".into()),
        ));
        assert!(super::store_full(&refused));
        let other = anyhow::anyhow!("the topic is gone");
        assert!(!super::store_full(&other));
        let corrupt = anyhow::Error::new(cairn_store::StoreError::Corrupt("page 7".into()));
        assert!(!super::store_full(&corrupt));
    }

    #[test]
    fn a_wildcard_listener_is_reached_on_loopback() {
        let at = |s: &str| super::reachable(s.parse().unwrap()).to_string();
        assert_eq!(at("0.0.0.0:4599"), "127.0.0.1:4599");
        assert_eq!(at("[::]:4599"), "[::1]:4599");
        assert_eq!(at("10.1.2.3:80"), "10.1.2.3:80");
    }

    #[test]
    fn hints_quote_paths_a_shell_would_split() {
        assert_eq!(
            shell_quoted("/data/cairn/root.json"),
            "/data/cairn/root.json"
        );
        assert_eq!(shell_quoted("/with space/da ta"), "'/with space/da ta'");
        assert_eq!(shell_quoted("/it's"), "'/it'\\''s'");
        assert_eq!(shell_quoted("/a$b"), "'/a$b'");
    }
}
