//! Editing a trail's general details (bucket, prefix, SSE-KMS key, log file validation, SNS
//! topic) and CloudWatch Logs, as AWS's console does: the wizard's step-1 fields filled from
//! GetTrail, the same checks ([`checks`]) of what the form changes (a key, topic or log group
//! left as it was is not checked again with the user's permissions: UpdateTrail decides, as
//! for the API), the same new resources ([`provision`], undone when a later call fails), then
//! UpdateTrail; a successful save redirects to the trail's page. A form filled from settings
//! that changed meanwhile (another admin added a topic, say) is refused rather than written
//! over them.

use axum::response::Response;
use cairn_console::pages::{FieldErrors, TrailEdit, WizardState};
use http::StatusCode;
use serde_json::{Value, json};

use super::calls::Caller;
use super::checks::{self, has_errors};
use super::provision::{self, Failed, Undo};
use super::session::Signed;
use super::web::{self, Form};
use super::{describe_error, wizard};
use crate::server::AppState;

fn s(v: &Value, m: &str) -> String {
    v.get(m).and_then(Value::as_str).unwrap_or("").to_owned()
}

fn render(
    signed: &Signed,
    name: &str,
    (state, version): (WizardState, String),
    errors: FieldErrors,
) -> Response {
    web::page(&TrailEdit {
        chrome: signed.chrome("trails"),
        name: name.to_owned(),
        trail_href: super::trails::trail_path(signed, name),
        state,
        errors,
        editing: true,
        version,
    })
}

/// A short fingerprint of the settings of GetTrail's `Trail` that the form writes.
fn version(t: &Value) -> String {
    web::fingerprint(&json!([
        t.get("S3BucketName"),
        t.get("S3KeyPrefix"),
        t.get("KmsKeyId"),
        t.get("LogFileValidationEnabled"),
        t.get("SnsTopicARN"),
        t.get("CloudWatchLogsLogGroupArn"),
        t.get("CloudWatchLogsRoleArn"),
    ]))
}

/// What of `w` the remote checks look at: a key, topic or log group and role the trail
/// already has is left out (the user may not hold the read permissions the checks use, and
/// UpdateTrail checks everything as CloudTrail does).
fn changed_only(mut w: WizardState, before: &WizardState) -> WizardState {
    let same_key = w.kms && before.kms && w.kms_mode == "existing" && w.kms_key == before.kms_key;
    let same_topic = w.sns && before.sns && w.sns_mode != "new" && w.sns_topic == before.sns_topic;
    let same_logs = w.cloudwatch
        && before.cloudwatch
        && w.cwl_group_mode == "existing"
        && w.cwl_role_mode == "existing"
        && w.cwl_group.trim() == before.cwl_group
        && w.cwl_role == before.cwl_role;
    w.kms &= !same_key;
    w.sns &= !same_topic;
    w.cloudwatch &= !same_logs;
    w
}

/// The form filled with the trail's settings (new-resource fields get fresh names).
fn current(signed: &Signed, t: &Value) -> WizardState {
    let suffix = &super::session::new_secret()[..8];
    let account = signed.principal.account();
    let group = s(t, "CloudWatchLogsLogGroupArn");
    let group_name = group
        .split(":log-group:")
        .nth(1)
        .map(|g| g.trim_end_matches(":*").to_owned());
    WizardState {
        name: s(t, "Name"),
        storage: "existing".to_owned(),
        existing_bucket: s(t, "S3BucketName"),
        new_bucket: format!("aws-cloudtrail-logs-{account}-{suffix}"),
        prefix: s(t, "S3KeyPrefix"),
        kms: !s(t, "KmsKeyId").is_empty(),
        kms_mode: "existing".to_owned(),
        kms_key: s(t, "KmsKeyId"),
        kms_alias: format!("aws-cloudtrail-logs-{account}-{suffix}"),
        validation: t
            .get("LogFileValidationEnabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        sns: !s(t, "SnsTopicARN").is_empty(),
        sns_mode: if s(t, "SnsTopicARN").is_empty() {
            "new"
        } else {
            "existing"
        }
        .to_owned(),
        sns_new_topic: format!("aws-cloudtrail-logs-{account}-{suffix}"),
        sns_topic: s(t, "SnsTopicARN"),
        cloudwatch: group_name.is_some(),
        cwl_group_mode: if group_name.is_some() {
            "existing"
        } else {
            "new"
        }
        .to_owned(),
        cwl_group: group_name.unwrap_or_else(|| format!("aws-cloudtrail-logs-{account}-{suffix}")),
        cwl_role_mode: if s(t, "CloudWatchLogsRoleArn").is_empty() {
            "new"
        } else {
            "existing"
        }
        .to_owned(),
        cwl_role: match s(t, "CloudWatchLogsRoleArn") {
            r if r.is_empty() => format!("CloudTrailRoleForCloudWatchLogs_{suffix}"),
            r => r,
        },
        ..Default::default()
    }
}

/// `GET /console/trails/{name}/edit`.
pub async fn page(state: &AppState, signed: &Signed, name: &str) -> Response {
    let caller = Caller::new(state, signed);
    match caller.cloudtrail("GetTrail", json!({"Name": name})).await {
        Ok(out) => {
            let t = out.get("Trail").cloned().unwrap_or(Value::Null);
            if let Some(e) = away_from_home(signed, &t) {
                return error_page(signed, name, &e);
            }
            let shown = (current(signed, &t), version(&t));
            render(signed, name, shown, FieldErrors::default())
        }
        Err(e) => error_page(signed, name, &e),
    }
}

/// The editor outside the trail's home region: a multi-region trail is read-only there, as
/// its UpdateTrail is refused (console4: a save made a bucket, key, log group and role
/// before UpdateTrail was refused, and left the key pending deletion).
fn away_from_home(signed: &Signed, t: &Value) -> Option<cairn_core::ApiError> {
    let home = s(t, "HomeRegion");
    (!home.is_empty() && home != signed.region.as_str())
        .then(|| cairn_core::trails::not_home_region(&home, signed.region.as_str()))
}

fn error_page(signed: &Signed, name: &str, e: &cairn_core::ApiError) -> Response {
    super::error_page(signed, "trails", name, e)
}

/// `POST /console/trails/{name}/edit`: checks, makes what is new, UpdateTrail.
pub async fn submit(state: &AppState, signed: &Signed, name: &str, f: &Form) -> Response {
    let _saving = super::TRAIL_SAVES.lock().await;
    let mut w = wizard::read_state(f);
    w.name = name.to_owned();
    let caller = Caller::new(state, signed);
    let account = caller.account();
    // The trail as it is now: a form filled from other settings is not saved over them.
    let trail = match caller.cloudtrail("GetTrail", json!({"Name": name})).await {
        Ok(out) => out.get("Trail").cloned().unwrap_or(Value::Null),
        Err(e) => {
            let errors = FieldErrors {
                general: Some(describe_error(&e)),
                ..Default::default()
            };
            let resp = render(signed, name, (w, String::new()), errors);
            return web::with_status(resp, web::form_status(&e));
        }
    };
    if let Some(e) = away_from_home(signed, &trail) {
        let errors = FieldErrors {
            general: Some(describe_error(&e)),
            ..Default::default()
        };
        // Not a form to correct: no save can succeed in this region.
        let resp = render(signed, name, (w, String::new()), errors);
        return web::with_status(resp, web::error_status(&e));
    }
    let now = version(&trail);
    let before = current(signed, &trail);
    if f.get("trail_version").is_some_and(|v| v != now) {
        let errors = FieldErrors {
            general: Some(
                "Trail settings not saved: the trail changed since this page was shown. Its settings are shown below as they are now."
                    .to_owned(),
            ),
            ..Default::default()
        };
        return web::with_status(
            render(signed, name, (before, now), errors),
            StatusCode::CONFLICT,
        );
    }
    let mut errors = checks::local(&w, 1, false);
    if !has_errors(&errors) {
        let to_check = changed_only(w.clone(), &before);
        let new_bucket = w.storage != before.storage
            || checks::bucket_of(&w).trim() != checks::bucket_of(&before);
        errors = checks::remote(&caller, &to_check, (false, new_bucket), &account).await;
    }
    if has_errors(&errors) {
        return render(signed, name, (w, now), errors);
    }
    let mut undo = Undo::default();
    let kept = changed_only(w.clone(), &before);
    match update(&caller, signed, (&w, &kept), &mut undo).await {
        Ok(()) => web::redirect(&super::trails::trail_url(signed, name, "updated")),
        Err(e) => {
            let left = undo.run(&caller).await;
            let (mut errors, _) = wizard::place(&e);
            if !left.is_empty() {
                errors.general = Some(format!(
                    "These resources were made and could not be removed: {}",
                    left.join("; ")
                ));
            }
            // A refused call answers its status (403 for AccessDenied; 404 for a trail
            // deleted meanwhile, as every other form on it answers).
            let resp = render(signed, name, (w, now), errors);
            web::with_status(resp, web::form_status(&e.error))
        }
    }
}

/// UpdateTrail with the form's settings. `changed` is the form with the key, topic and log
/// group a save leaves as they were turned off: those are not sent (UpdateTrail keeps what it
/// is not given), so saving asks for no permission the change does not need (`iam:PassRole`
/// for a CloudWatch Logs role it keeps, say), as the same change made with the CLI.
async fn update(
    caller: &Caller<'_>,
    signed: &Signed,
    (w, changed): (&WizardState, &WizardState),
    undo: &mut Undo,
) -> Result<(), Failed> {
    let account = caller.account();
    let region = signed.region.to_string();
    let trail = caller
        .cloudtrail("GetTrail", json!({"Name": w.name}))
        .await?;
    let arn = trail
        .pointer("/Trail/TrailARN")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if w.storage == "new" {
        provision::new_bucket(caller, undo, w, &account, &arn).await?;
    }
    let mut body = json!({
        "Name": arn,
        "S3BucketName": checks::bucket_of(w),
        "S3KeyPrefix": w.prefix,
        "EnableLogFileValidation": w.validation,
        "KmsKeyId": "",
        "SnsTopicName": "",
        "CloudWatchLogsLogGroupArn": "",
        "CloudWatchLogsRoleArn": "",
    });
    if w.kms {
        body["KmsKeyId"] = json!(provision::kms_key(caller, undo, w, &account, &arn).await?);
    }
    if w.sns {
        body["SnsTopicName"] =
            json!(provision::sns_topic(caller, undo, w, &region, &account, &arn).await?);
    }
    if w.cloudwatch {
        let (group, role) = provision::cloudwatch(caller, undo, w, &region, &account).await?;
        body["CloudWatchLogsLogGroupArn"] = json!(group);
        body["CloudWatchLogsRoleArn"] = json!(role);
    }
    let fields = body.as_object_mut().expect("an object");
    if w.kms && !changed.kms {
        fields.remove("KmsKeyId");
    }
    if w.sns && !changed.sns {
        fields.remove("SnsTopicName");
    }
    if w.cloudwatch && !changed.cloudwatch {
        fields.remove("CloudWatchLogsLogGroupArn");
        fields.remove("CloudWatchLogsRoleArn");
    }
    caller.cloudtrail("UpdateTrail", body).await?;
    Ok(())
}
