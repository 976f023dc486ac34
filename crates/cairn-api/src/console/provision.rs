//! The resources the console makes for a trail, as AWS's console makes them (a new bucket
//! with CloudTrail's bucket policy; a new SSE-KMS key with CloudTrail's key policy under an
//! alias; a new SNS topic with CloudTrail's statement in its policy; a new CloudWatch Logs
//! group and the role CloudTrail assumes), each made through
//! [`Caller`] and written down in an [`Undo`] log. When a later call of the same submission
//! fails, [`Undo::run`] removes what the submission made, newest first, through the same
//! calls (so the removals are authorized and recorded like any other call).

use cairn_console::pages::WizardState;
use cairn_core::error::ApiResult;
use cairn_core::{ApiError, ErrorKind};
use serde_json::json;

use super::calls::{
    Caller, cloudtrail_bucket_policy, cloudtrail_key_policy, cloudtrail_logs_role_policy,
    cloudtrail_logs_trust_policy, cloudtrail_topic_policy,
};
use super::{Api, describe_error_of};

/// An operation's error with the API that answered it (for the code the console shows).
#[derive(Debug)]
pub struct Failed {
    /// The API.
    pub api: Api,
    /// The error.
    pub error: ApiError,
}

impl Failed {
    /// An IAM operation's error.
    pub fn iam(error: ApiError) -> Self {
        Self {
            api: Api::Iam,
            error,
        }
    }

    /// The error as the console shows it.
    pub fn describe(&self) -> String {
        describe_error_of(self.api, &self.error)
    }
}

/// An error of CloudTrail, KMS or CloudWatch Logs, or of S3 or SNS (whose denials have
/// their own kinds).
impl From<ApiError> for Failed {
    fn from(error: ApiError) -> Self {
        Self {
            api: Api::Json,
            error,
        }
    }
}

/// One thing a submission made.
#[derive(Clone, Debug, PartialEq)]
pub enum Made {
    /// An S3 bucket (new and empty).
    Bucket(String),
    /// A KMS key (ARN) and the alias made for it, once made.
    Key(String, Option<String>),
    /// An SNS topic (ARN).
    Topic(String),
    /// A CloudWatch Logs log group.
    LogGroup(String),
    /// An IAM role, and whether its inline policy was put.
    Role(String, bool),
    /// A trail.
    Trail(String),
}

/// What a submission made so far, oldest first.
#[derive(Debug, Default)]
pub struct Undo(Vec<Made>);

impl Undo {
    /// Notes that `made` exists now.
    pub fn push(&mut self, made: Made) {
        self.0.push(made);
    }

    /// Removes everything made, newest first; returns a line for each thing that could not
    /// be removed.
    pub async fn run(self, caller: &Caller<'_>) -> Vec<String> {
        let mut left = Vec::new();
        for made in self.0.into_iter().rev() {
            if let Err((what, e)) = remove(caller, &made).await {
                left.push(format!("{what}: {}", e.describe()));
            }
        }
        left
    }
}

async fn remove(caller: &Caller<'_>, made: &Made) -> Result<(), (String, Failed)> {
    match made {
        Made::Bucket(b) => caller
            .delete_bucket(b)
            .await
            .map_err(|e| (format!("S3 bucket {b}"), e.into())),
        Made::Key(arn, alias) => {
            if let Some(a) = alias {
                caller
                    .kms("DeleteAlias", json!({"AliasName": a}))
                    .await
                    .map_err(|e| (format!("KMS alias {a}"), e.into()))?;
            }
            caller
                .kms(
                    "ScheduleKeyDeletion",
                    json!({"KeyId": arn, "PendingWindowInDays": 7}),
                )
                .await
                .map(|_| ())
                .map_err(|e| (format!("KMS key {arn}"), e.into()))
        }
        Made::Topic(t) => caller
            .sns("DeleteTopic", json!({"TopicArn": t}))
            .await
            .map(|_| ())
            .map_err(|e| (format!("SNS topic {t}"), e.into())),
        Made::LogGroup(g) => caller
            .logs("DeleteLogGroup", json!({"logGroupName": g}))
            .await
            .map(|_| ())
            .map_err(|e| (format!("log group {g}"), e.into())),
        Made::Role(r, with_policy) => {
            let what = || format!("IAM role {r}");
            if *with_policy {
                caller
                    .iam(
                        "DeleteRolePolicy",
                        json!({"RoleName": r, "PolicyName": ROLE_POLICY}),
                    )
                    .await
                    .map_err(|e| (what(), Failed::iam(e)))?;
            }
            caller
                .iam("DeleteRole", json!({"RoleName": r}))
                .await
                .map(|_| ())
                .map_err(|e| (what(), Failed::iam(e)))
        }
        Made::Trail(t) => caller
            .cloudtrail("DeleteTrail", json!({"Name": t}))
            .await
            .map(|_| ())
            .map_err(|e| (format!("trail {t}"), e.into())),
    }
}

/// The inline policy of a role the console makes.
const ROLE_POLICY: &str = "CloudTrailPolicyForCloudWatchLogs";

/// The error a "new" bucket that already exists gets.
pub fn bucket_exists(bucket: &str) -> ApiError {
    ApiError::new(
        ErrorKind::S3BucketAlreadyOwnedByYou,
        format!(
            "Bucket {bucket} already exists. Enter another name, or choose Use existing S3 bucket."
        ),
    )
}

/// Makes a new bucket with the policy CloudTrail needs for `trail_arn`. CreateBucket in
/// us-east-1 answers 200 for a bucket the caller already owns: such a bucket is refused and
/// its policy left alone.
pub async fn new_bucket(
    caller: &Caller<'_>,
    undo: &mut Undo,
    w: &WizardState,
    account: &str,
    trail_arn: &str,
) -> ApiResult<()> {
    let bucket = &w.new_bucket;
    if !caller.create_bucket(bucket).await? {
        return Err(bucket_exists(bucket));
    }
    undo.push(Made::Bucket(bucket.clone()));
    let policy = cloudtrail_bucket_policy(bucket, &w.prefix, account, trail_arn);
    caller.put_bucket_policy(bucket, &policy).await
}

/// `alias/NAME` for the alias the form names.
pub fn alias_name(alias: &str) -> String {
    format!("alias/{}", alias.trim_start_matches("alias/"))
}

/// The key the trail encrypts with: the one chosen, or a new key with CloudTrail's key policy
/// for `trail_arn` under the alias given.
pub async fn kms_key(
    caller: &Caller<'_>,
    undo: &mut Undo,
    w: &WizardState,
    account: &str,
    trail_arn: &str,
) -> ApiResult<String> {
    if w.kms_mode == "existing" {
        return Ok(w.kms_key.clone());
    }
    let alias = alias_name(&w.kms_alias);
    let created = caller
        .kms(
            "CreateKey",
            json!({
                "Policy": cloudtrail_key_policy(account, trail_arn),
                "Description": "The key created by CloudTrail to encrypt log files.",
            }),
        )
        .await?;
    let key_arn = created["KeyMetadata"]["Arn"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    undo.push(Made::Key(key_arn.clone(), None));
    caller
        .kms(
            "CreateAlias",
            json!({"AliasName": alias, "TargetKeyId": key_arn}),
        )
        .await?;
    undo.0.pop();
    undo.push(Made::Key(key_arn.clone(), Some(alias)));
    Ok(key_arn)
}

/// The error a "new" topic that already exists gets (CreateTopic would answer the existing
/// topic, whose policy the console must not replace).
pub fn topic_exists(topic: &str) -> ApiError {
    ApiError::new(
        ErrorKind::SnsInvalidParameter,
        format!("Topic {topic} already exists. Enter another name, or choose Existing."),
    )
}

/// The topic the trail notifies (name or ARN): the one chosen, or a new topic whose policy
/// lets `trail_arn` publish to it, as the AWS console makes it.
pub async fn sns_topic(
    caller: &Caller<'_>,
    undo: &mut Undo,
    w: &WizardState,
    region: &str,
    account: &str,
    trail_arn: &str,
) -> ApiResult<String> {
    if w.sns_mode != "new" {
        return Ok(w.sns_topic.clone());
    }
    let name = w.sns_new_topic.trim();
    let arn = format!("arn:aws:sns:{region}:{account}:{name}");
    // CreateTopic of a name that exists answers that topic: it must be new.
    match caller
        .sns("GetTopicAttributes", json!({"TopicArn": arn}))
        .await
    {
        Ok(_) => return Err(topic_exists(name)),
        Err(e) if e.kind == ErrorKind::SnsNotFound => {}
        Err(e) => return Err(e),
    }
    caller.sns("CreateTopic", json!({"Name": name})).await?;
    undo.push(Made::Topic(arn.clone()));
    caller
        .sns(
            "SetTopicAttributes",
            json!({
                "TopicArn": arn,
                "AttributeName": "Policy",
                "AttributeValue": cloudtrail_topic_policy(&arn, account, trail_arn),
            }),
        )
        .await?;
    Ok(arn)
}

/// The role ARN for a role name or ARN.
pub fn role_arn(account: &str, role: &str) -> String {
    if role.starts_with("arn:") {
        role.to_owned()
    } else {
        format!("arn:aws:iam::{account}:role/{role}")
    }
}

/// The log group ARN (`…:log-group:NAME:*`) and role ARN the trail delivers with, making the
/// group and the role (trusting CloudTrail, allowed the trail's streams only) when new.
pub async fn cloudwatch(
    caller: &Caller<'_>,
    undo: &mut Undo,
    w: &WizardState,
    region: &str,
    account: &str,
) -> Result<(String, String), Failed> {
    let group = w.cwl_group.trim();
    if w.cwl_group_mode != "existing" {
        caller
            .logs("CreateLogGroup", json!({"logGroupName": group}))
            .await?;
        undo.push(Made::LogGroup(group.to_owned()));
    }
    let role_arn = if w.cwl_role_mode == "existing" {
        role_arn(account, &w.cwl_role)
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
            .await
            .map_err(Failed::iam)?;
        undo.push(Made::Role(w.cwl_role.clone(), false));
        caller
            .iam(
                "PutRolePolicy",
                json!({
                    "RoleName": w.cwl_role,
                    "PolicyName": ROLE_POLICY,
                    "PolicyDocument": cloudtrail_logs_role_policy(region, account, group),
                }),
            )
            .await
            .map_err(Failed::iam)?;
        undo.0.pop();
        undo.push(Made::Role(w.cwl_role.clone(), true));
        role_arn(account, &w.cwl_role)
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
    fn names_become_arns() {
        assert_eq!(alias_name("k"), "alias/k");
        assert_eq!(alias_name("alias/k"), "alias/k");
        assert_eq!(role_arn("1", "R"), "arn:aws:iam::1:role/R");
        assert_eq!(
            role_arn("1", "arn:aws:iam::1:role/x/R"),
            "arn:aws:iam::1:role/x/R"
        );
    }
}
