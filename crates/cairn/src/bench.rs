//! `cairn bench`: load generators whose results go into BENCHMARKS.md.
//! See the module-level functions for each scenario.

use clap::Args;

/// Arguments of `cairn bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Scenario.
    #[arg(value_parser = ["control-plane", "lookup", "recording"])]
    scenario: String,
}

/// Runs a benchmark scenario.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("benchmark {} is not built yet", args.scenario)
}
