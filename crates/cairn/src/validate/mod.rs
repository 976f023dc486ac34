//! `cairn validate-logs`: the stock validator's arguments, walk and output lines (byte for
//! byte where it reports the same thing), but fetching in parallel, and stricter. Beyond
//! what `aws cloudtrail validate-logs` checks it also reports:
//! - a trail whose digests are gone: GetTrailStatus says a digest was delivered in the
//!   range but none (or none that recent) is there, or a later digest's chain names a
//!   digest in the range that is gone;
//! - runs of two or more deleted digests (aws-cli issue 7054);
//! - a `previousDigestHashValue` or `previousDigestSignature` that does not match the
//!   previous digest, and periods that do not meet;
//! - log files in the span the chain covers that no digest of any trail lists (except those
//!   delivered while validation was off, from event history);
//! - a missing final digest: event history says logging stopped with validation on, but
//!   no digest's period holds the stop.
//!
//! Its output lines follow the stock tool's; its own findings come after them, before the
//! summary, and count in it.

mod cache;
mod checks;
mod extra;
mod facts;
mod fetch;
mod history;
mod layout;
mod moved;
mod order;
mod profile;
mod report;
mod s3;
mod stopped_sharers;
pub mod time;
mod traverse;

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::Ordering;

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};

use crate::client::CloudTrail;
use facts::ask_cloudtrail;
use fetch::{Fetched, Fetcher, LogOutcome};
use layout::{Layout, is_backfill};
use report::{Printer, Summary, line};
use time::{display, key_stamp, parse_time};
use traverse::{Need, Step};

/// Arguments of `cairn validate-logs` (as `aws cloudtrail validate-logs`, plus endpoints).
#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The trail ARN.
    #[arg(long)]
    trail_arn: String,
    /// Start of the range: ISO 8601 (`2026-11-24T10:00:00Z`, `2026-11-24T10:00+02:00`,
    /// `2026-11-24`; no offset means UTC) or epoch seconds.
    #[arg(long)]
    start_time: String,
    /// End of the range, in the same forms (default: now).
    #[arg(long)]
    end_time: Option<String>,
    /// Bucket (default: the trail's, from DescribeTrails).
    #[arg(long)]
    s3_bucket: Option<String>,
    /// Key prefix (default: the trail's, from DescribeTrails, when --s3-bucket is not given
    /// either; alone, it is read in the trail's bucket, where the stock tool ignores it and
    /// reads the trail's own prefix).
    #[arg(long)]
    s3_prefix: Option<String>,
    /// Account id (default: the trail ARN's).
    #[arg(long)]
    account_id: Option<String>,
    /// Print a line for every valid file too.
    #[arg(long)]
    verbose: bool,
    /// Print a JSON report instead of the text lines.
    #[arg(long)]
    json: bool,
    /// CloudTrail endpoint (default: AWS_ENDPOINT_URL_CLOUDTRAIL, AWS_ENDPOINT_URL, then AWS).
    #[arg(long)]
    endpoint_url: Option<String>,
    /// S3 endpoint (default: AWS_ENDPOINT_URL_S3, then the CloudTrail endpoint if one was
    /// given, then AWS).
    #[arg(long)]
    s3_endpoint_url: Option<String>,
    /// Region whose logs to validate (default: AWS_DEFAULT_REGION, AWS_REGION, the
    /// profile's region, then the trail's home region).
    #[arg(long)]
    region: Option<String>,
    /// Profile of ~/.aws/credentials and ~/.aws/config (default: AWS_PROFILE, `default`).
    /// Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN
    /// unless a profile is named here.
    #[arg(long)]
    profile: Option<String>,
    /// Concurrent object fetches (1 to 1024).
    #[arg(long, allow_negative_numbers = true, default_value_t = 32, value_parser = crate::bounds::flag::concurrency)]
    concurrency: usize,
    /// Folder of the cache of log files already hashed: a file whose ETag, Last-Modified
    /// and size are unchanged since is not read again (default: $XDG_CACHE_HOME/cairn, else
    /// ~/.cache/cairn).
    #[arg(long)]
    cache_dir: Option<std::path::PathBuf>,
    /// Read every log file, and keep no cache.
    #[arg(long)]
    no_cache: bool,
}

/// Runs the validator; returns the process exit code: 0 when everything is valid, 1 when
/// something is not, 255 when it could not validate (printed as the stock tool prints it).
pub fn run(args: ValidateArgs) -> anyhow::Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(validate(args)).unwrap_or_else(|e| {
        // Output piped into a reader that stopped (`| head -1`): end as `SIGPIPE` would.
        if crate::is_closed_pipe(&e) {
            return std::process::ExitCode::from(crate::CLOSED_PIPE);
        }
        eprint!("\n{e:#}\n");
        std::process::ExitCode::from(255)
    }))
}

/// The stock tool's check of the ARN's shape, `arn:.+:cloudtrail:.+:\d{12}:trail/.+`.
fn check_arn(arn: &str) -> anyhow::Result<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[2] == "cloudtrail"
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5]
            .strip_prefix("trail/")
            .is_some_and(|n| !n.is_empty())
        && !parts[1].is_empty()
        && !parts[3].is_empty();
    if !ok {
        bail!("Invalid trail ARN provided: {arn}");
    }
    Ok(())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Output: text through the printer (unless `--json`), and every problem kept for JSON.
struct Out {
    printer: Printer<Box<dyn Write>, Box<dyn Write>>,
    problems: Vec<String>,
}

impl Out {
    fn valid(&mut self, text: &str) -> anyhow::Result<()> {
        Ok(self.printer.valid(text)?)
    }

    fn problem(&mut self, text: String) -> anyhow::Result<()> {
        self.printer.problem(&text)?;
        self.problems.push(text);
        Ok(())
    }
}

async fn validate(args: ValidateArgs) -> anyhow::Result<std::process::ExitCode> {
    check_arn(&args.trail_arn)?;
    let arn = cairn_model::trail::TrailArn::parse(&args.trail_arn)
        .with_context(|| format!("Invalid trail ARN provided: {}", args.trail_arn))?;
    let start = parse_time(&args.start_time)?;
    let end = match &args.end_time {
        Some(t) => parse_time(t)?,
        None => chrono::Utc::now().timestamp(),
    };
    if start > end {
        bail!("Invalid time range specified: start-time must occur before end-time");
    }
    let resolved = profile::resolve(&profile::Sources::from_process(args.profile.clone()))?;
    tracing::debug!(source = %resolved.source, "credentials");
    let region = args
        .region
        .clone()
        .or(resolved.region.clone())
        .unwrap_or_else(|| arn.region.clone());
    let given_endpoint = args
        .endpoint_url
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_CLOUDTRAIL"))
        .or_else(|| env("AWS_ENDPOINT_URL"));
    let concurrency = args.concurrency;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .tcp_nodelay(true)
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(std::time::Duration::from_secs(60))
        .build()?;
    let ct = CloudTrail {
        endpoint: given_endpoint
            .clone()
            .unwrap_or_else(|| format!("https://cloudtrail.{region}.amazonaws.com")),
        region: region.clone(),
        credentials: resolved.credentials.clone(),
        http: http.clone(),
    };
    let facts = ask_cloudtrail(&ct, &args.trail_arn, start, end, args.s3_bucket.is_none()).await?;
    let (bucket, prefix) = match &args.s3_bucket {
        Some(b) => (b.clone(), args.s3_prefix.clone()),
        None => {
            let trail = facts
                .trails
                .iter()
                .find(|t| t["TrailARN"] == args.trail_arn.as_str())
                .with_context(|| format!("A trail could not be found for {}", args.trail_arn))?;
            (
                trail["S3BucketName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                args.s3_prefix
                    .clone()
                    .or_else(|| trail["S3KeyPrefix"].as_str().map(str::to_owned)),
            )
        }
    };
    let layout = Layout {
        bucket: bucket.clone(),
        prefix,
        account: args.account_id.clone().unwrap_or(arn.account.clone()),
        region: region.clone(),
        name: arn.name.clone(),
        home: arn.region.clone(),
    };
    let (out, err): (Box<dyn Write>, Box<dyn Write>) = if args.json {
        (Box::new(std::io::sink()), Box::new(std::io::sink()))
    } else {
        (
            Box::new(std::io::BufWriter::new(std::io::stdout())),
            Box::new(std::io::stderr()),
        )
    };
    let mut out = Out {
        printer: Printer::new(out, err, args.verbose),
        problems: Vec::new(),
    };
    out.printer.startup(&args.trail_arn, start, end)?;
    if facts.public_keys.is_empty() {
        bail!(
            "No public keys found between {} and {}",
            display(start),
            display(end + 7200)
        );
    }
    let s3_endpoint = args
        .s3_endpoint_url
        .clone()
        .or_else(|| env("AWS_ENDPOINT_URL_S3"))
        .or(given_endpoint.clone());
    let cache = match cache::root(args.cache_dir.as_deref()).filter(|_| !args.no_cache) {
        Some(root) => {
            let at = s3_endpoint.clone().unwrap_or(format!("aws:{region}"));
            cache::HashCache::open(&root, &at, &bucket, &layout.log_dir())
        }
        None => cache::HashCache::none(&bucket),
    };
    let mut fetcher = Fetcher {
        s3: s3::S3::new(http, s3_endpoint, &region, resolved.credentials),
        public_keys: facts.public_keys.clone(),
        home_region: arn.region.clone(),
        concurrency,
        cache,
        known: HashMap::new(),
        from_cache: Default::default(),
    };

    // The digests of every trail for this account and region, from a day before the start
    // to two hours past the stock tool's window (its end plus an hour).
    let window_end = end + 3600;
    let list_from = start - 86_400;
    let dir = layout.digest_dir();
    let listed = fetcher
        .s3
        .list_days(&bucket, &dir, list_from, window_end + 7200)
        .await?;
    let (lo, hi) = (key_stamp(start), key_stamp(window_end));
    let stamp = traverse::key_stamp_text;
    let in_window = |k: &str| stamp(k).is_some_and(|s| s >= lo.as_str() && s <= hi.as_str());
    let own: Vec<String> = listed
        .iter()
        .filter(|k| layout.is_own_digest(k) && !is_backfill(k) && in_window(k))
        .cloned()
        .collect();
    let own_after: Option<String> = listed
        .iter()
        .find(|k| {
            layout.is_own_digest(k) && !is_backfill(k) && stamp(k).is_some_and(|s| s > hi.as_str())
        })
        .cloned();
    // Digests that may list a file the chain's do not: other trails' (a shared bucket and
    // prefix), and this trail's own from before the window, which list a file written then
    // and copied onto itself since (its `LastModified` moved into the window).
    let others: Vec<String> = listed
        .iter()
        .filter(|k| {
            let earlier_own = layout.is_own_digest(k) && stamp(k).is_some_and(|s| s < lo.as_str());
            (earlier_own || !layout.is_own_digest(k)) && layout.is_any_digest(k) && !is_backfill(k)
        })
        .cloned()
        .collect();

    // Fetch and verify this trail's digests and their log files, then walk the chain as
    // the stock tool does, fetching whatever else it leads to.
    let mut fetched = Fetched::default();
    let objects = |keys: &[String], b: &str| -> Vec<(String, String)> {
        keys.iter().map(|k| (b.to_owned(), k.clone())).collect()
    };
    // Log files are listed (for the unlisted-file check) while the digests' are fetched;
    // first, when the cache may hold some of them unchanged.
    let log_keys = if fetcher.cache.holds_any() {
        let log_keys = checks::list_logs(&fetcher.s3, &layout, window_end + 7200).await?;
        fetcher.known = fetcher.cache.known(&log_keys);
        (fetcher.fetch_into(&mut fetched, objects(&own, &bucket), vec![], true)).await?;
        log_keys
    } else {
        let (log_keys, done) = tokio::join!(
            checks::list_logs(&fetcher.s3, &layout, window_end + 7200),
            fetcher.fetch_into(&mut fetched, objects(&own, &bucket), vec![], true),
        );
        done?;
        log_keys?
    };
    let nested = moved::nested_places(&facts.trails, &bucket, &layout.log_dir());
    let log_keys: Vec<_> = log_keys
        .into_iter()
        .filter(|k| !nested.iter().any(|p| k.key.starts_with(p.as_str())))
        .collect();
    let mut listings = HashMap::from([(bucket.clone(), own.clone())]);
    let steps = loop {
        match traverse::walk(&listings, &bucket, start, &fetched.digests) {
            Ok(steps) => break steps,
            Err(Need::Object { bucket: b, key }) => {
                fetcher
                    .fetch_into(&mut fetched, vec![(b, key)], vec![], true)
                    .await?;
            }
            Err(Need::Listing { bucket: b, end: e }) => {
                let moved = Layout {
                    bucket: b.clone(),
                    ..layout.clone()
                };
                let keys = checks::own_digests(&fetcher.s3, &moved, start, e).await?;
                fetcher
                    .fetch_into(&mut fetched, objects(&keys, &b), vec![], true)
                    .await?;
                listings.insert(b, keys);
            }
        }
    };
    let logs: Vec<(String, String)> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Valid { digest, .. } => Some(digest),
            _ => None,
        })
        .flat_map(|d| &d.digest.log_files)
        .map(|f| (f.s3_bucket.clone(), f.s3_object.clone()))
        .collect();
    fetcher
        .fetch_into(&mut fetched, vec![], logs, false)
        .await?;

    let mut summary = Summary {
        start,
        end,
        ..Default::default()
    };
    print_steps(&steps, &fetched, &mut out, &mut summary)?;

    // Cairn's own checks.
    let mut findings = extra::chain_mismatches(&steps);
    let mismatched: usize = findings.iter().map(|f| f.digests).sum();
    summary.digests_valid -= mismatched.min(summary.digests_valid);
    let gaps = extra::missing_runs(&steps, start, facts.started_at);
    findings.extend(gaps.iter().cloned());
    findings.extend(extra::planted_backfills(&listed, &layout, in_window));
    let here = delivers_here(&facts.trails, &args.trail_arn, &layout, &arn);
    let mut context = checks::Context {
        layout: &layout,
        fetcher: &fetcher,
        arn: &args.trail_arn,
        start,
        window_end,
        own: &own,
        own_after,
        latest_digest: facts.latest_digest,
        period: extra::typical_period(&steps),
        always_digested: layout.region == arn.region && here,
        status_here: here,
        moved_away: !here
            && facts
                .trails
                .iter()
                .any(|t| t["TrailARN"] == args.trail_arn.as_str()),
        off: Vec::new(),
        final_missing: Vec::new(),
        stopped: Vec::new(),
        other_places: Vec::new(),
        sealed_at: None,
    };
    // A trail stopped now, in the range: either a found digest's period holds the stop (its
    // final digest; nothing delivered after it can be genuine while the trail stays
    // stopped), or the final digest is gone and event history must say why.
    let newest_end = steps
        .iter()
        .filter_map(|s| match s {
            Step::Valid { digest, .. } => time::parse_digest_time(&digest.digest.digest_end_time),
            _ => None,
        })
        .max();
    let stop_in_range = facts.stopped_at.filter(|s| *s >= start && *s <= window_end);
    let stop_unexplained = stop_in_range.is_some_and(|s| newest_end.is_none_or(|e| e < s));
    if let Some(stop) = stop_in_range
        && !stop_unexplained
    {
        context.sealed_at = Some(stop);
    }
    // Event history (read in the trail's home region) only explains chain gaps and unlisted
    // files: a single unbroken chain that lists every file needs none of it, so an account
    // with much history pays for those reads only when there is something to explain.
    let has_gap = steps.iter().any(|s| matches!(s, Step::Gap { .. }));
    let (tail, later) = checks::vanished_digests(&context, &mut fetched).await?;
    findings.extend(tail);
    // A region digested only once it has log files (another region of a multi-region
    // trail) with none of its digests left: its files delivered before the trail's latest
    // digest were each listed by one, written in the same step.
    let mut later = later.or_else(|| {
        facts
            .latest_digest
            .filter(|l| !context.always_digested && own.is_empty() && *l >= start)
    });
    // A region of a multi-region trail that never had a digest (recheck33b: no call was
    // ever made there): a file delivered there a minute before the home region's latest
    // digest would be listed by a digest of this region written in the same step.
    let validating_everywhere = facts.trails.iter().any(|t| {
        t["TrailARN"] == args.trail_arn.as_str()
            && t["IsMultiRegionTrail"] == true
            && t["LogFileValidationEnabled"] == true
    });
    if later.is_none()
        && own.is_empty()
        && facts.latest_digest.is_none()
        && here
        && layout.region != arn.region
        && validating_everywhere
    {
        let home_ct = CloudTrail {
            region: arn.region.clone(),
            endpoint: given_endpoint
                .clone()
                .unwrap_or_else(|| format!("https://cloudtrail.{}.amazonaws.com", arn.region)),
            ..ct.clone()
        };
        let status = home_ct
            .call("GetTrailStatus", &json!({ "Name": args.trail_arn }))
            .await;
        later = status.ok().and_then(|v| {
            let home_latest = v["LatestDigestDeliveryTime"].as_f64()?.floor() as i64;
            Some(home_latest - 60).filter(|l| *l >= start)
        });
    }
    let (sharers, stopped_sharers) =
        checks::drop_idle_sharers(&ct, &facts.trails, &layout, &args.trail_arn, list_from).await;
    let listing = checks::Listing {
        steps: &steps,
        later,
        log_keys: &log_keys,
        others: &others,
        trails: &sharers,
    };
    let place_dir = format!("s3://{}/{}", layout.bucket, layout.log_dir());
    let mut unlisted = checks::unlisted_logs(&context, &listing, &mut fetched).await?;
    let walked = moved::Walked {
        steps: &steps,
        listings: &listings,
        trails: &facts.trails,
        list_from,
    };
    let mut moved = walked
        .unlisted_in_old_buckets(&context, &mut fetched)
        .await?;
    // With validation off now, the chain ended with a closing digest, which may be gone with
    // no gap left to tell (recheck32b): event history says when it went off.
    let validation_off_now = facts
        .trails
        .iter()
        .find(|t| t["TrailARN"] == args.trail_arn.as_str())
        .is_some_and(|t| t["LogFileValidationEnabled"] == false);
    // A trail DescribeTrails no longer lists (deleted) owes its DeleteTrail's final digest,
    // which may be gone with no gap left to tell (digest6 D11).
    let listed_now = facts
        .trails
        .iter()
        .any(|t| t["TrailARN"] == args.trail_arn.as_str());
    if has_gap
        || stop_unexplained
        || validation_off_now
        || !listed_now
        || !unlisted.0.is_empty()
        || !moved.0.is_empty()
    {
        let home_ct = CloudTrail {
            endpoint: given_endpoint
                .clone()
                .unwrap_or_else(|| format!("https://cloudtrail.{}.amazonaws.com", arn.region)),
            region: arn.region.clone(),
            ..ct.clone()
        };
        let validation_now = facts
            .trails
            .iter()
            .find(|t| t["TrailARN"] == args.trail_arn.as_str())
            .and_then(|t| t["LogFileValidationEnabled"].as_bool());
        let place = (layout.bucket.as_str(), layout.prefix.as_deref());
        let local = (layout.region != arn.region).then_some(&ct);
        let window = (list_from, window_end);
        // Trails sharing the place that GetTrailStatus says are stopped now.
        let stopped_now: Vec<String> = stopped_sharers
            .iter()
            .filter_map(|t| t["Name"].as_str().map(str::to_owned))
            .collect();
        let sources = (&home_ct, local);
        match history::lookup_with(sources, &arn, window, validation_now, place, &stopped_now).await
        {
            Ok(h) => {
                let now = chrono::Utc::now().timestamp();
                let (missing, stops) =
                    history::missing_final_digests(&h, &steps, &context, end, now);
                findings.extend(missing);
                context.off = h.validation_off();
                context.off.extend(h.others_off.iter().copied());
                context.other_places = h.others_places.clone();
                context.final_missing = stops;
                context.stopped = h.stopped_spans();
                unlisted = checks::unlisted_logs(&context, &listing, &mut fetched).await?;
                if !moved.0.is_empty() {
                    moved = walked
                        .unlisted_in_old_buckets(&context, &mut fetched)
                        .await?;
                }
                // As for a trail sharing the place now without validation (DescribeTrails),
                // for one that did (a deleted one), or one stopped now that logged here
                // without validation: its files are listed by no digest.
                let other = stopped_sharers::excusing(Some(&h), &stopped_sharers, place);
                if let Some(other) = h.unvalidated_sharers.first().cloned().or(other)
                    && !unlisted.0.is_empty()
                {
                    unlisted = (
                        Vec::new(),
                        Some(stopped_sharers::notice(&other, &place_dir, true)),
                    );
                }
            }
            // Not a finding about the files, but the user must know what was not checked.
            Err(e) => {
                // Without event history a stopped trail sharing the place may have logged
                // here: its files cannot be told from planted ones.
                if let Some(other) = stopped_sharers::excusing(None, &stopped_sharers, place)
                    && !unlisted.0.is_empty()
                {
                    unlisted = (
                        Vec::new(),
                        Some(stopped_sharers::notice(&other, &place_dir, false)),
                    );
                }
                out.problem(format!(
                "Event history could not be read ({e}): the gaps and unlisted log files reported \
                 were not checked against the trail's StopLogging, DeleteTrail and UpdateTrail \
                 calls (a final digest deleted after a stop, files delivered while validation \
                 was off). Allow cloudtrail:LookupEvents to check them."
                ))?
            }
        }
    }
    let (unlisted, notice) = unlisted;
    findings.extend(unlisted);
    findings.extend(moved.0);
    for f in &findings {
        summary.digests_invalid += f.digests;
        summary.logs_invalid += f.logs;
        out.problem(f.line.clone())?;
    }
    let failing = facts.digest_failing_note(&args.trail_arn);
    for n in notice.iter().chain(&moved.1).chain(&failing) {
        out.problem(n.clone())?;
    }

    if let Err(e) = fetcher.cache.save(&log_keys) {
        eprintln!("cairn validate-logs: the cache of hashed log files was not written: {e:#}");
    }
    let failed = summary.digests_invalid > 0 || summary.logs_invalid > 0;
    if args.json {
        let notice = notice.or_else(|| moved.1.first().cloned());
        let mut report =
            report::json_report(&args.trail_arn, &summary, &gaps, &out.problems, notice);
        report["LogFilesFromCache"] = fetcher.from_cache.load(Ordering::Relaxed).into();
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        out.printer.summary(&summary)?;
    }
    Ok(if failed {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

/// Whether the trail delivers to this place now: its own account, the bucket and prefix it
/// has now. In its home region it writes a digest here every period while it logs.
fn delivers_here(
    trails: &[Value],
    arn_text: &str,
    layout: &Layout,
    arn: &cairn_model::trail::TrailArn,
) -> bool {
    let no_prefix = |p: Option<&str>| p.filter(|p| !p.is_empty()).map(str::to_owned);
    layout.account == arn.account
        && trails.iter().any(|t| {
            t["TrailARN"] == arn_text
                && t["S3BucketName"] == layout.bucket.as_str()
                && no_prefix(t["S3KeyPrefix"].as_str()) == no_prefix(layout.prefix.as_deref())
        })
}

/// Prints the walk's lines in the stock tool's order: each digest, then its log files.
fn print_steps(
    steps: &[Step],
    fetched: &Fetched,
    out: &mut Out,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    for step in steps {
        match step {
            Step::Valid {
                bucket,
                key,
                digest,
            } => {
                summary.digests_valid += 1;
                let d = &digest.digest;
                if let (Some(a), Some(b)) = (
                    time::parse_digest_time(&d.digest_start_time),
                    time::parse_digest_time(&d.digest_end_time),
                ) {
                    let (a, b) = (a.max(summary.start), b.min(summary.end));
                    summary.found = Some(match summary.found {
                        None => (a, b),
                        Some((x, y)) => (x.min(a), y.max(b)),
                    });
                }
                out.valid(&line("Digest file", bucket, key, "valid"))?;
                for f in &d.log_files {
                    let got = fetched
                        .logs
                        .get(&(f.s3_bucket.clone(), f.s3_object.clone()))
                        .context("a listed log file was not fetched")?;
                    let state = match got {
                        LogOutcome::Hash(h) if *h == f.hash_value => {
                            summary.logs_valid += 1;
                            out.valid(&line("Log file", &f.s3_bucket, &f.s3_object, "valid"))?;
                            continue;
                        }
                        LogOutcome::Hash(_) => "INVALID: hash value doesn't match",
                        LogOutcome::Missing => "INVALID: not found",
                        LogOutcome::InvalidFormat => "INVALID: invalid format",
                        LogOutcome::Trailing(h) if *h == f.hash_value => {
                            "INVALID: data after its gzip stream (the hash covers only the first)"
                        }
                        LogOutcome::Trailing(_) => "INVALID: hash value doesn't match",
                    };
                    summary.logs_invalid += 1;
                    out.problem(line("Log file", &f.s3_bucket, &f.s3_object, state))?;
                }
            }
            Step::Missing { bucket, key } => {
                summary.digests_invalid += 1;
                out.problem(line("Digest file", bucket, key, "INVALID: not found"))?;
            }
            Step::Invalid {
                bucket,
                key,
                problem,
            } => {
                summary.digests_invalid += 1;
                out.problem(line(
                    "Digest file",
                    bucket,
                    key,
                    &format!("INVALID: {problem}"),
                ))?;
            }
            Step::Gap {
                next_end,
                last_start,
            } => out.problem(format!(
                "No log files were delivered by CloudTrail between {} and {}",
                display(*next_end),
                display(*last_start)
            ))?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_are_checked_like_the_stock_tool() {
        check_arn("arn:aws:cloudtrail:us-east-1:123456789012:trail/t").unwrap();
        for bad in [
            "",
            "arn:aws:cloudtrail:us-east-1:12345678901:trail/t",
            "arn:aws:s3:us-east-1:123456789012:trail/t",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/",
        ] {
            assert_eq!(
                check_arn(bad).unwrap_err().to_string(),
                format!("Invalid trail ARN provided: {bad}")
            );
        }
    }
}
