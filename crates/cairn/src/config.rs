//! Settings for `cairn serve`: flags, `CAIRN_*` environment variables and an optional TOML
//! file, in that order of precedence, over embedded defaults. Unknown file keys are errors.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;

use crate::bounds;

/// Flags (each also readable from its `CAIRN_*` variable).
#[derive(Args, Debug, Default, Clone)]
pub struct ServeArgs {
    /// TOML settings file.
    #[arg(long, env = "CAIRN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory (SQLite store, buckets, keys). Default `./cairn-data`.
    #[arg(long, env = "CAIRN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Listen address, `ip:port` or `host:port`. Default `127.0.0.1:4599`.
    #[arg(long, env = "CAIRN_LISTEN", value_parser = crate::bounds::flag::listen)]
    pub listen: Option<SocketAddr>,
    /// The 12-digit account id. Default: the account the data dir was first served with,
    /// else `123456789012`; another than the data dir's is refused.
    #[arg(long, env = "CAIRN_ACCOUNT_ID")]
    pub account_id: Option<String>,
    /// Event history retention in days, 1 to 36500. Default 90.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_RETENTION_DAYS", value_parser = crate::bounds::flag::retention_days)]
    pub retention_days: Option<u32>,
    /// Log format: `text` or `json`. Default `text`.
    #[arg(long, env = "CAIRN_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Largest request body, in bytes (1 to 1 GiB). Default 8 MiB.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_MAX_BODY_BYTES", value_parser = crate::bounds::flag::max_body_bytes)]
    pub max_body_bytes: Option<usize>,
    /// Seconds between retention sweeps (1 to one year). Default 600.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_SWEEP_INTERVAL_SECS", value_parser = crate::bounds::flag::sweep_interval)]
    pub sweep_interval_secs: Option<u64>,
    /// Seconds between trail log file deliveries (0.05 to one year). Default 300.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_DELIVERY_INTERVAL", value_parser = crate::bounds::flag::delivery_interval)]
    pub delivery_interval: Option<f64>,
    /// Seconds between digests of a trail (1 to one year). Default 3600.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_DIGEST_INTERVAL", value_parser = crate::bounds::flag::digest_interval)]
    pub digest_interval: Option<f64>,
    /// KMS master key file (32 random bytes, raw or 64 hex digits), outside the data dir.
    /// Default: `CAIRN_KMS_MASTER_KEY` (hex), else `<data-dir>.kms-master-key` beside the data
    /// dir, generated on first start.
    #[arg(long, env = "CAIRN_KMS_MASTER_KEY_FILE")]
    pub kms_master_key_file: Option<PathBuf>,
    /// Seconds between checks for CloudWatch alarms due for evaluation (each alarm is
    /// evaluated once per period end), 0.05 to one day. Default 1; 0 turns evaluation off
    /// (tests drive it with `cairn alarms run`).
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_ALARM_TICK_SECS", value_parser = crate::bounds::flag::alarm_tick)]
    pub alarm_tick_secs: Option<f64>,
    /// Most client connections open at once (1 to 1,000,000). Default 1024.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_MAX_CONNECTIONS", value_parser = crate::bounds::flag::max_connections)]
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers, counted from accept or, on a
    /// kept-alive connection, from the end of the previous response: a connection that sends
    /// nothing is closed after this long. 1 to 86400; default 20.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_HEADER_TIMEOUT_SECS", value_parser = crate::bounds::flag::timeout)]
    pub header_timeout_secs: Option<u64>,
    /// Seconds a connection may move no byte mid-request before it is closed (1 to 86400).
    /// Default 120.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_IDLE_TIMEOUT_SECS", value_parser = crate::bounds::flag::timeout)]
    pub idle_timeout_secs: Option<u64>,
    /// Bytes a second a request body must average once the header timeout has passed since
    /// it began; a slower body ends the request. Default 1024; 0 sets no floor; at most 1 GiB.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_MIN_BODY_RATE", value_parser = crate::bounds::flag::min_body_rate)]
    pub min_body_rate: Option<u64>,
    /// Proxies (addresses or CIDRs, comma-separated) whose `X-Forwarded-For` is trusted for
    /// `aws:SourceIp` and `sourceIPAddress`. Default: none.
    #[arg(long, env = "CAIRN_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// Base domains (comma-separated) of virtual-hosted–style S3 requests: a `Host` of
    /// `<bucket>.<domain>` names the bucket, as `<bucket>.localhost` always does.
    #[arg(long, env = "CAIRN_S3_DOMAINS", value_delimiter = ',')]
    pub s3_domains: Option<Vec<String>>,
    /// Networks (CIDRs, comma-separated) SNS HTTP subscriptions may reach. Default: any
    /// address except the instance-metadata ranges and this server's own listener.
    #[arg(long, env = "CAIRN_SNS_ALLOWED_NETWORKS", value_delimiter = ',')]
    pub sns_allowed_networks: Option<Vec<String>>,
    /// Log one line per request (method, service, operation, status, latency, request id).
    /// `--access-log` alone turns it on; `--access-log=false` (or `CAIRN_ACCESS_LOG=false`)
    /// turns off one the config file turns on.
    #[arg(long, env = "CAIRN_ACCESS_LOG", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub access_log: Option<bool>,
    /// Largest the event store may grow, in MiB; at the limit calls are refused with 503 as on
    /// a full disk (1 to 2^40). Default: no limit but the disk.
    #[arg(long, allow_negative_numbers = true, env = "CAIRN_MAX_STORE_MB", value_parser = crate::bounds::flag::max_store_mb)]
    pub max_store_mb: Option<u64>,
    /// Seconds from enabling CloudTrail Insights (or restarting logging) to the first
    /// evaluated minute; kept in the data dir for `cairn insights run`. 0 to one year;
    /// default 129600 (36 h).
    #[arg(
        long = "insights-warm-up",
        env = "CAIRN_INSIGHTS_WARM_UP",
        allow_negative_numbers = true,
        value_parser = crate::bounds::flag::warm_up
    )]
    pub insights_warm_up: Option<u64>,
    /// For tests only: the JSON and Query services take "now" from this file (epoch
    /// seconds), so that a test can make calls a week apart in seconds. S3 keeps the system
    /// clock. Never set this on a server whose records matter.
    #[arg(long, env = "CAIRN_CLOCK_FILE")]
    pub clock_file: Option<PathBuf>,
}

/// The TOML file's keys.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    account_id: Option<String>,
    retention_days: Option<u32>,
    log_format: Option<String>,
    max_body_bytes: Option<usize>,
    sweep_interval_secs: Option<u64>,
    delivery_interval: Option<f64>,
    digest_interval: Option<f64>,
    kms_master_key_file: Option<PathBuf>,
    alarm_tick_secs: Option<f64>,
    max_connections: Option<usize>,
    header_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    min_body_rate: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
    s3_domains: Option<Vec<String>>,
    sns_allowed_networks: Option<Vec<String>>,
    access_log: Option<bool>,
    max_store_mb: Option<u64>,
    insights_warm_up: Option<u64>,
    #[serde(default)]
    buckets: std::collections::BTreeMap<String, cairn_buckets::ExternalBucketConfig>,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Data directory.
    pub data_dir: PathBuf,
    /// Listen address.
    pub listen: SocketAddr,
    /// The account id given (flag, variable or file); the data dir's recorded account, else
    /// `123456789012`, when none is.
    pub account_id: Option<cairn_model::AccountId>,
    /// Retention, days.
    pub retention_days: u32,
    /// `text` or `json`.
    pub json_logs: bool,
    /// Body limit.
    pub max_body_bytes: usize,
    /// Sweep interval.
    pub sweep_interval_secs: u64,
    /// Seconds between deliveries.
    pub delivery_interval: f64,
    /// Seconds between digests.
    pub digest_interval: f64,
    /// KMS master key file, when one is configured.
    pub kms_master_key_file: Option<PathBuf>,
    /// Seconds between alarm evaluation checks (0: off).
    pub alarm_tick_secs: f64,
    /// External buckets (`[buckets.<name>]` in the settings file).
    pub external_buckets: std::collections::BTreeMap<String, cairn_buckets::ExternalBucketConfig>,
    /// Connection limits.
    pub limits: cairn_api::listener::Limits,
    /// Proxies trusted for `X-Forwarded-For`.
    pub trusted_proxies: Vec<cairn_core::net::Cidr>,
    /// Base domains of virtual-hosted–style S3 requests (besides `localhost`).
    pub s3_domains: Vec<String>,
    /// Networks SNS HTTP subscriptions may reach (empty: any but the forbidden ranges).
    pub sns_allowed_networks: Vec<cairn_core::net::Cidr>,
    /// One log line per request.
    pub access_log: bool,
    /// Store size limit, bytes.
    pub max_store_bytes: Option<u64>,
    /// Insights warm-up, seconds.
    pub insights_warm_up_secs: u64,
    /// The clock of the JSON and Query services.
    pub clock: cairn_core::clock::Clock,
}

/// `--s3-domains`: DNS names (letters, digits, hyphens, dots), lower-cased, at most 253
/// characters each.
fn domains(list: Option<Vec<String>>) -> anyhow::Result<Vec<String>> {
    list.unwrap_or_default()
        .iter()
        .map(|s| s.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .map(|d| {
            let ok = d.len() <= 253
                && d.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            if ok {
                Ok(d)
            } else {
                Err(anyhow::anyhow!(
                    "s3_domains: {d:?} is not a DNS name (letters, digits, hyphens and dots)"
                ))
            }
        })
        .collect()
}

fn cidrs(what: &str, list: Option<Vec<String>>) -> anyhow::Result<Vec<cairn_core::net::Cidr>> {
    list.unwrap_or_default()
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("{what}: {s:?} is not an address or CIDR: {e}"))
        })
        .collect()
}

/// A file value's bound check, worded with its key.
fn file_value<T>(key: &str, checked: Result<T, String>) -> anyhow::Result<T> {
    checked.map_err(|e| anyhow::anyhow!("{key} in the settings file {e}"))
}

/// A setting: the flag (or its variable, checked by its value parser), else the file's value
/// (checked here with the same bound), else the default.
fn setting<T>(
    flag: Option<T>,
    file: Option<T>,
    key: &str,
    default: T,
    check: impl Fn(T) -> Result<T, String>,
) -> anyhow::Result<T> {
    match (flag, file) {
        (Some(v), _) => Ok(v),
        (None, Some(v)) => file_value(key, check(v)),
        (None, None) => Ok(default),
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    warn_if_readable_by_others(path, &text);
    // The error names the line and column, never the line's text: it may hold an external
    // store's secret key (the settings file's `[buckets.<name>]` sections).
    toml::from_str(&text).map_err(|e: toml::de::Error| {
        let mut secret_line = false;
        let at = e.span().map_or_else(String::new, |span| {
            let start = span.start.min(text.len());
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            secret_line = text
                .lines()
                .nth(line - 1)
                .is_some_and(|l| l.contains("secret"));
            format!(" at line {line}, column {column}")
        });
        // The message can quote the value (`invalid type: integer `5``): not for a secret.
        let why = if secret_line {
            "the value is not valid (not shown: the line holds a secret)".to_owned()
        } else {
            e.message().to_owned()
        };
        anyhow::anyhow!("parsing {}{at}: {why}", path.display())
    })
}

/// A settings file that holds an external store's secret key should be its owner's alone,
/// as Cairn's own secrets are (0600): said once on stderr, not refused.
fn warn_if_readable_by_others(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    let holds_secret = text.contains("secret_access_key");
    if let Ok(meta) = std::fs::metadata(path)
        && holds_secret
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "cairn: warning: {} holds a secret_access_key and is readable by others (mode {:o}); chmod 600 it",
            path.display(),
            meta.permissions().mode() & 0o777
        );
    }
}

impl ServeConfig {
    /// Merges flags/env over the file over defaults, and validates.
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Self> {
        let file = match &args.config {
            Some(p) => read_file(p)?,
            None => FileConfig::default(),
        };
        let account_id = args
            .account_id
            .clone()
            .or(file.account_id)
            .map(|a| cairn_model::AccountId::parse(&a).map_err(anyhow::Error::msg))
            .transpose()?;
        let log_format = args
            .log_format
            .clone()
            .or(file.log_format)
            .unwrap_or_else(|| "text".to_owned());
        let json_logs = match log_format.as_str() {
            "text" => false,
            "json" => true,
            other => bail!("log_format must be text or json, not {other:?}"),
        };
        let retention_days = setting(
            args.retention_days,
            file.retention_days,
            "retention_days",
            90,
            |v| bounds::RETENTION_DAYS.check(v),
        )?;
        let secs =
            |flag: Option<f64>, file: Option<f64>, key: &str, default: f64, b: bounds::Secs| {
                setting(flag, file, key, default, |v| b.check(v))
            };
        let max_connections = setting(
            args.max_connections,
            file.max_connections,
            "max_connections",
            1024,
            |v| bounds::MAX_CONNECTIONS.check(v),
        )?;
        let header_timeout = setting(
            args.header_timeout_secs,
            file.header_timeout_secs,
            "header_timeout_secs",
            20,
            |v| bounds::TIMEOUT.check(v),
        )?;
        let idle_timeout = setting(
            args.idle_timeout_secs,
            file.idle_timeout_secs,
            "idle_timeout_secs",
            120,
            |v| bounds::TIMEOUT.check(v),
        )?;
        let min_body_rate = setting(
            args.min_body_rate,
            file.min_body_rate,
            "min_body_rate",
            1024,
            |v| bounds::MIN_BODY_RATE.check(v),
        )?;
        let max_store_mb = match args.max_store_mb {
            Some(mb) => Some(mb),
            None => file
                .max_store_mb
                .map(|v| file_value("max_store_mb", bounds::MAX_STORE_MB.check(v)))
                .transpose()?,
        };
        Ok(Self {
            data_dir: args
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("cairn-data")),
            listen: match (args.listen, file.listen) {
                (Some(flag), _) => flag,
                (None, Some(text)) => file_value("listen", bounds::flag::listen(&text))?,
                (None, None) => "127.0.0.1:4599".parse().expect("valid default"),
            },
            account_id,
            retention_days,
            json_logs,
            max_body_bytes: setting(
                args.max_body_bytes,
                file.max_body_bytes,
                "max_body_bytes",
                8 << 20,
                |v| bounds::MAX_BODY_BYTES.check(v),
            )?,
            sweep_interval_secs: setting(
                args.sweep_interval_secs,
                file.sweep_interval_secs,
                "sweep_interval_secs",
                600,
                |v| bounds::SWEEP_INTERVAL.check(v),
            )?,
            delivery_interval: secs(
                args.delivery_interval,
                file.delivery_interval,
                "delivery_interval",
                300.0,
                bounds::DELIVERY_INTERVAL,
            )?,
            alarm_tick_secs: secs(
                args.alarm_tick_secs,
                file.alarm_tick_secs,
                "alarm_tick_secs",
                1.0,
                bounds::ALARM_TICK,
            )?,
            digest_interval: secs(
                args.digest_interval,
                file.digest_interval,
                "digest_interval",
                3600.0,
                bounds::DIGEST_INTERVAL,
            )?,
            kms_master_key_file: args
                .kms_master_key_file
                .clone()
                .or(file.kms_master_key_file),
            external_buckets: file.buckets,
            limits: cairn_api::listener::Limits {
                max_connections,
                header_timeout: std::time::Duration::from_secs(header_timeout),
                idle_timeout: std::time::Duration::from_secs(idle_timeout),
                min_body_rate,
            },
            trusted_proxies: cidrs(
                "trusted_proxies",
                args.trusted_proxies.clone().or(file.trusted_proxies),
            )?,
            s3_domains: domains(args.s3_domains.clone().or(file.s3_domains))?,
            sns_allowed_networks: cidrs(
                "sns_allowed_networks",
                args.sns_allowed_networks
                    .clone()
                    .or(file.sns_allowed_networks),
            )?,
            access_log: args.access_log.or(file.access_log).unwrap_or(false),
            max_store_bytes: max_store_mb.map(|mb| mb << 20),
            insights_warm_up_secs: setting(
                args.insights_warm_up,
                file.insights_warm_up,
                "insights_warm_up",
                36 * 3600,
                |v| bounds::WARM_UP.check(v),
            )?,
            clock: args.clock_file.clone().map_or_else(
                cairn_core::clock::Clock::system,
                cairn_core::clock::Clock::from_file,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_domains_are_dns_names_from_the_flag_or_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "s3_domains = [\".S3.Cairn.Internal\", \"cairn.test\"]\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        let resolved = ServeConfig::resolve(&args).unwrap();
        assert_eq!(resolved.s3_domains, ["s3.cairn.internal", "cairn.test"]);
        for bad in [
            "s3..internal",
            "-s3.internal",
            "s3_x.internal",
            "a b",
            "s3.internal:80",
        ] {
            let args = ServeArgs {
                config: Some(path.clone()),
                s3_domains: Some(vec![bad.into()]),
                ..Default::default()
            };
            let err = format!("{:#}", ServeConfig::resolve(&args).unwrap_err());
            assert!(
                err.contains("s3_domains") && err.contains("DNS name"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1\"\nnot_a_key = 1\n").unwrap();
        let args = ServeArgs {
            config: Some(path),
            ..Default::default()
        };
        let err = ServeConfig::resolve(&args).unwrap_err();
        assert!(format!("{err:#}").contains("not_a_key"), "{err:#}");
    }

    #[test]
    fn file_values_get_the_flags_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        for (line, key) in [
            ("delivery_interval = 1e300", "delivery_interval"),
            ("delivery_interval = nan", "delivery_interval"),
            ("delivery_interval = 0.0000001", "delivery_interval"),
            ("digest_interval = -1.0", "digest_interval"),
            ("alarm_tick_secs = inf", "alarm_tick_secs"),
            ("max_connections = 3000000000000000000", "max_connections"),
            ("max_body_bytes = 0", "max_body_bytes"),
            ("header_timeout_secs = 0", "header_timeout_secs"),
            ("retention_days = 0", "retention_days"),
            ("max_store_mb = 0", "max_store_mb"),
        ] {
            std::fs::write(&path, format!("{line}\n")).unwrap();
            let args = ServeArgs {
                config: Some(path.clone()),
                ..Default::default()
            };
            let err = format!("{:#}", ServeConfig::resolve(&args).unwrap_err());
            assert!(
                err.contains(key) && err.contains("must be"),
                "{line}: {err}"
            );
        }
        std::fs::write(&path, "delivery_interval = 0.05\nalarm_tick_secs = 0\n").unwrap();
        let args = ServeArgs {
            config: Some(path),
            ..Default::default()
        };
        let c = ServeConfig::resolve(&args).unwrap();
        assert_eq!((c.delivery_interval, c.alarm_tick_secs), (0.05, 0.0));
    }

    /// `CAIRN_ACCESS_LOG=false` (or `--access-log=false`) turns off an access log the file
    /// turns on: the flag's value is known apart from its absence.
    #[test]
    fn the_access_log_flag_overrides_the_file_either_way() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "access_log = true
",
        )
        .unwrap();
        let with = |flag: Option<bool>| {
            let args = ServeArgs {
                config: Some(path.clone()),
                access_log: flag,
                ..Default::default()
            };
            ServeConfig::resolve(&args).unwrap().access_log
        };
        assert!(with(None));
        assert!(!with(Some(false)));
        assert!(with(Some(true)));
        use clap::Parser;
        let parsed = crate::Cli::try_parse_from(["cairn", "serve", "--access-log"]).unwrap();
        let crate::Command::Serve(args) = parsed.command else {
            panic!("serve")
        };
        assert_eq!(args.access_log, Some(true));
    }

    #[test]
    fn flags_override_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "account_id = \"111122223333\"\nretention_days = 7\n").unwrap();
        let args = ServeArgs {
            config: Some(path),
            retention_days: Some(30),
            ..Default::default()
        };
        let c = ServeConfig::resolve(&args).unwrap();
        assert_eq!(c.account_id.unwrap().as_str(), "111122223333");
        assert_eq!(c.retention_days, 30);
        assert_eq!(c.listen.port(), 4599);
    }

    #[test]
    fn file_listen_takes_a_host_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "listen = \"localhost:4601\"\n").unwrap();
        let args = ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        };
        let c = ServeConfig::resolve(&args).unwrap();
        assert!(c.listen.ip().is_loopback() && c.listen.port() == 4601);
        std::fs::write(&path, "listen = \"localhost\"\n").unwrap();
        let err = ServeConfig::resolve(&args).unwrap_err().to_string();
        assert!(
            err.contains("listen in the settings file must be host:port"),
            "{err}"
        );
    }
}
