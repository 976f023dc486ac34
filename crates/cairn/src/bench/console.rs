//! `cairn bench console`: the web console's Event history page against a running endpoint
//! whose data dir was filled by `cairn bench populate`: time to first byte and whole-page
//! time over plain HTTP, per filter, after signing in through the form like a browser.
//! (Full page loads in Chromium are measured by `compat/browser/bench.mjs`.)

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use super::percentile_ms;
use super::populate::{EVENT_NAMES, USERS};

/// Arguments of `cairn bench console`.
#[derive(Args, Debug)]
pub struct ConsoleArgs {
    /// Endpoint URL, e.g. http://127.0.0.1:4599.
    #[arg(long)]
    endpoint: String,
    /// Access key id to sign in with.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: String,
    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: String,
    /// Page loads per filter.
    #[arg(long, default_value_t = 50)]
    loads: u64,
}

/// The filters measured: a label and the query of `/console/events`.
pub fn filters(i: u64) -> Vec<(&'static str, String)> {
    let name = EVENT_NAMES[(i as usize) % EVENT_NAMES.len()];
    let user = format!("user-{}", i % USERS);
    vec![
        ("unfiltered (read-only hidden)", String::new()),
        ("unfiltered, read-only shown", "readonly=show".to_owned()),
        ("Event name", format!("attr=EventName&value={name}")),
        ("User name", format!("attr=Username&value={user}")),
        (
            "User name + Event name",
            format!("attr=Username&value={user}&attr=EventName&value={name}"),
        ),
        ("free text (resource-7)", "q=resource-7%22".to_owned()),
    ]
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_owned())
}

fn cookie(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or("").to_owned())
}

/// Signs in through the form; returns the session cookie (`name=value`).
async fn sign_in(client: &reqwest::Client, args: &ConsoleArgs) -> anyhow::Result<String> {
    let base = args.endpoint.trim_end_matches('/');
    let page = client.get(format!("{base}/console/signin")).send().await?;
    let pre = cookie(&page, "cairn_signin").context("no sign-in cookie")?;
    let csrf = hidden(&page.text().await?, "csrf").context("no CSRF token")?;
    let resp = client
        .post(format!("{base}/console/signin"))
        .header("cookie", pre)
        .header("origin", base)
        .form(&[
            ("csrf", csrf.as_str()),
            ("access_key_id", args.access_key_id.as_str()),
            ("secret_access_key", args.secret_access_key.as_str()),
            ("region", "us-east-1"),
        ])
        .send()
        .await?;
    cookie(&resp, "cairn_console").context("sign-in failed: check the keys")
}

/// Runs the scenario and prints one line per filter.
pub fn run(args: ConsoleArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let session = sign_in(&client, &args).await?;
        let base = args.endpoint.trim_end_matches('/').to_owned();
        println!("| filter | TTFB p50 ms | TTFB p99 ms | page p50 ms | page p99 ms | rows/page | bytes/page |");
        println!("|---|---|---|---|---|---|---|");
        for (k, (label, _)) in filters(0).into_iter().enumerate() {
            let (mut ttfb, mut total): (Vec<Duration>, Vec<Duration>) = (Vec::new(), Vec::new());
            let (mut rows, mut bytes) = (0usize, 0usize);
            for i in 0..args.loads {
                let query = &filters(i)[k].1;
                let started = Instant::now();
                let resp = client
                    .get(format!("{base}/console/events?{query}"))
                    .header("cookie", &session)
                    .send()
                    .await?;
                ttfb.push(started.elapsed());
                anyhow::ensure!(resp.status() == 200, "{label}: status {}", resp.status());
                let body = resp.text().await?;
                total.push(started.elapsed());
                rows += body.matches("class=\"event-link\"").count();
                bytes += body.len();
            }
            ttfb.sort();
            total.sort();
            let n = args.loads.max(1) as usize;
            println!(
                "| {label} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} |",
                percentile_ms(&ttfb, 0.50),
                percentile_ms(&ttfb, 0.99),
                percentile_ms(&total, 0.50),
                percentile_ms(&total, 0.99),
                rows / n,
                bytes / n,
            );
        }
        Ok(())
    })
}
