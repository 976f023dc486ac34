//! The top-level properties AWS's resource schemas define for the types Cairn serves, so a
//! property no schema has is refused as CloudFormation refuses it (`#: extraneous key [X]
//! is not permitted`), apart from one AWS defines and Cairn does not implement.
//!
//! The lists are a snapshot of the CloudFormation template reference (cross-checked for the
//! trail and log group against the CDK's generated `CfnTrailProps`/`CfnLogGroupProps`, 2026);
//! a property AWS adds later is refused with the extraneous-key message until it is listed.

/// The properties of `resource_type` in AWS's schema, or `None` for a type (or a nested
/// property's path, such as `AWS::S3::Bucket VersioningConfiguration`) listed here.
pub fn aws_properties(resource_type: &str) -> Option<&'static [&'static str]> {
    Some(match resource_type {
        "AWS::S3::Bucket" => &[
            "AccelerateConfiguration",
            "AccessControl",
            "AnalyticsConfigurations",
            "BucketEncryption",
            "BucketName",
            "CorsConfiguration",
            "IntelligentTieringConfigurations",
            "InventoryConfigurations",
            "LifecycleConfiguration",
            "LoggingConfiguration",
            "MetadataConfiguration",
            "MetadataTableConfiguration",
            "MetricsConfigurations",
            "NotificationConfiguration",
            "ObjectLockConfiguration",
            "ObjectLockEnabled",
            "OwnershipControls",
            "PublicAccessBlockConfiguration",
            "ReplicationConfiguration",
            "Tags",
            "VersioningConfiguration",
            "WebsiteConfiguration",
        ],
        "AWS::S3::BucketPolicy" => &["Bucket", "PolicyDocument"],
        "AWS::CloudTrail::Trail" => &[
            "AdvancedEventSelectors",
            "AggregationConfigurations",
            "CloudWatchLogsLogGroupArn",
            "CloudWatchLogsRoleArn",
            "EnableLogFileValidation",
            "EventSelectors",
            "IncludeGlobalServiceEvents",
            "InsightSelectors",
            "IsLogging",
            "IsMultiRegionTrail",
            "IsOrganizationTrail",
            "KMSKeyId",
            "S3BucketName",
            "S3KeyPrefix",
            "SnsTopicName",
            "Tags",
            "TrailName",
        ],
        "AWS::SNS::Topic" => &[
            "ArchivePolicy",
            "ContentBasedDeduplication",
            "DataProtectionPolicy",
            "DeliveryStatusLogging",
            "DisplayName",
            "FifoThroughputScope",
            "FifoTopic",
            "KmsMasterKeyId",
            "SignatureVersion",
            "Subscription",
            "Tags",
            "TopicName",
            "TracingConfig",
        ],
        "AWS::SNS::TopicPolicy" => &["PolicyDocument", "Topics"],
        "AWS::SNS::Subscription" => &[
            "DeliveryPolicy",
            "Endpoint",
            "FilterPolicy",
            "FilterPolicyScope",
            "Protocol",
            "RawMessageDelivery",
            "RedrivePolicy",
            "Region",
            "ReplayPolicy",
            "SubscriptionRoleArn",
            "TopicArn",
        ],
        "AWS::IAM::Role" => &[
            "AssumeRolePolicyDocument",
            "Description",
            "ManagedPolicyArns",
            "MaxSessionDuration",
            "Path",
            "PermissionsBoundary",
            "Policies",
            "RoleName",
            "Tags",
        ],
        "AWS::IAM::Policy" => &["Groups", "PolicyDocument", "PolicyName", "Roles", "Users"],
        "AWS::IAM::ManagedPolicy" => &[
            "Description",
            "Groups",
            "ManagedPolicyName",
            "Path",
            "PolicyDocument",
            "Roles",
            "Users",
        ],
        "AWS::IAM::User" => &[
            "Groups",
            "LoginProfile",
            "ManagedPolicyArns",
            "Path",
            "PermissionsBoundary",
            "Policies",
            "Tags",
            "UserName",
        ],
        "AWS::IAM::Group" => &["GroupName", "ManagedPolicyArns", "Path", "Policies"],
        "AWS::IAM::AccessKey" => &["Serial", "Status", "UserName"],
        "AWS::KMS::Key" => &[
            "BypassPolicyLockoutSafetyCheck",
            "Description",
            "EnableKeyRotation",
            "Enabled",
            "KeyPolicy",
            "KeySpec",
            "KeyUsage",
            "MultiRegion",
            "Origin",
            "PendingWindowInDays",
            "RotationPeriodInDays",
            "Tags",
        ],
        "AWS::KMS::Alias" => &["AliasName", "TargetKeyId"],
        "AWS::Logs::LogGroup" => &[
            "BearerTokenAuthenticationEnabled",
            "DataProtectionPolicy",
            "DeletionProtectionEnabled",
            "FieldIndexPolicies",
            "KmsKeyId",
            "LogGroupClass",
            "LogGroupName",
            "ResourcePolicyDocument",
            "RetentionInDays",
            "Tags",
        ],
        "AWS::Logs::MetricFilter" => &[
            "ApplyOnTransformedLogs",
            "FilterName",
            "FilterPattern",
            "LogGroupName",
            "MetricTransformations",
        ],
        "AWS::CloudWatch::Alarm" => &[
            "ActionsEnabled",
            "AlarmActions",
            "AlarmDescription",
            "AlarmName",
            "ComparisonOperator",
            "DatapointsToAlarm",
            "Dimensions",
            "EvaluateLowSampleCountPercentile",
            "EvaluationPeriods",
            "ExtendedStatistic",
            "InsufficientDataActions",
            "MetricName",
            "Metrics",
            "Namespace",
            "OKActions",
            "Period",
            "Statistic",
            "Tags",
            "Threshold",
            "ThresholdMetricId",
            "TreatMissingData",
            "Unit",
        ],
        _ => return None,
    })
}

/// The properties that name a resource of `resource_type` for a resource import (its
/// schema's `primaryIdentifier`), which GetTemplateSummary lists as `ResourceIdentifiers`;
/// `None` for a type CloudFormation cannot import. From the resource type schemas (as
/// vendored by cfn-lint, 2026) and the CloudFormation user guide's "Resource type support".
pub fn import_identifiers(resource_type: &str) -> Option<&'static [&'static str]> {
    Some(match resource_type {
        "AWS::S3::Bucket" => &["BucketName"],
        "AWS::S3::BucketPolicy" => &["Bucket"],
        "AWS::CloudTrail::Trail" => &["TrailName"],
        "AWS::SNS::Topic" => &["TopicArn"],
        "AWS::IAM::Role" => &["RoleName"],
        "AWS::IAM::ManagedPolicy" => &["PolicyArn"],
        "AWS::IAM::User" => &["UserName"],
        "AWS::IAM::Group" => &["GroupName"],
        "AWS::KMS::Key" => &["KeyId"],
        "AWS::KMS::Alias" => &["AliasName"],
        "AWS::Logs::LogGroup" => &["LogGroupName"],
        "AWS::Logs::MetricFilter" => &["LogGroupName", "FilterName"],
        "AWS::CloudWatch::Alarm" => &["AlarmName"],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_type_has_its_schema_and_each_provider_stays_within_it() {
        let registry = super::super::Registry::standard();
        for t in [
            "AWS::S3::Bucket",
            "AWS::S3::BucketPolicy",
            "AWS::CloudTrail::Trail",
            "AWS::SNS::Topic",
            "AWS::SNS::TopicPolicy",
            "AWS::SNS::Subscription",
            "AWS::IAM::Role",
            "AWS::IAM::Policy",
            "AWS::IAM::ManagedPolicy",
            "AWS::IAM::User",
            "AWS::IAM::Group",
            "AWS::IAM::AccessKey",
            "AWS::KMS::Key",
            "AWS::KMS::Alias",
            "AWS::Logs::LogGroup",
            "AWS::Logs::MetricFilter",
            "AWS::CloudWatch::Alarm",
        ] {
            let schema = aws_properties(t).unwrap_or_else(|| panic!("{t} has no schema"));
            let provider = registry
                .get(t)
                .unwrap_or_else(|| panic!("{t} is not served"));
            for p in provider.replaces() {
                assert!(schema.contains(p), "{t} replaces on {p}, not in its schema");
            }
        }
        assert_eq!(
            aws_properties("AWS::S3::Bucket VersioningConfiguration"),
            None
        );
    }

    #[test]
    fn import_identifiers_are_properties_of_their_type() {
        for t in [
            "AWS::S3::Bucket",
            "AWS::Logs::MetricFilter",
            "AWS::IAM::Role",
        ] {
            let schema = aws_properties(t).unwrap();
            for id in import_identifiers(t).unwrap() {
                assert!(schema.contains(id), "{t}: {id}");
            }
        }
        assert_eq!(import_identifiers("AWS::IAM::AccessKey"), None);
        assert_eq!(import_identifiers("AWS::CDK::Metadata"), None);
    }
}
