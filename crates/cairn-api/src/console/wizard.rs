//! The create-trail wizard: three steps carried in hidden fields, then the calls AWS's
//! console makes (CreateBucket and PutBucketPolicy for a new bucket; CreateKey with
//! CloudTrail's key policy and CreateAlias for a new SSE-KMS key; CreateLogGroup, CreateRole
//! and PutRolePolicy for new CloudWatch Logs resources; CreateTrail as a multi-region trail,
//! PutEventSelectors, PutInsightSelectors, StartLogging), each as the signed-in user. An
//! operation's error is shown next to the field it concerns.

use axum::response::Response;
use cairn_console::pages::{FieldErrors, TagRow, Wizard, WizardState};
use cairn_core::error::ApiResult;
use cairn_core::{ApiError, ErrorKind};
use http::StatusCode;
use serde_json::{Value, json};

use super::calls::{
    Caller, cloudtrail_bucket_policy, cloudtrail_key_policy, cloudtrail_logs_role_policy,
    cloudtrail_logs_trust_policy,
};
use super::describe_error;
use super::selectors;
use super::session::Signed;
use super::web::{self, Form, url};
use crate::server::AppState;

/// Tag rows the form offers.
const TAG_ROWS: usize = 5;

/// The wizard's first step with AWS's defaults.
pub fn start(signed: &Signed) -> Response {
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
        },
    )
}

/// The wizard state a step posted.
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
        prefix: f.str("prefix"),
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

fn bucket_of(state: &WizardState) -> &str {
    if state.storage == "existing" {
        &state.existing_bucket
    } else {
        &state.new_bucket
    }
}

/// Checks the console makes before any call, as AWS's console does.
fn precheck(state: &WizardState, step: u8) -> FieldErrors {
    let mut e = FieldErrors::default();
    if step >= 1 {
        if state.name.is_empty() {
            e.name = Some("Trail name is required.".to_owned());
        }
        if bucket_of(state).is_empty() {
            e.bucket = Some("Enter an S3 bucket name.".to_owned());
        }
        if state.sns && state.sns_topic.is_empty() {
            e.sns = Some("Enter an SNS topic, or turn SNS notification delivery off.".to_owned());
        }
        if state.kms && state.kms_mode == "existing" && state.kms_key.is_empty() {
            e.kms = Some("Choose an AWS KMS key, or turn SSE-KMS encryption off.".to_owned());
        }
        if state.kms && state.kms_mode != "existing" && state.kms_alias.is_empty() {
            e.kms = Some("Enter an alias for the new AWS KMS key.".to_owned());
        }
        if state.cloudwatch && (state.cwl_group.is_empty() || state.cwl_role.is_empty()) {
            e.cloudwatch =
                Some("Enter a log group and an IAM role, or turn CloudWatch Logs off.".to_owned());
        }
    }
    let s = &state.selectors;
    if step >= 2 && s.insights_call_rate && !(s.management && s.write) {
        e.selectors =
            Some("API call rate Insights events require Write management events.".to_owned());
    }
    e
}

fn has_errors(e: &FieldErrors) -> bool {
    e.name.is_some()
        || e.bucket.is_some()
        || e.prefix.is_some()
        || e.sns.is_some()
        || e.kms.is_some()
        || e.cloudwatch.is_some()
        || e.tags.is_some()
        || e.selectors.is_some()
        || e.general.is_some()
}

/// `POST /console/trails/create`.
pub async fn submit(state: &AppState, signed: &Signed, f: &Form) -> Response {
    let wizard = read_state(f);
    let step: u8 = f.get("step").and_then(|s| s.parse().ok()).unwrap_or(1);
    let go = f.str("go");
    let target: u8 = match go.as_str() {
        "create" => 4,
        other => other.parse().unwrap_or(step).clamp(1, 3),
    };
    if target > step {
        let errors = precheck(&wizard, step.min(target));
        if has_errors(&errors) {
            let back = if errors.selectors.is_some()
                && errors.name.is_none()
                && errors.bucket.is_none()
                && errors.sns.is_none()
                && errors.kms.is_none()
                && errors.cloudwatch.is_none()
            {
                2
            } else {
                1
            };
            return render(signed, back, wizard, errors, StatusCode::OK);
        }
    }
    if target <= 3 {
        return render(
            signed,
            target,
            wizard,
            FieldErrors::default(),
            StatusCode::OK,
        );
    }
    let errors = precheck(&wizard, 3);
    if has_errors(&errors) {
        return render(
            signed,
            if errors.selectors.is_some() { 2 } else { 1 },
            wizard,
            errors,
            StatusCode::OK,
        );
    }
    match create(state, signed, &wizard).await {
        Ok(()) => web::redirect(&url(
            "/console/trails",
            &[("done", "created"), ("name", &wizard.name)],
        )),
        Err((created, e)) if created => {
            // The trail exists; show it with what failed after its creation.
            super::trails::detail(state, signed, &wizard.name, None, Some(describe_error(&e))).await
        }
        Err((_, e)) => {
            let (errors, step) = place(&e);
            render(signed, step, wizard, errors, StatusCode::OK)
        }
    }
}

/// Which field an operation's error concerns, and the step that shows it.
fn place(e: &ApiError) -> (FieldErrors, u8) {
    let msg = Some(describe_error(e));
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
        InvalidSnsTopicName | InsufficientSnsTopicPolicy => {
            f.sns = msg;
            1
        }
        InvalidKmsKeyId
        | TrailKmsKeyNotFound
        | KmsNotFound
        | KmsAlreadyExists
        | KmsInvalidAliasName
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
        | EntityAlreadyExists => {
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

/// Makes the calls; the error says whether the trail already exists when it failed.
async fn create(
    state: &AppState,
    signed: &Signed,
    w: &WizardState,
) -> Result<(), (bool, ApiError)> {
    let caller = Caller::new(state, signed);
    let bucket = bucket_of(w).to_owned();
    let account = signed.principal.account().to_string();
    let trail_arn = format!(
        "arn:aws:cloudtrail:{}:{account}:trail/{}",
        signed.region, w.name
    );
    if w.storage == "new" {
        caller
            .create_bucket(&bucket)
            .await
            .map_err(|e| (false, e))?;
        let policy = cloudtrail_bucket_policy(&bucket, &w.prefix, &account, &trail_arn);
        caller
            .put_bucket_policy(&bucket, &policy)
            .await
            .map_err(|e| (false, e))?;
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
        body["KmsKeyId"] = json!(kms_key(&caller, w, &account, &trail_arn).await?);
    }
    if w.cloudwatch {
        let (group_arn, role_arn) = cloudwatch(&caller, w, &signed.region.to_string(), &account)
            .await
            .map_err(|e| (false, e))?;
        body["CloudWatchLogsLogGroupArn"] = json!(group_arn);
        body["CloudWatchLogsRoleArn"] = json!(role_arn);
    }
    if w.sns {
        body["SnsTopicName"] = json!(w.sns_topic);
    }
    if !w.tags.is_empty() {
        body["TagsList"] = Value::Array(
            w.tags
                .iter()
                .map(|t| json!({"Key": t.key, "Value": t.value}))
                .collect(),
        );
    }
    caller
        .cloudtrail("CreateTrail", body)
        .await
        .map_err(|e| (false, e))?;
    let after = |e| (true, e);
    caller
        .cloudtrail(
            "PutEventSelectors",
            json!({"TrailName": w.name, "EventSelectors": selectors::basic(&w.selectors)}),
        )
        .await
        .map_err(after)?;
    let insights = selectors::insights(&w.selectors);
    if insights.as_array().is_some_and(|a| !a.is_empty()) {
        caller
            .cloudtrail(
                "PutInsightSelectors",
                json!({"TrailName": w.name, "InsightSelectors": insights}),
            )
            .await
            .map_err(after)?;
    }
    caller
        .cloudtrail("StartLogging", json!({"Name": w.name}))
        .await
        .map_err(after)?;
    Ok(())
}

/// The key the trail encrypts with: the one chosen, or a new key with CloudTrail's key policy
/// for this trail under the alias given.
async fn kms_key(
    caller: &Caller<'_>,
    w: &WizardState,
    account: &str,
    trail_arn: &str,
) -> Result<String, (bool, ApiError)> {
    if w.kms_mode == "existing" {
        return Ok(w.kms_key.clone());
    }
    let alias = format!("alias/{}", w.kms_alias.trim_start_matches("alias/"));
    // An alias already taken would leave a key behind: ask first, as the console does.
    if caller
        .kms("DescribeKey", json!({"KeyId": alias}))
        .await
        .is_ok()
    {
        return Err((
            false,
            ApiError::new(
                ErrorKind::KmsAlreadyExists,
                format!(
                    "An alias with the name arn:aws:kms:{}:{account}:{alias} already exists",
                    caller.region()
                ),
            ),
        ));
    }
    let created = caller
        .kms(
            "CreateKey",
            json!({
                "Policy": cloudtrail_key_policy(account, trail_arn),
                "Description": "The key created by CloudTrail to encrypt log files.",
            }),
        )
        .await
        .map_err(|e| (false, e))?;
    let key_arn = created["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    caller
        .kms(
            "CreateAlias",
            json!({"AliasName": alias, "TargetKeyId": key_arn}),
        )
        .await
        .map_err(|e| (false, e))?;
    Ok(key_arn)
}

/// The log group ARN (`…:log-group:NAME:*`) and role ARN the trail delivers with, making the
/// group and the role (trusting CloudTrail, allowed the trail's streams only) when new.
async fn cloudwatch(
    caller: &Caller<'_>,
    w: &WizardState,
    region: &str,
    account: &str,
) -> ApiResult<(String, String)> {
    let group = w.cwl_group.trim();
    if w.cwl_group_mode != "existing" {
        caller
            .logs("CreateLogGroup", json!({"logGroupName": group}))
            .await?;
    }
    let role_arn = if w.cwl_role_mode == "existing" {
        if w.cwl_role.starts_with("arn:") {
            w.cwl_role.clone()
        } else {
            format!("arn:aws:iam::{account}:role/{}", w.cwl_role)
        }
    } else {
        caller
            .iam(
                "CreateRole",
                json!({
                    "RoleName": w.cwl_role,
                    "AssumeRolePolicyDocument": cloudtrail_logs_trust_policy(),
                    "Description": "The role CloudTrail assumes to deliver events to CloudWatch Logs.",
                }),
            )
            .await?;
        caller
            .iam(
                "PutRolePolicy",
                json!({
                    "RoleName": w.cwl_role,
                    "PolicyName": "CloudTrailPolicyForCloudWatchLogs",
                    "PolicyDocument": cloudtrail_logs_role_policy(region, account, group),
                }),
            )
            .await?;
        format!("arn:aws:iam::{account}:role/{}", w.cwl_role)
    };
    Ok((
        format!("arn:aws:logs:{region}:{account}:log-group:{group}:*"),
        role_arn,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn errors_land_next_to_their_field() {
        let (f, step) = place(&ApiError::new(ErrorKind::InvalidTrailName, "bad"));
        assert!(f.name.is_some() && step == 1);
        let (f, step) = place(&ApiError::new(ErrorKind::AccessDenied, "no"));
        assert!(f.general.is_some() && step == 3);
        let (f, _) = place(&ApiError::new(ErrorKind::S3BucketAlreadyExists, "taken"));
        assert!(f.bucket.is_some());
    }
}
