//! The `cairn` binary: `serve`, admin commands on a data dir, `validate-logs`, and `bench`.

mod account;
mod admin_cmd;
mod admin_store;
mod alarms_cmd;
mod bench;
mod bounds;
mod client;
mod clock_guard;
mod config;
mod credentials;
mod datadir;
mod iam_cmd;
mod insights_cmd;
mod kms_cmd;
mod logs_cmd;
mod monitoring_cmd;
mod serve;
mod timearg;
mod validate;
mod verify_store;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: a request's many short-lived allocations
/// cost a fifth of the server's CPU under glibc's (BENCHMARKS.md, validate-logs). Built
/// without transparent huge pages (`no_thp`): with them, its arenas were `MADV_HUGEPAGE`
/// and each purge of 64 KiB split a huge page the kernel then cleared and compacted again,
/// which made validate-logs' system time swing from 0.01 s to 0.5 s run to run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Cairn: a self-hosted, wire-compatible AWS CloudTrail in one binary. Point the AWS CLI or any
/// AWS SDK at it by changing only the endpoint URL.
#[derive(Parser, Debug)]
#[command(
    name = "cairn",
    version,
    about = "Cairn: a self-hosted, wire-compatible AWS CloudTrail (with the S3, SNS and IAM it needs) in one binary.",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The variables `serve` reads besides its flags' own (`[env: …]` above).
const SERVE_ENV: &str = "Environment:
  CAIRN_LOG                      log filter: error, warn, info (default), debug, trace, or per target (cairn::access=info)
  CAIRN_ROOT_ACCESS_KEY_ID       the root user's access key id (with CAIRN_ROOT_SECRET_ACCESS_KEY; else generated)
  CAIRN_ROOT_SECRET_ACCESS_KEY   the root user's secret key
  CAIRN_KMS_MASTER_KEY           the KMS master key, 64 hex digits (or --kms-master-key-file)";

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the AWS APIs (CloudTrail, S3, SNS, …) on one listener.
    #[command(after_help = SERVE_ENV)]
    Serve(config::ServeArgs),
    /// Print `export AWS_…` lines for the root credentials of a data dir.
    Env(admin_cmd::EnvArgs),
    /// Manage IAM users and access keys in a data dir.
    Iam(iam_cmd::IamArgs),
    /// KMS operator commands on a data dir: sweep, reset-key-policy, master-key rotation.
    Kms(kms_cmd::KmsArgs),
    /// Print stored CloudTrail records of a data dir, one per line.
    Events(admin_cmd::EventsArgs),
    /// Apply bucket lifecycle rules to a data dir.
    Lifecycle(admin_cmd::LifecycleArgs),
    /// Validate a trail's log files and digests (like `aws cloudtrail validate-logs`, stricter).
    ValidateLogs(validate::ValidateArgs),
    /// CloudTrail Insights on a data dir: evaluate closed minutes up to a clock.
    Insights(insights_cmd::InsightsArgs),
    /// Deliver pending trail events and write digests now.
    Flush(admin_cmd::FlushArgs),
    /// CloudWatch Logs housekeeping on a data dir (the retention sweep).
    Logs(logs_cmd::LogsArgs),
    /// Evaluate a data dir's CloudWatch alarms now or at a given time.
    Alarms(alarms_cmd::AlarmsArgs),
    /// Monitoring recipes through a running server's API (`install-cis`).
    Monitoring(monitoring_cmd::MonitoringArgs),
    /// Check, write and read configured external buckets.
    External(admin_cmd::ExternalArgs),
    /// Check the event chain of a data dir offline; report deleted, inserted or edited events.
    VerifyStore(verify_store::VerifyStoreArgs),
    /// Measure Cairn against a running endpoint (see BENCHMARKS.md).
    Bench(bench::BenchArgs),
}

/// The exit status of a command-line tool whose reader went away (128 + `SIGPIPE`).
pub(crate) const CLOSED_PIPE: u8 = 141;

/// Whether an error is a write to a pipe whose reader went away.
pub(crate) fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Command-line tools end quietly when the reader of their output goes away (`cairn env |
/// head -1`, `cairn validate-logs … 2>&1 | head`), with the status a shell gives a tool
/// `SIGPIPE` stopped. Rust ignores `SIGPIPE`, so such a write fails instead, and `println!`
/// panics: that panic ends the process here, silently. (`serve` never writes to a pipe.)
fn end_quietly_on_closed_pipes() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(CLOSED_PIPE.into());
        }
        default(info);
    }));
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    end_quietly_on_closed_pipes();
    let result = match cli.command {
        Command::ValidateLogs(args) => {
            return validate::run(args).unwrap_or_else(|e| {
                if is_closed_pipe(&e) {
                    return std::process::ExitCode::from(CLOSED_PIPE);
                }
                eprintln!("cairn: {e:#}");
                std::process::ExitCode::from(255)
            });
        }
        Command::VerifyStore(args) => return verify_store::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Env(args) => admin_cmd::env(args),
        Command::Iam(args) => iam_cmd::run(args),
        Command::Kms(args) => kms_cmd::run(args),
        Command::Events(args) => admin_cmd::events(args),
        Command::Lifecycle(args) => admin_cmd::lifecycle(args),
        Command::External(args) => admin_cmd::external(args),
        Command::Flush(args) => match admin_cmd::flush(args) {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::from(admin_cmd::FLUSH_INCOMPLETE),
            Err(e) => Err(e),
        },
        Command::Insights(args) => insights_cmd::run(args),
        Command::Logs(args) => logs_cmd::run(args),
        Command::Alarms(args) => alarms_cmd::run(args),
        Command::Monitoring(args) => monitoring_cmd::run(args),
        Command::Bench(args) => bench::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if is_closed_pipe(&e) => std::process::ExitCode::from(CLOSED_PIPE),
        Err(e) => {
            eprintln!("cairn: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
