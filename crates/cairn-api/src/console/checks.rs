//! The checks the console makes before it makes anything for a trail, as AWS's console does:
//! [`local`] looks at the form alone (required fields, the trail name's format, the tags
//! by CloudTrail's tag rules, a new role's name by IAM's, Read or Write for management
//! events); [`remote`] asks the API, as the signed-in
//! user, whether what the form names exists or is free (the trail name, the bucket, the KMS
//! alias or key, the SNS topic, the log group and the role). Each error lands on its field.

use cairn_console::pages::{FieldErrors, SelectorForm, WizardState};
use cairn_core::ErrorKind;
use cairn_model::trail::{Tag, TrailName};
use serde_json::{Value, json};

use super::calls::Caller;
use super::provision::{alias_name, bucket_exists};
use super::{Api, describe_error, describe_error_of};

/// Whether any field has an error.
pub fn has_errors(e: &FieldErrors) -> bool {
    on_step1(e) || e.selectors.is_some() || e.general.is_some()
}

/// Whether an error concerns step 1's fields.
pub fn on_step1(e: &FieldErrors) -> bool {
    e.name.is_some()
        || e.bucket.is_some()
        || e.prefix.is_some()
        || e.sns.is_some()
        || e.kms.is_some()
        || e.cloudwatch.is_some()
        || e.tags.is_some()
}

/// The bucket the form names.
pub fn bucket_of(state: &WizardState) -> &str {
    if state.storage == "existing" {
        &state.existing_bucket
    } else {
        &state.new_bucket
    }
}

/// The trail name's error, if its format is not one CreateTrail takes.
pub fn name_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("Trail name is required.".to_owned());
    }
    TrailName::parse(name)
        .err()
        .map(|e| format!("InvalidTrailNameException: {e}"))
}

/// The tags' error, if CreateTrail would refuse them (CloudTrail's tag rules: keys of 1–128
/// and values of at most 256 letters, digits, spaces and `_ . : / = + - @`, no `aws:` prefix,
/// unique keys, at most 50).
pub fn tags_error(state: &WizardState) -> Option<String> {
    let tags: Vec<Tag> = state
        .tags
        .iter()
        .map(|t| Tag {
            key: t.key.clone(),
            value: Some(t.value.clone()),
        })
        .collect();
    cairn_core::tags::check_new(&tags)
        .err()
        .map(|e| describe_error(&e))
}

/// A new role's name error, if CreateRole would refuse it (1–64 characters of
/// `[\w+=,.@-]`).
pub fn role_name_error(name: &str) -> Option<String> {
    cairn_core::iam::validate::name(name, "roleName", 64)
        .err()
        .map(|e| describe_error_of(Api::Iam, &e))
}

/// The selector editor's error: management events need Read, Write or both.
pub fn selectors_error(s: &SelectorForm) -> Option<String> {
    if s.management && !s.read && !s.write {
        return Some("Management events need Read, Write, or both. Choose at least one, or clear Management events.".to_owned());
    }
    // A data-event choice the selectors would drop is refused, as management events are:
    // never a trail that logs less than its page said.
    if s.s3_data && !s.s3_read && !s.s3_write {
        return Some(
            "S3 data events need Read, Write, or both. Choose at least one, or clear Data events."
                .to_owned(),
        );
    }
    if s.s3_data && !s.s3_all && s.s3_buckets.lines().all(|l| l.trim().is_empty()) {
        return Some("Enter at least one S3 bucket for data events, choose all current and future buckets, or clear Data events.".to_owned());
    }
    // Each entry names a bucket (and maybe a prefix) on a line of its own, checked before
    // anything is made (recheck27: a bad one was found by PutEventSelectors after the
    // bucket and key were made).
    if s.s3_data && !s.s3_all {
        for line in s
            .s3_buckets
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            let bare = line.strip_prefix("arn:aws:s3:::").unwrap_or(line);
            let bucket = bare.split('/').next().unwrap_or_default();
            if !cairn_core::validate::is_valid_bucket_name(bucket) {
                return Some(format!(
                    "\"{line}\" is not an S3 bucket name (one bucket, or bucket/prefix, per line)."
                ));
            }
        }
    }
    // PutEventSelectors' limit: 250 data resource values in all of a trail's selectors.
    let values = s
        .s3_buckets
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count();
    if s.s3_data && !s.s3_all && values > 250 {
        return Some(format!(
            "At most 250 S3 buckets or prefixes can be entered for data events ({values} were)."
        ));
    }
    if s.insights_call_rate && !(s.management && s.write) {
        return Some("API call rate Insights events require Write management events.".to_owned());
    }
    if !super::selectors::logs_anything(&super::selectors::basic(s)) {
        return Some(NOTHING_LOGGED.to_owned());
    }
    None
}

/// Why a form that selects neither management nor data events is refused: CloudTrail
/// refuses such event selectors (`IncludeManagementEvents` false with no `DataResources`).
pub const NOTHING_LOGGED: &str = "With Management events and Data events both off, this trail would log no events at all, which CloudTrail refuses. Turn one of them on, or stop logging the trail to record nothing.";

/// Checks of the form alone. `name` says whether the trail name is the form's to check
/// (the wizard) or fixed (editing a trail); step 2's selectors are checked from `step` 2.
pub fn local(state: &WizardState, step: u8, name: bool) -> FieldErrors {
    let mut e = FieldErrors::default();
    if name {
        e.name = name_error(&state.name);
    }
    let bucket = bucket_of(state);
    if bucket.is_empty() {
        e.bucket = Some("Enter an S3 bucket name.".to_owned());
    }
    // Every field the next step's address carries is bounded (as the page's `maxlength`),
    // whether or not its option is on, so the address never outgrows what the server reads.
    if state.new_bucket.len() > 63 || state.existing_bucket.len() > 63 {
        e.bucket = Some("Bucket names are at most 63 characters long.".to_owned());
    }
    if state.prefix.chars().count() > 200 {
        e.prefix = Some("The S3 key prefix is at most 200 characters long.".to_owned());
    }
    if state.kms_alias.len() > 250 || state.kms_key.len() > 2048 {
        e.kms = Some(
            "The alias is at most 250 characters long (256 with alias/), a key id or ARN 2048."
                .to_owned(),
        );
    }
    if state.sns_topic.len() > 1024 {
        e.sns = Some("The SNS topic is at most 1024 characters long (a name or ARN).".to_owned());
    }
    if state.sns && state.sns_mode != "new" && state.sns_topic.is_empty() {
        e.sns = Some("Enter an SNS topic, or turn SNS notification delivery off.".to_owned());
    }
    // SNS's topic name rule (CreateTopic): 1 to 256 letters, digits, hyphens and underscores.
    let topic_name = state.sns_new_topic.trim();
    if state.sns
        && state.sns_mode == "new"
        && (topic_name.is_empty()
            || topic_name.len() > 256
            || !topic_name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        e.sns = Some(
            "Topic names must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
                .to_owned(),
        );
    }
    if state.kms && state.kms_mode == "existing" && state.kms_key.is_empty() {
        e.kms = Some("Choose an AWS KMS key, or turn SSE-KMS encryption off.".to_owned());
    }
    if state.kms && state.kms_mode != "existing" && state.kms_alias.is_empty() {
        e.kms = Some("Enter an alias for the new AWS KMS key.".to_owned());
    } else if state.kms && state.kms_mode != "existing" && e.kms.is_none() {
        // KMS's own checks of the name, before anything is made.
        let alias = alias_name(&state.kms_alias);
        if let Err(err) = cairn_core::kms::aliases::validate_name(&alias, false) {
            e.kms = Some(super::describe_error(&err));
        }
    }
    if state.cwl_group.len() > 1024 || state.cwl_role.len() > 2048 {
        e.cloudwatch = Some(
            "The log group is at most 1024 characters long (a name or ARN), the role 2048."
                .to_owned(),
        );
    } else if state.cloudwatch && (state.cwl_group.trim().is_empty() || state.cwl_role.is_empty()) {
        e.cloudwatch =
            Some("Enter a log group and an IAM role, or turn CloudWatch Logs off.".to_owned());
    } else if state.cloudwatch && state.cwl_role_mode != "existing" {
        e.cloudwatch = role_name_error(&state.cwl_role);
    }
    e.tags = tags_error(state);
    if state.selectors.s3_buckets.len() > MAX_SELECTOR_TEXT {
        e.selectors = Some(format!(
            "The S3 buckets list is at most {MAX_SELECTOR_TEXT} characters long."
        ));
    } else if step >= 2 {
        // A new trail that would log nothing is a mistake, as in AWS's wizard, said in the
        // wizard's words before the editor's checks.
        let s = &state.selectors;
        let nothing =
            !s.management && !s.s3_data && !s.insights_call_rate && !s.insights_error_rate;
        e.selectors = if name && nothing {
            Some(
                "Choose at least one event type: management events, data events or Insights events."
                    .to_owned(),
            )
        } else {
            selectors_error(s)
        };
    }
    e
}

/// The longest list of S3 buckets the data-event selector field takes: 250 values (a
/// selector's limit) of the longest bucket ARNs fit well within it.
const MAX_SELECTOR_TEXT: usize = 32_768;

/// Trails a region holds at most (CloudTrail's quota).
const MAX_TRAILS_PER_REGION: usize = 5;

/// Checks against what exists, for the fields [`local`] passed. `name` as for [`local`];
/// `bucket` whether to look at the bucket (an edit that keeps the trail's bucket does not:
/// a user without `s3:ListBucket` would leave a refused HeadBucket in the audit log at every
/// save).
pub async fn remote(
    caller: &Caller<'_>,
    state: &WizardState,
    (name, bucket): (bool, bool),
    account: &str,
) -> FieldErrors {
    let mut e = FieldErrors::default();
    // At the region's five trails (a multi-region trail counts in every region), CreateTrail
    // would refuse, after the wizard made a bucket, a key, a log group and a role for nothing
    // (console7): said at once, on the name.
    if name
        && let Ok(listed) = caller.cloudtrail("DescribeTrails", json!({})).await
        && listed
            .get("trailList")
            .and_then(Value::as_array)
            .is_some_and(|t| t.len() >= MAX_TRAILS_PER_REGION)
    {
        e.name = Some(format!(
            "MaximumNumberOfTrailsExceededException: User: {account} already has {MAX_TRAILS_PER_REGION} trails in {}.",
            caller.region()
        ));
        return e;
    }
    if name
        && let Ok(found) = caller
            .cloudtrail("GetTrail", json!({"Name": state.name}))
            .await
    {
        let arn = found
            .pointer("/Trail/TrailARN")
            .and_then(Value::as_str)
            .unwrap_or(&state.name);
        e.name = Some(format!(
            "TrailAlreadyExistsException: Trail {} already exists for customer: {account} ({arn}).",
            state.name
        ));
    }
    let found = match bucket {
        true => Some(caller.head_bucket(bucket_of(state)).await),
        false => None,
    };
    let bucket = bucket_of(state);
    match found {
        Some(Ok(())) if state.storage != "existing" => {
            e.bucket = Some(describe_error(&bucket_exists(bucket)));
        }
        Some(Err(err)) if state.storage == "existing" && err.kind == ErrorKind::S3NoSuchBucket => {
            e.bucket = Some(format!(
                "S3BucketDoesNotExistException: S3 bucket {bucket} does not exist. Choose Create new S3 bucket, or enter a bucket that exists."
            ));
        }
        // Another account's bucket (or no s3:ListBucket): CreateBucket or CreateTrail
        // decides.
        _ => {}
    }
    if state.kms {
        e.kms = kms_error(caller, state).await;
    }
    if state.sns && state.sns_mode == "new" {
        // A new topic's name must be free: CreateTopic would answer the existing topic.
        let name = state.sns_new_topic.trim();
        let topic = format!("arn:aws:sns:{}:{account}:{name}", caller.region());
        match caller
            .sns("GetTopicAttributes", json!({"TopicArn": topic}))
            .await
        {
            Ok(_) => e.sns = Some(describe_error(&super::provision::topic_exists(name))),
            Err(err)
                if !matches!(
                    err.kind,
                    ErrorKind::SnsNotFound | ErrorKind::SnsAuthorizationError
                ) =>
            {
                e.sns = Some(describe_error(&err));
            }
            _ => {}
        }
    } else if state.sns {
        let topic = if state.sns_topic.starts_with("arn:") {
            state.sns_topic.clone()
        } else {
            format!(
                "arn:aws:sns:{}:{account}:{}",
                caller.region(),
                state.sns_topic
            )
        };
        // A topic that does not exist is shown on its field; a check this user may not make
        // (AWSCloudTrail_FullAccess reads only `aws-cloudtrail-logs*` topics) is left to
        // CreateTrail or UpdateTrail, which need no SNS permission of the caller (console5).
        match caller
            .sns("GetTopicAttributes", json!({"TopicArn": topic}))
            .await
        {
            Err(err) if err.kind != ErrorKind::SnsAuthorizationError => {
                e.sns = Some(describe_error(&err));
            }
            _ => {}
        }
    }
    if state.cloudwatch {
        e.cloudwatch = cloudwatch_error(caller, state).await;
    }
    e
}

async fn kms_error(caller: &Caller<'_>, state: &WizardState) -> Option<String> {
    if state.kms_mode == "existing" {
        return match caller
            .kms("DescribeKey", json!({"KeyId": state.kms_key}))
            .await
        {
            Err(err) => Some(describe_error(&err)),
            Ok(out) => {
                let st = out
                    .pointer("/KeyMetadata/KeyState")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                (st != "Enabled").then(|| {
                    format!(
                        "KMSInvalidStateException: The key {} is {st}; CloudTrail needs an enabled key.",
                        state.kms_key
                    )
                })
            }
        };
    }
    let alias = alias_name(&state.kms_alias);
    caller
        .kms("DescribeKey", json!({"KeyId": alias}))
        .await
        .is_ok()
        .then(|| {
            format!(
                "AlreadyExistsException: An alias with the name arn:aws:kms:{}:{}:{alias} already exists",
                caller.region(),
                caller.account()
            )
        })
}

async fn cloudwatch_error(caller: &Caller<'_>, state: &WizardState) -> Option<String> {
    let group = state.cwl_group.trim();
    let found = caller
        .logs(
            "DescribeLogGroups",
            json!({"logGroupNamePrefix": group, "limit": 50}),
        )
        .await;
    let exists = match found {
        Err(err) => return Some(describe_error(&err)),
        Ok(out) => out
            .get("logGroups")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|g| g["logGroupName"] == group)),
    };
    if exists && state.cwl_group_mode != "existing" {
        return Some(format!(
            "ResourceAlreadyExistsException: The log group {group} already exists. Choose Existing log group, or enter another name."
        ));
    }
    if !exists && state.cwl_group_mode == "existing" {
        return Some(format!(
            "ResourceNotFoundException: The log group {group} does not exist."
        ));
    }
    let role = state
        .cwl_role
        .rsplit('/')
        .next()
        .unwrap_or(&state.cwl_role)
        .to_owned();
    let got = caller.iam("GetRole", json!({"RoleName": role})).await;
    match (got, state.cwl_role_mode == "existing") {
        (Ok(_), false) => Some(format!(
            "EntityAlreadyExists: Role with name {role} already exists. Choose Existing role, or enter another name."
        )),
        // Only NoSuchEntity says a new role's name is free; any other answer (a malformed
        // name, no iam:GetRole) is shown.
        (Err(err), false) if err.kind == ErrorKind::NoSuchEntity => None,
        (Err(err), _) => Some(describe_error_of(Api::Iam, &err)),
        (Ok(_), true) => None,
    }
}
