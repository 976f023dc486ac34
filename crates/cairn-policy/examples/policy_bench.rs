//! Prints policy evaluations per second (run with `--release`):
//! `cargo run --release -p cairn-policy --example policy_bench [seconds]`.

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    for r in cairn_policy::bench::standard(std::time::Duration::from_secs_f64(secs)) {
        println!(
            "{:<48} {:>12.0} evaluations/s ({} in {:.2?})",
            r.name, r.per_second, r.evaluations, r.elapsed
        );
    }
}
