//! The destination checks and deliveries on an in-memory store: the guide's role and policy
//! pass, each broken piece fails with AWS's exception, each stream stores its records whole
//! or not at all, and a refused stream waits alone (its region lags) and catches up once.

use cairn_model::trail::{EventSelector, LoggingWindow, Selectors, TrailStatus};
use cairn_model::{AccountId, Principal, Region};

use super::*;
use crate::context::Origin;
use crate::iam::EntityKind;
use crate::iam::inline::put_inline;
use crate::iam::roles::{CreateRole, create_role};
use crate::logs::groups;

const NOW: i64 = 1_767_607_200_000;
const ACCOUNT: &str = "123456789012";
const GROUP: &str = "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:*";
const ROLE: &str = "arn:aws:iam::123456789012:role/CloudTrail_CloudWatchLogs_Role";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const PERMS: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"AWSCloudTrailCreateLogStream2014110","Effect":"Allow","Action":["logs:CreateLogStream"],"Resource":["arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:log-stream:123456789012_CloudTrail_us-east-1*"]},
 {"Sid":"AWSCloudTrailPutLogEvents20141101","Effect":"Allow","Action":["logs:PutLogEvents"],"Resource":["arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:log-stream:123456789012_CloudTrail_us-east-1*"]}]}"#;

fn ctx() -> CallContext {
    CallContext {
        principal: Principal::Root {
            account: AccountId::parse(ACCOUNT).unwrap(),
            access_key_id: "AKID".into(),
            session: None,
        },
        region: Region::parse("us-east-1").unwrap(),
        now: NOW as f64 / 1000.0,
        origin: Origin::default(),
    }
}

fn trail(group: Option<&str>, role: Option<&str>) -> Trail {
    Trail {
        name: "t1".into(),
        account: ACCOUNT.into(),
        home_region: "us-east-1".into(),
        s3_bucket_name: "b".into(),
        s3_key_prefix: None,
        sns_topic_arn: None,
        include_global_service_events: true,
        is_multi_region_trail: false,
        log_file_validation_enabled: false,
        cloud_watch_logs_log_group_arn: group.map(str::to_owned),
        cloud_watch_logs_role_arn: role.map(str::to_owned),
        kms_key_id: None,
        is_organization_trail: false,
        selectors: Selectors::Basic(vec![EventSelector::default_all_management()]),
        has_custom_event_selectors: false,
        insight_selectors: Vec::new(),
        tags: Vec::new(),
        status: TrailStatus {
            is_logging: true,
            windows: vec![LoggingWindow {
                start_seq: 1,
                end_seq: None,
            }],
            ..TrailStatus::default()
        },
        created_at: 1.0,
    }
}

fn setup(trust: &str, perms: Option<&str>) -> Connection {
    let conn = cairn_store::in_memory().unwrap();
    let c = ctx();
    groups::create(
        &conn,
        &c,
        &crate::authz::PolicyEvaluator::new(),
        &groups::CreateGroup {
            name: "CloudTrail/logs".into(),
            ..Default::default()
        },
    )
    .unwrap();
    create_role(
        &conn,
        &c,
        &CreateRole {
            name: "CloudTrail_CloudWatchLogs_Role",
            trust_policy: trust,
            path: None,
            description: None,
            max_session: None,
            boundary: None,
            tags: &[],
        },
    )
    .unwrap();
    if let Some(p) = perms {
        put_inline(
            &conn,
            &c,
            EntityKind::Role,
            "CloudTrail_CloudWatchLogs_Role",
            "cwl",
            p,
        )
        .unwrap();
    }
    conn
}

fn err(r: ApiResult<()>) -> (ErrorKind, String) {
    let e = r.unwrap_err();
    (e.kind, e.message)
}

#[test]
fn the_guides_role_passes_and_the_stream_is_created() {
    let conn = setup(TRUST, Some(PERMS));
    check(&conn, &ctx(), &trail(Some(GROUP), Some(ROLE))).unwrap();
    let key = parse_group_arn(GROUP, "us-east-1", ACCOUNT).unwrap();
    let group = crate::logs::load_group(&conn, &key).unwrap();
    crate::logs::load_stream(&conn, &group, "123456789012_CloudTrail_us-east-1").unwrap();
}

#[test]
fn the_group_wide_variant_passes_and_a_bare_group_resource_does_not() {
    let wide = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:*"}]}"#;
    let conn = setup(TRUST, Some(wide));
    check(&conn, &ctx(), &trail(Some(GROUP), Some(ROLE))).unwrap();
    let bare = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs"}]}"#;
    let conn = setup(TRUST, Some(bare));
    assert_eq!(
        err(check(&conn, &ctx(), &trail(Some(GROUP), Some(ROLE)))),
        (
            ErrorKind::InvalidCloudWatchLogsLogGroupArn,
            "Access denied. Verify in IAM that the role has adequate permissions.".into()
        )
    );
}

#[test]
fn each_broken_piece_fails_with_awss_exception() {
    let conn = setup(TRUST, Some(PERMS));
    let c = ctx();
    let cannot = (
        ErrorKind::InvalidCloudWatchLogsLogGroupArn,
        "CloudTrail cannot validate the specified log group ARN.".to_owned(),
    );
    let bare = "arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs";
    assert_eq!(
        err(check(&conn, &c, &trail(Some(bare), Some(ROLE)))),
        cannot
    );
    let missing = "arn:aws:logs:us-east-1:123456789012:log-group:nope:*";
    assert_eq!(
        err(check(&conn, &c, &trail(Some(missing), Some(ROLE)))),
        cannot
    );
    let elsewhere = "arn:aws:logs:eu-west-1:123456789012:log-group:CloudTrail/logs:*";
    assert_eq!(
        err(check(&conn, &c, &trail(Some(elsewhere), Some(ROLE)))),
        cannot
    );
    assert_eq!(
        err(check(&conn, &c, &trail(Some("junk"), Some(ROLE)))),
        cannot
    );
    let no_role = "arn:aws:iam::123456789012:role/Nobody";
    assert_eq!(
        err(check(&conn, &c, &trail(Some(GROUP), Some(no_role)))),
        (
            ErrorKind::InvalidCloudWatchLogsRoleArn,
            "Access denied. Check the trust relationships for your role.".into()
        )
    );
    assert_eq!(
        err(check(&conn, &c, &trail(Some(GROUP), None))),
        (
            ErrorKind::InvalidCloudWatchLogsRoleArn,
            "You must specify a role ARN as well as a log group.".into()
        )
    );
}

#[test]
fn a_role_other_services_assume_is_refused_and_source_conditions_apply() {
    let ec2 = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let conn = setup(ec2, Some(PERMS));
    assert_eq!(
        err(check(&conn, &ctx(), &trail(Some(GROUP), Some(ROLE)))).0,
        ErrorKind::InvalidCloudWatchLogsRoleArn
    );
    let other_trail = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:123456789012:trail/other"}}}]}"#;
    let conn = setup(other_trail, Some(PERMS));
    assert_eq!(
        err(check(&conn, &ctx(), &trail(Some(GROUP), Some(ROLE)))).0,
        ErrorKind::InvalidCloudWatchLogsRoleArn
    );
    let this_trail = other_trail.replace("trail/other", "trail/t1");
    let conn = setup(&this_trail, Some(PERMS));
    check(&conn, &ctx(), &trail(Some(GROUP), Some(ROLE))).unwrap();
    let conn = setup(TRUST, None);
    assert_eq!(
        err(check(&conn, &ctx(), &trail(Some(GROUP), Some(ROLE)))).0,
        ErrorKind::InvalidCloudWatchLogsLogGroupArn
    );
}

#[test]
fn put_batches_obey_putlogevents_limits() {
    let small: Vec<String> = (0..25_000).map(|i| format!("{i}")).collect();
    let b = put_batches(&small);
    assert_eq!(
        b.iter().map(|x| x.len()).collect::<Vec<_>>(),
        vec![10_000, 10_000, 5_000]
    );
    let big: Vec<String> = (0..9).map(|_| "x".repeat(200_000)).collect();
    let b = put_batches(&big);
    assert!(
        b.iter()
            .all(|x| x.iter().map(|r| r.len() + 26).sum::<usize>() <= 1_048_576)
    );
    assert_eq!(b.iter().map(|x| x.len()).sum::<usize>(), 9);
    assert!(put_batches(&[]).is_empty());
}

const DENIED: &str = "Access denied. Verify in IAM that the role has adequate permissions.";
const EU_STREAM: &str = "123456789012_CloudTrail_eu-west-1";
const US_STREAM: &str = "123456789012_CloudTrail_us-east-1";

fn batch(region: &str, names: &[&str]) -> RegionBatch {
    RegionBatch {
        region: region.into(),
        records: names
            .iter()
            .map(|n| format!(r#"{{"eventName":"{n}"}}"#))
            .collect(),
    }
}

fn leading(from: i64, to: i64, lagging: &[(&str, i64)], batches: Vec<RegionBatch>) -> Planned {
    Planned {
        from,
        to,
        lane: Lane::Leading {
            lagging: lagging.iter().map(|(r, s)| ((*r).to_owned(), *s)).collect(),
        },
        batches,
    }
}

fn lagging_lane(region: &str, from: i64, to: i64, batches: Vec<RegionBatch>) -> Planned {
    Planned {
        from,
        to,
        lane: Lane::Lagging {
            region: region.into(),
        },
        batches,
    }
}

fn done(stored: usize, held: usize, error: Option<&str>, refused: &[&str]) -> Delivered {
    Delivered::Done(Report {
        stored,
        held,
        error: error.map(str::to_owned),
        refused: refused.iter().map(|r| (*r).to_owned()).collect(),
    })
}

/// The names of the records in `stream`, oldest first.
fn stream_names(conn: &Connection, stream: &str) -> Vec<String> {
    let key = parse_group_arn(GROUP, "us-east-1", ACCOUNT).unwrap();
    let page = crate::logs::read::get_log_events(
        conn,
        &crate::logs::read::GetEvents {
            group: key,
            stream: stream.into(),
            start: None,
            end: None,
            limit: None,
            start_from_head: true,
            token: None,
        },
    );
    let Ok(page) = page else {
        return Vec::new();
    };
    page.events
        .iter()
        .map(|e| {
            let v: serde_json::Value = serde_json::from_str(&e.message).unwrap();
            v["eventName"].as_str().unwrap().to_owned()
        })
        .collect()
}

fn status_error(conn: &Connection) -> Option<String> {
    trails::get(conn, ACCOUNT, "us-east-1", "t1")
        .unwrap()
        .unwrap()
        .status
        .delivery
        .latest_cloud_watch_logs_delivery_error
}

fn logging_trail(conn: &Connection) -> Trail {
    let t = trail(Some(GROUP), Some(ROLE));
    trails::put(conn, &t).unwrap();
    trail_logs::set_cursor(conn, &t.arn(), GROUP, 0).unwrap();
    t
}

/// Every region's records of a multi-region trail go to the home region's stream, so the
/// guide's role policy (the home stream only) is enough; a policy that does not allow that
/// stream moves nothing, and once it does the same records arrive, once.
#[test]
fn every_regions_records_go_to_the_home_stream_and_a_refusal_moves_nothing() {
    let conn = setup(TRUST, Some(PERMS));
    let t = logging_trail(&conn);
    let first = leading(
        0,
        3,
        &[],
        vec![batch("us-east-1", &["A", "C"]), batch("eu-west-1", &["B"])],
    );
    assert_eq!(
        deliver(&conn, &t, &first, NOW).unwrap(),
        done(3, 0, None, &[])
    );
    assert_eq!(stream_names(&conn, US_STREAM), ["A", "C", "B"]);
    assert_eq!(stream_names(&conn, EU_STREAM), Vec::<String>::new());
    assert_eq!(trail_logs::lagging(&conn, &t.arn()).unwrap(), []);
    // Planned again (a retry): stale, nothing is written twice.
    assert_eq!(deliver(&conn, &t, &first, NOW).unwrap(), Delivered::Stale);
    let eu_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail/logs:log-stream:123456789012_CloudTrail_eu-west-1*"}]}"#;
    let set_policy = |doc: &str| {
        put_inline(
            &conn,
            &ctx(),
            EntityKind::Role,
            "CloudTrail_CloudWatchLogs_Role",
            "cwl",
            doc,
        )
        .unwrap()
    };
    set_policy(eu_only);
    let next = leading(
        3,
        5,
        &[],
        vec![batch("eu-west-1", &["D"]), batch("us-east-1", &["E"])],
    );
    assert_eq!(
        deliver(&conn, &t, &next, NOW).unwrap(),
        done(0, 2, Some(DENIED), &[])
    );
    assert_eq!(
        trail_logs::cursor(&conn, &t.arn()).unwrap(),
        Some((GROUP.into(), 3))
    );
    assert_eq!(status_error(&conn).as_deref(), Some(DENIED));
    set_policy(PERMS);
    assert_eq!(
        deliver(&conn, &t, &next, NOW).unwrap(),
        done(2, 0, None, &[])
    );
    assert_eq!(status_error(&conn), None);
    assert_eq!(stream_names(&conn, US_STREAM), ["A", "C", "B", "D", "E"]);
    assert_eq!(stream_names(&conn, EU_STREAM), Vec::<String>::new());
}

/// A lagging region that has not reached the trail's cursor keeps lagging at what it stored.
#[test]
fn a_lagging_region_moves_to_what_it_stored() {
    let conn = setup(TRUST, Some(PERMS));
    let t = logging_trail(&conn);
    trail_logs::set_cursor(&conn, &t.arn(), GROUP, 9).unwrap();
    trail_logs::set_lagging(&conn, &t.arn(), "us-east-1", 2).unwrap();
    let part = lagging_lane("us-east-1", 2, 5, vec![batch("us-east-1", &["E"])]);
    assert_eq!(
        deliver(&conn, &t, &part, NOW).unwrap(),
        done(1, 0, None, &[])
    );
    assert_eq!(
        trail_logs::lagging(&conn, &t.arn()).unwrap(),
        [("us-east-1".to_owned(), 5)]
    );
    assert_eq!(
        status_error(&conn),
        None,
        "no failure was noted; nothing to clear"
    );
}

/// A failure that concerns every stream (the role's trust) stores nothing and moves nothing;
/// the same delivery succeeds once the trust returns.
#[test]
fn a_refused_role_moves_nothing_and_resumes_after_the_trust_returns() {
    let conn = setup(TRUST, Some(PERMS));
    let t = logging_trail(&conn);
    crate::iam::roles::update_assume_role_policy(
        &conn,
        &ctx(),
        "CloudTrail_CloudWatchLogs_Role",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
    )
    .unwrap();
    let planned = leading(0, 2, &[], vec![batch("us-east-1", &["A", "B"])]);
    let trust = "Access denied. Check the trust relationships for your role.";
    assert_eq!(
        deliver(&conn, &t, &planned, NOW).unwrap(),
        done(0, 2, Some(trust), &[])
    );
    assert_eq!(
        trail_logs::cursor(&conn, &t.arn()).unwrap(),
        Some((GROUP.into(), 0))
    );
    assert_eq!(trail_logs::lagging(&conn, &t.arn()).unwrap(), []);
    assert_eq!(status_error(&conn).as_deref(), Some(trust));
    crate::iam::roles::update_assume_role_policy(
        &conn,
        &ctx(),
        "CloudTrail_CloudWatchLogs_Role",
        TRUST,
    )
    .unwrap();
    assert_eq!(
        deliver(&conn, &t, &planned, NOW).unwrap(),
        done(2, 0, None, &[])
    );
    assert_eq!(deliver(&conn, &t, &planned, NOW).unwrap(), Delivered::Stale);
    let status = trails::get(&conn, ACCOUNT, "us-east-1", "t1")
        .unwrap()
        .unwrap();
    assert_eq!(
        status
            .status
            .delivery
            .latest_cloud_watch_logs_delivery_error,
        None
    );
    assert_eq!(
        status.status.delivery.latest_cloud_watch_logs_delivery_time,
        Some(NOW as f64 / 1000.0)
    );
    assert_eq!(stream_names(&conn, US_STREAM), ["A", "B"]);
}
