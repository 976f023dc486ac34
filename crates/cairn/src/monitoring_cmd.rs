//! `cairn monitoring install-cis`: the fifteen CIS AWS Foundations Benchmark section 4
//! metric filters and alarms, created through the public API of a running server (signed
//! `PutMetricFilter` and `PutMetricAlarm` calls, so they are authorized and recorded like any
//! user's), exactly as the benchmark's command-line remediation creates them. The patterns
//! and conventions are data: `data/cis-aws-foundations-4.json` (its `source` names where
//! they come from).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::client::{Credentials, Unsigned, amz_now, host_of, sign_at};

/// The benchmark's section 4 as data.
pub const CIS_SECTION_4: &str = include_str!("../data/cis-aws-foundations-4.json");

/// Arguments of `cairn monitoring`.
#[derive(Args, Debug)]
pub struct MonitoringArgs {
    #[command(subcommand)]
    command: MonitoringCommand,
}

#[derive(Subcommand, Debug)]
enum MonitoringCommand {
    /// Create the CIS 4.1–4.15 metric filters on a trail's log group and their alarms,
    /// notifying a topic.
    InstallCis(InstallCisArgs),
}

/// Arguments of `cairn monitoring install-cis`.
#[derive(Args, Debug)]
pub struct InstallCisArgs {
    /// The log group the trail delivers to (name, or its ARN).
    #[arg(long)]
    log_group: String,
    /// The SNS topic ARN the alarms notify.
    #[arg(long)]
    topic: String,
    /// The server's URL.
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        default_value = "http://127.0.0.1:4599"
    )]
    endpoint_url: String,
    /// Region to sign for (default: the topic's region).
    #[arg(long)]
    region: Option<String>,
    /// Data dir whose root credentials sign the calls when `AWS_ACCESS_KEY_ID` and
    /// `AWS_SECRET_ACCESS_KEY` are not set.
    #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
    data_dir: PathBuf,
    /// `TreatMissingData` of the alarms. The benchmark's text sets none (`missing`: a quiet
    /// metric then sits in INSUFFICIENT_DATA); `notBreaching` lets alarms return to OK.
    #[arg(long, default_value = "notBreaching")]
    treat_missing_data: String,
}

#[derive(Deserialize)]
struct Section {
    namespace: String,
    metric_value: String,
    statistic: String,
    period: i64,
    threshold: f64,
    comparison_operator: String,
    evaluation_periods: i64,
    controls: Vec<Control>,
}

#[derive(Deserialize)]
struct Control {
    control: String,
    metric: String,
    alarm: String,
    pattern: String,
}

/// Runs `cairn monitoring`.
pub fn run(args: MonitoringArgs) -> anyhow::Result<()> {
    match args.command {
        MonitoringCommand::InstallCis(a) => install_cis(a),
    }
}

/// The group name of a name or of a `log-group` ARN (with or without `:*`).
fn group_name(value: &str) -> String {
    if value.starts_with("arn:") {
        value.split(':').nth(6).unwrap_or_default().to_owned()
    } else {
        value.to_owned()
    }
}

fn credentials(args: &InstallCisArgs) -> anyhow::Result<Credentials> {
    if let (Ok(id), Ok(secret)) = (
        std::env::var("AWS_ACCESS_KEY_ID"),
        std::env::var("AWS_SECRET_ACCESS_KEY"),
    ) {
        return Ok(Credentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: std::env::var("AWS_SESSION_TOKEN").ok(),
        });
    }
    let root = crate::credentials::for_client(&args.data_dir)
        .with_context(|| format!("reading root credentials of {}", args.data_dir.display()))?;
    Ok(Credentials {
        access_key_id: root.access_key_id,
        secret_access_key: root.secret_access_key.clone(),
        session_token: None,
    })
}

/// A signed JSON RPC client for one service.
struct JsonRpc<'a> {
    http: reqwest::Client,
    endpoint: &'a str,
    region: &'a str,
    creds: &'a Credentials,
}

impl JsonRpc<'_> {
    async fn call(
        &self,
        service: &str,
        json_version: &str,
        target: &str,
        body: &Value,
    ) -> anyhow::Result<Value> {
        let body = body.to_string();
        let payload = hex::encode(Sha256::digest(body.as_bytes()));
        let host = host_of(self.endpoint)?;
        let headers = sign_at(
            Unsigned {
                method: "POST",
                host,
                raw_path: "/",
                raw_query: "",
                service,
                region: self.region,
                headers: vec![
                    (
                        "content-type".to_owned(),
                        format!("application/x-amz-json-{json_version}"),
                    ),
                    ("x-amz-target".to_owned(), target.to_owned()),
                ],
                payload_hash: &payload,
            },
            self.creds,
            &amz_now(),
        );
        let mut req = self
            .http
            .post(format!("{}/", self.endpoint.trim_end_matches('/')));
        for (n, v) in headers {
            req = req.header(n, v);
        }
        let resp = req
            .body(body)
            .send()
            .await
            .with_context(|| format!("calling {target} at {}", self.endpoint))?;
        let status = resp.status();
        let value: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let code = value["__type"].as_str().unwrap_or(status.as_str());
            let message = value["message"]
                .as_str()
                .or_else(|| value["Message"].as_str())
                .unwrap_or("");
            bail!("{target}: {code}: {message}");
        }
        Ok(value)
    }
}

fn install_cis(args: InstallCisArgs) -> anyhow::Result<()> {
    let section: Section = serde_json::from_str(CIS_SECTION_4).context("the CIS data file")?;
    let group = group_name(&args.log_group);
    if group.is_empty() {
        bail!("--log-group must be a log group name or ARN");
    }
    let region = match &args.region {
        Some(r) => r.clone(),
        None => args
            .topic
            .split(':')
            .nth(3)
            .filter(|r| !r.is_empty() && args.topic.starts_with("arn:"))
            .context("--topic must be an SNS topic ARN (or give --region)")?
            .to_owned(),
    };
    let creds = credentials(&args)?;
    let client = JsonRpc {
        http: reqwest::Client::new(),
        endpoint: &args.endpoint_url,
        region: &region,
        creds: &creds,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        for c in &section.controls {
            client
                .call(
                    "logs",
                    "1.1",
                    "Logs_20140328.PutMetricFilter",
                    &json!({
                        "logGroupName": group,
                        "filterName": c.metric,
                        "filterPattern": c.pattern,
                        "metricTransformations": [{
                            "metricName": c.metric,
                            "metricNamespace": section.namespace,
                            "metricValue": section.metric_value,
                        }],
                    }),
                )
                .await?;
            client
                .call(
                    "monitoring",
                    "1.0",
                    "GraniteServiceVersion20100801.PutMetricAlarm",
                    &json!({
                        "AlarmName": c.alarm,
                        "MetricName": c.metric,
                        "Namespace": section.namespace,
                        "Statistic": section.statistic,
                        "Period": section.period,
                        "Threshold": section.threshold,
                        "ComparisonOperator": section.comparison_operator,
                        "EvaluationPeriods": section.evaluation_periods,
                        "AlarmActions": [args.topic],
                        "TreatMissingData": args.treat_missing_data,
                    }),
                )
                .await?;
            println!(
                "{}",
                json!({"Control": c.control, "MetricFilter": c.metric, "Alarm": c.alarm})
            );
        }
        anyhow::Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_holds_the_fifteen_controls_and_every_pattern_parses() {
        let section: Section = serde_json::from_str(CIS_SECTION_4).unwrap();
        assert_eq!(section.controls.len(), 15);
        assert_eq!(section.namespace, "CISBenchmark");
        for (i, c) in section.controls.iter().enumerate() {
            assert_eq!(c.control, format!("4.{}", i + 1));
            assert!(c.metric.ends_with("_metric") && c.alarm.ends_with("_alarm"));
            cairn_core::logs::metric_filters::parse_pattern(&c.pattern)
                .unwrap_or_else(|e| panic!("{}: {}", c.control, e.message));
        }
    }

    #[test]
    fn group_names_come_from_names_and_arns() {
        assert_eq!(group_name("g/1"), "g/1");
        assert_eq!(
            group_name("arn:aws:logs:us-east-1:123456789012:log-group:g/1:*"),
            "g/1"
        );
        assert_eq!(
            group_name("arn:aws:logs:us-east-1:123456789012:log-group:g/1"),
            "g/1"
        );
    }
}
