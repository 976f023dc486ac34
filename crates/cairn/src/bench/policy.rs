//! `cairn bench policy`: policy evaluations per second on one core, for the managed CloudTrail
//! policies and a 20-statement customer policy with conditions (cairn-policy's standard set).

use clap::Args;

/// Arguments of `cairn bench policy`.
#[derive(Args, Debug)]
pub struct PolicyArgs {
    /// Seconds to run each case (0.1 to one day).
    #[arg(long, allow_negative_numbers = true, default_value_t = 2.0, value_parser = crate::bounds::flag::bench_seconds)]
    seconds: f64,
}

/// Runs the cases on this thread and prints one JSON line per case.
pub fn run(args: PolicyArgs) -> anyhow::Result<()> {
    let min = std::time::Duration::from_secs_f64(args.seconds);
    for r in cairn_policy::bench::standard(min) {
        println!(
            "{}",
            serde_json::json!({
                "case": r.name,
                "evaluations": r.evaluations,
                "seconds": r.elapsed.as_secs_f64(),
                "per_second": r.per_second.round(),
            })
        );
    }
    Ok(())
}
