//! The create-trail wizard: three steps carried in hidden fields (and, after Next or
//! Previous, in the address of the step it redirects to, so Back works), then the calls AWS's
//! console makes (CreateBucket and PutBucketPolicy for a new bucket; CreateKey with
//! CloudTrail's key policy and CreateAlias for a new SSE-KMS key; CreateLogGroup, CreateRole
//! and PutRolePolicy for new CloudWatch Logs resources; CreateTrail as a multi-region trail,
//! PutEventSelectors, PutInsightSelectors, StartLogging), each as the signed-in user. Every
//! field is checked first ([`checks`]), the trail name's format already at step 1; when a call
//! fails after the first resource was made, what this submission made is removed again
//! ([`provision::Undo`]). An operation's error is shown next to the field it concerns.

use axum::response::Response;
use cairn_console::pages::{FieldErrors, TagRow, Wizard, WizardState};
use cairn_core::ErrorKind;
use http::StatusCode;
use serde_json::{Value, json};

use super::calls::Caller;
use super::checks::{self, bucket_of, has_errors};
use super::provision::{self, Failed, Made, Undo};
use super::selectors;
use super::session::Signed;
use super::web::{self, Form};
use crate::server::AppState;

/// Tag rows the form offers.
const TAG_ROWS: usize = 5;

/// `GET /console/trails/create`: the first step with AWS's defaults, or (with `step`) the
/// step a Next or Previous led to, its state in the address.
pub fn page(signed: &Signed, query: &Form) -> Response {
    match query.get("step").and_then(|s| s.parse::<u8>().ok()) {
        Some(step) => render(
            signed,
            step.clamp(1, 3),
            read_state(query),
            FieldErrors::default(),
            StatusCode::OK,
        ),
        None => start(signed),
    }
}

/// The address of `step` with `w` in its query (every field the hidden fields carry, tag
/// values kept in pairs even when empty).
pub fn step_url(step: u8, w: &WizardState) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    let on = |b: bool| if b { "on" } else { "" };
    let s = &w.selectors;
    let step = step.to_string();
    let pairs = [
        ("step", step.as_str()),
        ("name", &w.name),
        ("storage", &w.storage),
        ("new_bucket", &w.new_bucket),
        ("existing_bucket", &w.existing_bucket),
        ("prefix", &w.prefix),
        ("kms", on(w.kms)),
        ("kms_mode", &w.kms_mode),
        ("kms_alias", &w.kms_alias),
        ("kms_key", &w.kms_key),
        ("validation", on(w.validation)),
        ("validation_seen", "1"),
        ("sns", on(w.sns)),
        ("sns_mode", &w.sns_mode),
        ("sns_new_topic", &w.sns_new_topic),
        ("sns_topic", &w.sns_topic),
        ("cloudwatch", on(w.cloudwatch)),
        ("cwl_group_mode", &w.cwl_group_mode),
        ("cwl_group", &w.cwl_group),
        ("cwl_role_mode", &w.cwl_role_mode),
        ("cwl_role", &w.cwl_role),
        ("selectors_seen", "1"),
        ("management", on(s.management)),
        ("read", on(s.read)),
        ("write", on(s.write)),
        ("exclude_kms", on(s.exclude_kms)),
        ("s3_data", on(s.s3_data)),
        ("s3_scope", if s.s3_all { "all" } else { "some" }),
        ("s3_buckets", &s.s3_buckets),
        ("s3_read", on(s.s3_read)),
        ("s3_write", on(s.s3_write)),
        ("insights_call_rate", on(s.insights_call_rate)),
        ("insights_error_rate", on(s.insights_error_rate)),
    ];
    for (k, v) in pairs {
        if !v.is_empty() {
            q.append_pair(k, v);
        }
    }
    for t in &w.tags {
        q.append_pair("tag_key", &t.key);
        q.append_pair("tag_value", &t.value);
    }
    format!("/console/trails/create?{}", q.finish())
}

/// The wizard's first step with AWS's defaults.
fn start(signed: &Signed) -> Response {
    let suffix = &super::session::new_secret()[..8];
    let generated = format!(
        "aws-cloudtrail-logs-{}-{suffix}",
        signed.principal.account()
    );
    let state = WizardState {
        storage: "new".to_owned(),
        new_bucket: generated.clone(),
        kms_mode: "new".to_owned(),
        kms_alias: generated.clone(),
        sns_mode: "new".to_owned(),
        sns_new_topic: generated.clone(),
        cwl_group_mode: "new".to_owned(),
        cwl_group: generated,
        cwl_role_mode: "new".to_owned(),
        cwl_role: format!("CloudTrailRoleForCloudWatchLogs_{suffix}"),
        validation: true,
        selectors: selectors::defaults(),
        ..Default::default()
    };
    render(signed, 1, state, FieldErrors::default(), StatusCode::OK)
}

fn render(
    signed: &Signed,
    step: u8,
    state: WizardState,
    errors: FieldErrors,
    status: StatusCode,
) -> Response {
    let mut tag_rows = state.tags.clone();
    while tag_rows.len() < TAG_ROWS.max(state.tags.len() + 1) {
        tag_rows.push(TagRow::default());
    }
    web::page_with(
        status,
        &Wizard {
            chrome: signed.chrome("trails"),
            step,
            state,
            errors,
            tag_rows,
            editing: false,
        },
    )
}

/// The wizard state a step posted (or a step's address carries).
pub fn read_state(f: &Form) -> WizardState {
    let tags = f
        .all("tag_key")
        .into_iter()
        .zip(f.all("tag_value"))
        .filter(|(k, _)| !k.is_empty())
        .map(|(key, value)| TagRow { key, value })
        .collect();
    WizardState {
        name: f.str("name"),
        storage: if f.get("storage") == Some("existing") {
            "existing"
        } else {
            "new"
        }
        .to_owned(),
        new_bucket: f.str("new_bucket"),
        existing_bucket: f.str("existing_bucket"),
        prefix: f.exact("prefix"),
        kms: f.checked("kms"),
        kms_mode: choice(f, "kms_mode"),
        kms_alias: f.str("kms_alias"),
        kms_key: f.str("kms_key"),
        validation: if f.get("validation_seen").is_some() {
            f.checked("validation")
        } else {
            true
        },
        sns: f.checked("sns"),
        // A form that names no choice (an older page, a script) means an existing topic.
        sns_mode: if f.get("sns_mode") == Some("new") {
            "new"
        } else {
            "existing"
        }
        .to_owned(),
        sns_new_topic: f.str("sns_new_topic"),
        sns_topic: f.str("sns_topic"),
        cloudwatch: f.checked("cloudwatch"),
        cwl_group_mode: choice(f, "cwl_group_mode"),
        cwl_group: f.str("cwl_group"),
        cwl_role_mode: choice(f, "cwl_role_mode"),
        cwl_role: f.str("cwl_role"),
        tags,
        selectors: if f.get("selectors_seen").is_some() {
            selectors::read_form(f)
        } else {
            selectors::defaults()
        },
    }
}

/// A new/existing radio's value (`new` unless `existing` was chosen).
fn choice(f: &Form, name: &str) -> String {
    if f.get(name) == Some("existing") {
        "existing"
    } else {
        "new"
    }
    .to_owned()
}

/// The step that shows `errors`.
fn step_of(errors: &FieldErrors) -> u8 {
    if checks::on_step1(errors) {
        1
    } else if errors.selectors.is_some() {
        2
    } else {
        3
    }
}

/// Every check for leaving `step`: the form's own, then (once those pass, and from step 1
/// on) what the API says of the names it holds.
async fn check(state: &AppState, signed: &Signed, w: &WizardState, step: u8) -> FieldErrors {
    let errors = checks::local(w, step, true);
    if has_errors(&errors) {
        return errors;
    }
    let caller = Caller::new(state, signed);
    checks::remote(&caller, w, (true, true), &caller.account()).await
}

/// `POST /console/trails/create`.
pub async fn submit(state: &AppState, signed: &Signed, f: &Form) -> Response {
    let wizard = read_state(f);
    let step: u8 = f
        .get("step")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .clamp(1, 3);
    let go = f.str("go");
    let target: u8 = match go.as_str() {
        "create" => 4,
        other => other.parse().unwrap_or(step).clamp(1, 3),
    };
    if target > step {
        let errors = check(state, signed, &wizard, if target > 3 { 3 } else { step }).await;
        if has_errors(&errors) {
            return render(signed, step_of(&errors), wizard, errors, StatusCode::OK);
        }
    }
    if target <= 3 {
        // POST-redirect-GET: each step has an address, so Back and reload work.
        return web::redirect(&step_url(target, &wizard));
    }
    let caller = Caller::new(state, signed);
    let mut undo = Undo::default();
    match create(&caller, signed, &wizard, &mut undo).await {
        Ok(()) => web::redirect(&super::trails::list_url(signed, "created", &wizard.name)),
        Err(e) => {
            let left = undo.run(&caller).await;
            let (mut errors, step) = place(&e);
            if !left.is_empty() {
                errors.general = Some(format!(
                    "{}These resources were made and could not be removed: {}",
                    errors
                        .general
                        .as_deref()
                        .map(|g| format!("{g} "))
                        .unwrap_or_default(),
                    left.join("; ")
                ));
            }
            // A denial answers 403, as every refused console action does.
            render(signed, step, wizard, errors, web::form_status(&e.error))
        }
    }
}

/// Which field an operation's error concerns, and the step that shows it.
pub fn place(failed: &Failed) -> (FieldErrors, u8) {
    let msg = Some(failed.describe());
    let e = &failed.error;
    let mut f = FieldErrors::default();
    use ErrorKind::*;
    let step = match e.kind {
        InvalidTrailName | TrailAlreadyExists | MaximumNumberOfTrailsExceeded => {
            f.name = msg;
            1
        }
        S3BucketDoesNotExist
        | InsufficientS3BucketPolicy
        | InvalidS3BucketName
        | S3InvalidBucketName
        | S3BucketAlreadyExists
        | S3BucketAlreadyOwnedByYou
        | S3MalformedPolicy
        | S3NoSuchBucket
        | S3IllegalLocationConstraint
        | S3InvalidLocationConstraint => {
            f.bucket = msg;
            1
        }
        InvalidS3Prefix => {
            f.prefix = msg;
            1
        }
        InvalidSnsTopicName | InsufficientSnsTopicPolicy | SnsNotFound | SnsInvalidParameter => {
            f.sns = msg;
            1
        }
        InvalidKmsKeyId
        | TrailKmsKeyNotFound
        | KmsNotFound
        | KmsAlreadyExists
        | KmsInvalidAliasName
        | KmsNotAuthorized
        | KmsDisabled
        | KmsInvalidState
        | KmsInvalidArn
        | KmsMalformedPolicyDocument
        | KmsLimitExceeded => {
            f.kms = msg;
            1
        }
        InvalidCloudWatchLogsLogGroupArn
        | InvalidCloudWatchLogsRoleArn
        | LogsResourceAlreadyExists
        | EntityAlreadyExists
        | NoSuchEntity => {
            f.cloudwatch = msg;
            1
        }
        TagsLimitExceeded | InvalidTagParameter => {
            f.tags = msg;
            1
        }
        InvalidEventSelectors | InvalidInsightSelectors => {
            f.selectors = msg;
            2
        }
        _ => {
            f.general = msg;
            3
        }
    };
    (f, step)
}

/// Makes the calls, noting in `undo` what it made.
async fn create(
    caller: &Caller<'_>,
    signed: &Signed,
    w: &WizardState,
    undo: &mut Undo,
) -> Result<(), Failed> {
    let bucket = bucket_of(w).to_owned();
    let account = caller.account();
    let region = signed.region.to_string();
    let trail_arn = format!("arn:aws:cloudtrail:{region}:{account}:trail/{}", w.name);
    if w.storage == "new" {
        provision::new_bucket(caller, undo, w, &account, &trail_arn).await?;
    }
    let mut body = json!({
        "Name": w.name,
        "S3BucketName": bucket,
        "IsMultiRegionTrail": true,
        "IncludeGlobalServiceEvents": true,
        "EnableLogFileValidation": w.validation,
    });
    if !w.prefix.is_empty() {
        body["S3KeyPrefix"] = json!(w.prefix);
    }
    if w.kms {
        body["KmsKeyId"] = json!(provision::kms_key(caller, undo, w, &account, &trail_arn).await?);
    }
    if w.cloudwatch {
        let (group_arn, role_arn) =
            provision::cloudwatch(caller, undo, w, &region, &account).await?;
        body["CloudWatchLogsLogGroupArn"] = json!(group_arn);
        body["CloudWatchLogsRoleArn"] = json!(role_arn);
    }
    if w.sns {
        body["SnsTopicName"] =
            json!(provision::sns_topic(caller, undo, w, &region, &account, &trail_arn).await?);
    }
    if !w.tags.is_empty() {
        body["TagsList"] = Value::Array(
            w.tags
                .iter()
                .map(|t| json!({"Key": t.key, "Value": t.value}))
                .collect(),
        );
    }
    caller.cloudtrail("CreateTrail", body).await?;
    undo.push(Made::Trail(w.name.clone()));
    caller
        .cloudtrail(
            "PutEventSelectors",
            json!({"TrailName": w.name, "EventSelectors": selectors::basic(&w.selectors)}),
        )
        .await?;
    let insights = selectors::insights(&w.selectors);
    if insights.as_array().is_some_and(|a| !a.is_empty()) {
        caller
            .cloudtrail(
                "PutInsightSelectors",
                json!({"TrailName": w.name, "InsightSelectors": insights}),
            )
            .await?;
    }
    caller
        .cloudtrail("StartLogging", json!({"Name": w.name}))
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_core::ApiError;

    #[test]
    fn state_round_trips_through_the_hidden_fields() {
        let f = Form::parse(b"name=t1&storage=existing&existing_bucket=b&prefix=p&validation_seen=1&tag_key=k&tag_value=v&tag_key=&tag_value=x");
        let s = read_state(&f);
        assert_eq!(
            (s.name.as_str(), s.storage.as_str(), bucket_of(&s)),
            ("t1", "existing", "b")
        );
        assert!(
            !s.validation,
            "an unchecked box stays unchecked once the step was seen"
        );
        assert_eq!(s.tags.len(), 1);
        assert!(
            s.selectors.management && s.selectors.read && s.selectors.write,
            "defaults before step 2"
        );
        assert!(
            read_state(&Form::parse(b"name=x")).validation,
            "validation is on by default"
        );
    }

    #[test]
    fn a_step_address_carries_the_whole_state() {
        let f = Form::parse(b"name=t1&storage=existing&existing_bucket=b&kms=on&kms_mode=existing&kms_key=k&validation_seen=1&tag_key=k&tag_value=&tag_key=k2&tag_value=v2&selectors_seen=1&management=on&write=on&s3_scope=some&s3_buckets=a%0Ab&insights_error_rate=on");
        let s = read_state(&f);
        let url = step_url(2, &s);
        assert!(url.starts_with("/console/trails/create?step=2&"), "{url}");
        let (_, query) = url.split_once('?').unwrap();
        let back = read_state(&Form::parse(query.as_bytes()));
        assert_eq!(format!("{s:?}"), format!("{back:?}"));
    }

    #[test]
    fn a_new_trail_must_log_some_event_type() {
        let f = Form::parse(b"name=t1&storage=existing&existing_bucket=b&selectors_seen=1");
        let s = read_state(&f);
        let e = checks::local(&s, 2, true);
        assert!(
            e.selectors
                .as_deref()
                .is_some_and(|m| m.starts_with("Choose at least one event type")),
            "{e:?}"
        );
        assert!(
            checks::local(&s, 1, true).selectors.is_none(),
            "step 2's check"
        );
        let f = Form::parse(
            b"name=t1&storage=existing&existing_bucket=b&selectors_seen=1&management=on&read=on",
        );
        assert!(checks::local(&read_state(&f), 2, true).selectors.is_none());
    }

    #[test]
    fn errors_land_next_to_their_field() {
        let (f, step) = place(&ApiError::new(ErrorKind::InvalidTrailName, "bad").into());
        assert!(f.name.is_some() && step == 1);
        let (f, step) = place(&ApiError::new(ErrorKind::AccessDenied, "no").into());
        assert!(f.general.is_some() && step == 3);
        assert!(f.general.unwrap().starts_with("AccessDeniedException: "));
        let (f, _) = place(&Failed::iam(ApiError::new(ErrorKind::AccessDenied, "no")));
        assert!(
            f.general.unwrap().starts_with("AccessDenied: "),
            "IAM's code"
        );
        let (f, _) = place(&ApiError::new(ErrorKind::S3BucketAlreadyExists, "taken").into());
        assert!(f.bucket.is_some());
    }
}
