//! `cairn bench logs`: filter-pattern matching, ingest and FilterLogEvents, in process, on one
//! core.
//!
//! Matching: the fourteen CIS 4.1–4.14 metric-filter patterns together over real-shaped
//! CloudTrail records (compact JSON as CloudTrail delivers them to CloudWatch Logs), against
//! the limit of parsing each record with `serde_json` alone, in the same run: to a `Value`
//! (what a matcher that parses would need) and to `IgnoredAny` (syntax only). Also shown: the
//! fourteen patterns each parsing the record on its own. Then ingest (`logs::ingest` with the
//! fourteen filters, durable, in batches) and FilterLogEvents over what was ingested.

use std::hint::black_box;
use std::time::Instant;

use cairn_core::logs::ingest::{InputEvent, ingest};
use cairn_core::logs::metric_filters::{PutFilter, Transformation};
use cairn_core::logs::read::{FilterEvents, filter_log_events};
use cairn_core::logs::{GroupKey, groups, metric_filters, streams};
use cairn_filter::{FilterPattern, Matcher};
use cairn_store::Store;
use clap::Args;
use serde_json::{Value, json};

/// The CIS AWS Foundations Benchmark 4.1–4.14 patterns, as spec monitoring.md §6 transcribes
/// them from the benchmark (metric name, pattern).
pub const CIS_PATTERNS: [(&str, &str); 14] = [
    (
        "unauthorized_api_calls_metric",
        r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }"#,
    ),
    (
        "no_mfa_console_signin_metric",
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
    ),
    (
        "root_usage_metric",
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    ),
    (
        "iam_changes_metric",
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
    ),
    (
        "cloudtrail_cfg_changes_metric",
        "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }",
    ),
    (
        "console_signin_failure_metric",
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
    ),
    (
        "disable_or_delete_cmk_changes_metric",
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }",
    ),
    (
        "s3_bucket_policy_changes_metric",
        "{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }",
    ),
    (
        "aws_config_changes_metric",
        "{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }",
    ),
    (
        "security_group_changes_metric",
        "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }",
    ),
    (
        "nacl_changes_metric",
        "{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }",
    ),
    (
        "network_gw_changes_metric",
        "{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }",
    ),
    (
        "route_table_changes_metric",
        "{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }",
    ),
    (
        "vpc_changes_metric",
        "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }",
    ),
];

/// Arguments of `cairn bench logs`.
#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Distinct records generated.
    #[arg(long, default_value_t = 5_000)]
    records: usize,
    /// Passes over the records per measurement.
    #[arg(long, default_value_t = 20)]
    rounds: usize,
    /// Events ingested through `logs::ingest` (0 skips ingest and FilterLogEvents).
    #[arg(long, default_value_t = 200_000)]
    ingest: usize,
}

const CALLS: [(&str, &str); 24] = [
    ("DescribeInstances", "ec2.amazonaws.com"),
    ("GetObject", "s3.amazonaws.com"),
    ("AssumeRole", "sts.amazonaws.com"),
    ("ListBuckets", "s3.amazonaws.com"),
    ("Decrypt", "kms.amazonaws.com"),
    ("GetCallerIdentity", "sts.amazonaws.com"),
    ("DescribeLogStreams", "logs.amazonaws.com"),
    ("PutObject", "s3.amazonaws.com"),
    ("GenerateDataKey", "kms.amazonaws.com"),
    ("DescribeSecurityGroups", "ec2.amazonaws.com"),
    ("ConsoleLogin", "signin.amazonaws.com"),
    ("HeadBucket", "s3.amazonaws.com"),
    ("PutUserPolicy", "iam.amazonaws.com"),
    ("AttachRolePolicy", "iam.amazonaws.com"),
    ("StopLogging", "cloudtrail.amazonaws.com"),
    ("DisableKey", "kms.amazonaws.com"),
    ("PutBucketPolicy", "s3.amazonaws.com"),
    ("StopConfigurationRecorder", "config.amazonaws.com"),
    ("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com"),
    ("CreateNetworkAclEntry", "ec2.amazonaws.com"),
    ("AttachInternetGateway", "ec2.amazonaws.com"),
    ("CreateRoute", "ec2.amazonaws.com"),
    ("CreateVpc", "ec2.amazonaws.com"),
    ("RunInstances", "ec2.amazonaws.com"),
];

/// A real-shaped CloudTrail record (compact JSON): mostly routine reads by assumed roles, with
/// the calls the CIS filters watch, errors, root use and console sign-ins mixed in.
pub fn record(i: usize) -> String {
    let (name, source) = CALLS[if i.is_multiple_of(4) {
        i / 4 % CALLS.len()
    } else {
        i % 10
    }];
    let account = "123456789012";
    let identity = if i.is_multiple_of(97) {
        json!({"type": "Root", "principalId": account, "arn": format!("arn:aws:iam::{account}:root"), "accountId": account, "accessKeyId": "ASIAEXAMPLEROOT00001"})
    } else {
        json!({"type": "AssumedRole", "principalId": format!("AROAEXAMPLEROLE{:05}:session-{i}", i % 50),
            "arn": format!("arn:aws:sts::{account}:assumed-role/App{}/session-{i}", i % 50), "accountId": account,
            "accessKeyId": format!("ASIAEXAMPLE{:09}", i),
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": format!("AROAEXAMPLEROLE{:05}", i % 50),
                "arn": format!("arn:aws:iam::{account}:role/App{}", i % 50), "accountId": account, "userName": format!("App{}", i % 50)},
                "webIdFederationData": {}, "attributes": {"creationDate": "2026-01-05T09:00:00Z", "mfaAuthenticated": "false"}}})
    };
    let mut r = json!({
        "eventVersion": "1.09", "userIdentity": identity, "eventTime": "2026-01-05T10:00:00Z",
        "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
        "sourceIPAddress": if i.is_multiple_of(13) { "delivery.logs.amazonaws.com".to_owned() } else { format!("203.0.113.{}", i % 250) },
        "userAgent": "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.173.0",
        "requestParameters": {"instancesSet": {"items": [{"instanceId": format!("i-{:017x}", i)}]},
            "filterSet": {"items": [{"name": "tag:team", "valueSet": {"items": [{"value": "payments"}]}}]},
            "maxResults": 1000},
        "responseElements": null,
        "requestID": format!("{:08x}-1b2c-4d3e-8f90-{:012x}", i, i * 7),
        "eventID": format!("{:08x}-9a8b-4c7d-8e6f-{:012x}", i * 3, i),
        "readOnly": !i.is_multiple_of(4), "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": account, "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": format!("{}.us-east-1.amazonaws.com", source.split('.').next().unwrap_or("api"))},
    });
    if i.is_multiple_of(31) {
        r["errorCode"] = "Client.UnauthorizedOperation".into();
        r["errorMessage"] = "You are not authorized to perform this operation.".into();
    } else if i.is_multiple_of(37) {
        r["errorCode"] = "AccessDenied".into();
        r["errorMessage"] = "User is not authorized to perform this operation".into();
    }
    if name == "ConsoleLogin" {
        r["eventType"] = "AwsConsoleSignIn".into();
        r["additionalEventData"] = json!({"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": if i.is_multiple_of(2) { "Yes" } else { "No" }});
        r["responseElements"] =
            json!({"ConsoleLogin": if i.is_multiple_of(3) { "Failure" } else { "Success" }});
        if i.is_multiple_of(3) {
            r["errorMessage"] = "Failed authentication".into();
        }
    }
    r.to_string()
}

fn measure<F: FnMut(&str) -> usize>(
    label: &str,
    records: &[String],
    rounds: usize,
    mut f: F,
) -> f64 {
    let bytes: usize = records.iter().map(String::len).sum();
    let mut hits = 0;
    let started = Instant::now();
    for _ in 0..rounds {
        for r in records {
            hits += f(black_box(r));
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let n = (records.len() * rounds) as f64;
    println!(
        "{label:<44} events_per_s={:>10.0} MB_per_s={:>7.1} matches_per_event={:.3}",
        n / secs,
        (bytes * rounds) as f64 / secs / 1e6,
        hits as f64 / n
    );
    n / secs
}

/// Runs the scenario.
pub fn run(args: LogsArgs) -> anyhow::Result<()> {
    let records: Vec<String> = (0..args.records).map(record).collect();
    let avg = records.iter().map(String::len).sum::<usize>() / records.len().max(1);
    println!(
        "records={} avg_bytes={avg} rounds={} (one core)",
        records.len(),
        args.rounds
    );
    let patterns: Vec<FilterPattern> = CIS_PATTERNS
        .iter()
        .map(|(_, p)| FilterPattern::parse(p))
        .collect::<Result<_, _>>()?;
    let together = Matcher::new(patterns.clone(), &[]);
    let separate: Vec<Matcher> = patterns
        .iter()
        .map(|p| Matcher::new(vec![p.clone()], &[]))
        .collect();
    let value = measure(
        "baseline: serde_json parse to Value",
        &records,
        args.rounds,
        |r| usize::from(serde_json::from_str::<Value>(r).is_ok()),
    );
    let syntax = measure(
        "baseline: serde_json parse to IgnoredAny",
        &records,
        args.rounds,
        |r| usize::from(serde_json::from_str::<serde::de::IgnoredAny>(r).is_ok()),
    );
    let cis = measure(
        "14 CIS patterns together (Matcher::scan)",
        &records,
        args.rounds,
        |r| {
            together
                .scan(r)
                .results
                .iter()
                .filter(|m| m.is_some())
                .count()
        },
    );
    measure(
        "14 CIS patterns, each parsing on its own",
        &records,
        args.rounds,
        |r| {
            separate
                .iter()
                .filter(|m| m.scan(r).results[0].is_some())
                .count()
        },
    );
    println!(
        "ratio: CIS matching / Value parse = {:.2}x the throughput; / IgnoredAny parse = {:.2}x",
        cis / value,
        cis / syntax
    );
    if args.ingest > 0 {
        ingest_and_filter(args.ingest, &records)?;
    }
    Ok(())
}

fn ingest_and_filter(total: usize, records: &[String]) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("cairn.db"))?;
    let now = chrono::Utc::now().timestamp_millis();
    let ctx = cairn_core::CallContext {
        principal: cairn_model::Principal::Root {
            account: cairn_model::AccountId::parse("123456789012").map_err(anyhow::Error::msg)?,
            access_key_id: "bench".into(),
            session: None,
        },
        region: cairn_model::Region::parse("us-east-1").map_err(anyhow::Error::msg)?,
        now: now as f64 / 1000.0,
        origin: Default::default(),
    };
    let key = GroupKey::of(&ctx, "CloudTrail/bench");
    let (c2, k2) = (ctx.clone(), key.clone());
    store.write_blocking(move |c| -> anyhow::Result<()> {
        groups::create(
            c,
            &c2,
            &cairn_core::authz::PolicyEvaluator::new(),
            &groups::CreateGroup {
                name: k2.name.clone(),
                ..Default::default()
            },
        )?;
        streams::create(c, &c2, &k2, "123456789012_CloudTrail_us-east-1")?;
        for (name, pattern) in CIS_PATTERNS {
            metric_filters::put(
                c,
                &c2,
                &PutFilter {
                    group: k2.name.clone(),
                    name: name.to_owned(),
                    pattern: pattern.to_owned(),
                    transformations: vec![Transformation {
                        metric_name: name.to_owned(),
                        metric_namespace: "CISBenchmark".into(),
                        metric_value: "1".into(),
                        default_value: None,
                        dimensions: Vec::new(),
                        unit: None,
                    }],
                },
            )?;
        }
        Ok(())
    })??;
    let batch = 500;
    let started = Instant::now();
    let mut done = 0;
    while done < total {
        let n = batch.min(total - done);
        let events: Vec<InputEvent> = (done..done + n)
            .map(|k| InputEvent {
                timestamp: now - 3_600_000 + (k as i64 / 100),
                message: records[k % records.len()].clone(),
            })
            .collect();
        let k = key.clone();
        store.write_blocking(move |c| {
            ingest(c, &k, "123456789012_CloudTrail_us-east-1", &events, now)
        })??;
        done += n;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "ingest (logs::ingest, 14 CIS filters, batches of {batch}, durable): events_per_s={:.0}",
        total as f64 / secs
    );
    for (label, pattern) in [
        ("match-all", ""),
        ("CIS 4.3 root usage", CIS_PATTERNS[2].1),
        ("term ConsoleLogin", "ConsoleLogin"),
    ] {
        let started = Instant::now();
        let (mut after, mut matched, mut calls) = (None, 0, 0);
        loop {
            let input = FilterEvents {
                group: key.clone(),
                stream_names: None,
                stream_prefix: None,
                start: None,
                end: None,
                pattern: Some(pattern.to_owned()),
                limit: Some(10_000),
                after,
                newest_first: false,
            };
            let page = store.read_blocking(move |c| Ok(filter_log_events(c, &input)))??;
            matched += page.events.len();
            calls += 1;
            match page.next {
                Some(p) => after = Some(p),
                None => break,
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "FilterLogEvents over {total} events, {label}: {matched} matched in {calls} pages, {:.2} s, scanned_events_per_s={:.0}",
            secs,
            total as f64 / secs
        );
    }
    Ok(())
}
