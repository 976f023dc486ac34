//! `cairn bench lookup`: LookupEvents latency for each attribute against a running endpoint
//! whose data dir was filled by `cairn bench populate`.

use std::time::Instant;

use clap::Args;
use serde_json::{Value, json};

use super::populate::{EVENT_NAMES, EVENT_SOURCES, RESOURCE_TYPES, RESOURCES, USERS, event_id};
use super::{Target, percentile_ms};

/// Arguments of `cairn bench lookup`.
#[derive(Args, Debug)]
pub struct LookupArgs {
    #[command(flatten)]
    target: Target,
    /// Calls per attribute.
    #[arg(long, default_value_t = 200)]
    calls: u64,
    /// Number of events the data dir was populated with.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
}

fn attribute(key: &str, i: u64, events: u64) -> Value {
    let value = match key {
        "EventId" => event_id((i * 7919) % events),
        "EventName" => EVENT_NAMES[(i as usize) % EVENT_NAMES.len()].to_owned(),
        "ReadOnly" => if i.is_multiple_of(2) { "true" } else { "false" }.to_owned(),
        "Username" => format!("user-{}", i % USERS),
        "ResourceType" => RESOURCE_TYPES[(i as usize) % RESOURCE_TYPES.len()].to_owned(),
        "ResourceName" => format!("resource-{}", i % RESOURCES),
        "EventSource" => EVENT_SOURCES[(i as usize) % EVENT_SOURCES.len()].to_owned(),
        "AccessKeyId" => format!("AKIABENCH{:011}", i % USERS),
        _ => unreachable!("known attribute"),
    };
    json!([{"AttributeKey": key, "AttributeValue": value}])
}

/// Runs the scenario and prints one line per attribute.
pub fn run(args: LookupArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = reqwest::Client::new();
        let keys = [
            "(none)",
            "EventId",
            "EventName",
            "ReadOnly",
            "Username",
            "ResourceType",
            "ResourceName",
            "EventSource",
            "AccessKeyId",
        ];
        for key in keys {
            let mut latencies = Vec::new();
            let mut returned = 0usize;
            for i in 0..args.calls {
                let body = if key == "(none)" {
                    json!({"MaxResults": 50})
                } else {
                    json!({"MaxResults": 50, "LookupAttributes": attribute(key, i, args.events)})
                };
                let t0 = Instant::now();
                let resp = args
                    .target
                    .post(&client, "LookupEvents", body.to_string())?
                    .send()
                    .await?;
                anyhow::ensure!(
                    resp.status().is_success(),
                    "LookupEvents {key}: {}",
                    resp.status()
                );
                let page: Value = resp.json().await?;
                latencies.push(t0.elapsed());
                returned += page["Events"].as_array().map_or(0, Vec::len);
            }
            latencies.sort();
            println!(
                "attribute={key} calls={} avg_events={:.1} p50={:.2} ms p99={:.2} ms",
                args.calls,
                returned as f64 / args.calls as f64,
                percentile_ms(&latencies, 0.50),
                percentile_ms(&latencies, 0.99)
            );
        }
        Ok(())
    })
}
