//! AWS managed policies, shipped as data (`managed/*.json`, sources in `managed/SOURCE.md`).
//!
//! Each entry carries what IAM's GetPolicy/GetPolicyVersion report: name, ARN, path, default
//! version, description, creation and update dates, whether it can be attached (the two
//! deprecated CloudTrail policies cannot), and the document text. Documents are parsed on
//! first use and kept for the life of the process.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use crate::ast::{Document, PolicyKind};

/// One AWS managed policy.
#[derive(Debug)]
pub struct ManagedPolicy {
    /// Policy name.
    pub name: &'static str,
    /// `arn:aws:iam::aws:policy<path><name>`.
    pub arn: &'static str,
    /// Path (`/`, or `/job-function/` for the job-function policies).
    pub path: &'static str,
    /// Default version id (`v3`).
    pub default_version_id: &'static str,
    /// Description.
    pub description: &'static str,
    /// Creation date, ISO 8601 UTC.
    pub create_date: &'static str,
    /// Date of the default version, ISO 8601 UTC.
    pub update_date: &'static str,
    /// Whether it can be attached (false for deprecated policies).
    pub attachable: bool,
    /// The default version's document.
    pub document: &'static str,
    parsed: OnceLock<Document>,
}

impl ManagedPolicy {
    /// The parsed document (parsed on first use).
    pub fn parsed(&self) -> &Document {
        self.parsed.get_or_init(
            || match Document::parse(self.document, PolicyKind::Identity) {
                Ok(d) => d,
                // Unreachable for the shipped data (tested); an empty list would allow nothing.
                Err(e) => unreachable!("managed policy {} does not parse: {e}", self.name),
            },
        )
    }

    /// Creation date.
    pub fn created(&self) -> DateTime<Utc> {
        parse_utc(self.create_date)
    }

    /// Update date.
    pub fn updated(&self) -> DateTime<Utc> {
        parse_utc(self.update_date)
    }

    /// A deterministic `ANPA…` policy id (21 characters, base32 alphabet), derived from the
    /// name. AWS's own ids are fixed but unpublished.
    pub fn policy_id(&self) -> String {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut out = String::from("ANPA");
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for round in 0u8..3 {
            for b in self.name.bytes().chain([round]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
            let mut x = h;
            for _ in 0..6 {
                if out.len() < 21 {
                    out.push(char::from(ALPHABET[(x & 31) as usize]));
                }
                x >>= 5;
            }
        }
        out
    }
}

fn parse_utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_default()
}

macro_rules! policy {
    ($name:literal, $version:literal, $created:literal, $updated:literal, $attachable:literal, $desc:literal) => {
        policy!("/", $name, $version, $created, $updated, $attachable, $desc)
    };
    ($path:literal, $name:literal, $version:literal, $created:literal, $updated:literal, $attachable:literal, $desc:literal) => {
        ManagedPolicy {
            name: $name,
            arn: concat!("arn:aws:iam::aws:policy", $path, $name),
            path: $path,
            default_version_id: $version,
            description: $desc,
            create_date: $created,
            update_date: $updated,
            attachable: $attachable,
            document: include_str!(concat!("../managed/", $name, ".json")),
            parsed: OnceLock::new(),
        }
    };
}

static CATALOGUE: [ManagedPolicy; 28] = [
    policy!(
        "AWSCloudTrail_FullAccess",
        "v3",
        "2020-10-08T23:41:15Z",
        "2021-02-22T19:01:00Z",
        true,
        "Provides full access to AWS CloudTrail."
    ),
    policy!(
        "AWSCloudTrail_ReadOnlyAccess",
        "v1",
        "2022-06-14T17:19:05Z",
        "2022-06-14T17:19:05Z",
        true,
        "Provides read only access to AWS CloudTrail."
    ),
    policy!(
        "AWSDenyAll",
        "v2",
        "2019-05-01T22:36:14Z",
        "2023-12-18T16:42:05Z",
        true,
        "Deny all access."
    ),
    policy!(
        "AdministratorAccess",
        "v1",
        "2015-02-06T18:39:46Z",
        "2015-02-06T18:39:46Z",
        true,
        "Provides full access to AWS services and resources."
    ),
    policy!(
        "ReadOnlyAccess",
        "v182",
        "2015-02-06T18:39:48Z",
        "2026-04-03T15:27:12Z",
        true,
        "Provides read-only access to AWS services and resources."
    ),
    policy!(
        "AmazonS3FullAccess",
        "v2",
        "2015-02-06T18:40:58Z",
        "2021-09-27T20:16:37Z",
        true,
        "Provides full access to all buckets via the AWS Management Console."
    ),
    policy!(
        "AmazonS3ReadOnlyAccess",
        "v3",
        "2015-02-06T18:40:59Z",
        "2023-08-10T21:31:39Z",
        true,
        "Provides read only access to all buckets via the AWS Management Console."
    ),
    policy!(
        "CloudWatchLogsFullAccess",
        "v8",
        "2015-02-06T18:40:02Z",
        "2026-02-12T18:00:33Z",
        true,
        "Provides full access to CloudWatch Logs"
    ),
    policy!(
        "CloudWatchLogsReadOnlyAccess",
        "v12",
        "2015-02-06T18:40:03Z",
        "2026-02-12T17:59:13Z",
        true,
        "Provides read only access to CloudWatch Logs"
    ),
    policy!(
        "AWSKeyManagementServicePowerUser",
        "v2",
        "2015-02-06T18:40:40Z",
        "2017-03-07T00:55:11Z",
        true,
        "Provides access to AWS Key Management Service (KMS)."
    ),
    policy!(
        "IAMFullAccess",
        "v2",
        "2015-02-06T18:40:38Z",
        "2019-06-21T19:40:00Z",
        true,
        "Provides full access to IAM via the AWS Management Console."
    ),
    policy!(
        "IAMReadOnlyAccess",
        "v4",
        "2015-02-06T18:40:39Z",
        "2018-01-25T19:11:27Z",
        true,
        "Provides read only access to IAM via the AWS Management Console."
    ),
    policy!(
        "SecurityAudit",
        "v86",
        "2015-02-06T18:41:01Z",
        "2026-05-01T03:12:13Z",
        true,
        "The security audit template grants access to read security configuration metadata. It is useful for software that audits the configuration of an AWS account."
    ),
    policy!(
        "AWSSupportAccess",
        "v4",
        "2015-02-06T18:41:11Z",
        "2026-02-12T17:59:31Z",
        true,
        "Allow users to access the AWS Support Center."
    ),
    policy!(
        "/job-function/",
        "ViewOnlyAccess",
        "v45",
        "2016-11-10T17:20:15Z",
        "2026-04-22T18:12:21Z",
        true,
        "This policy grants permissions to view resources and basic metadata across all AWS services."
    ),
    policy!(
        "AWSCloudTrailFullAccess",
        "v8",
        "2019-09-12T23:08:46Z",
        "2019-09-12T23:08:46Z",
        false,
        "Provides full access to AWS CloudTrail."
    ),
    policy!(
        "AWSCloudTrailReadOnlyAccess",
        "v9",
        "2019-11-20T21:06:49Z",
        "2019-11-20T21:06:49Z",
        false,
        "Provides read only access to AWS CloudTrail."
    ),
    policy!(
        "PowerUserAccess",
        "v12",
        "2015-02-06T18:39:47Z",
        "2026-02-12T17:59:14Z",
        true,
        "Provides full access to AWS services and resources, but does not allow management of Users and groups."
    ),
    policy!(
        "CloudWatchFullAccess",
        "v4",
        "2015-02-06T18:40:00Z",
        "2022-11-27T13:23:49Z",
        true,
        "Provides full access to CloudWatch."
    ),
    policy!(
        "CloudWatchReadOnlyAccess",
        "v24",
        "2015-02-06T18:40:01Z",
        "2026-02-12T18:01:50Z",
        true,
        "Provides read only access to CloudWatch."
    ),
    policy!(
        "AmazonSNSFullAccess",
        "v2",
        "2015-02-06T18:41:05Z",
        "2024-09-24T22:32:05Z",
        true,
        "Provides full access to Amazon SNS via the AWS Management Console."
    ),
    policy!(
        "AmazonSNSReadOnlyAccess",
        "v2",
        "2015-02-06T18:41:06Z",
        "2024-09-24T22:13:12Z",
        true,
        "Provides read only access to Amazon SNS via the AWS Management Console."
    ),
    policy!(
        "AWSCloudFormationFullAccess",
        "v1",
        "2019-07-26T21:50:35Z",
        "2019-07-26T21:50:35Z",
        true,
        "Provides full access to AWS CloudFormation."
    ),
    policy!(
        "AWSCloudFormationReadOnlyAccess",
        "v7",
        "2015-02-06T18:39:49Z",
        "2026-02-12T18:02:00Z",
        true,
        "Provides access to AWS CloudFormation via the AWS Management Console."
    ),
    policy!(
        "/service-role/",
        "AWSLambdaBasicExecutionRole",
        "v1",
        "2015-04-09T15:03:43Z",
        "2015-04-09T15:03:43Z",
        true,
        "Provides write permissions to CloudWatch Logs."
    ),
    policy!(
        "AmazonSSMManagedInstanceCore",
        "v2",
        "2019-03-15T17:22:12Z",
        "2019-05-23T16:54:21Z",
        true,
        "The policy for Amazon EC2 Role to enable AWS Systems Manager service core functionality."
    ),
    policy!(
        "/service-role/",
        "AmazonECSTaskExecutionRolePolicy",
        "v1",
        "2017-11-16T18:48:22Z",
        "2017-11-16T18:48:22Z",
        true,
        "Provides access to other AWS service resources that are required to run Amazon ECS tasks"
    ),
    policy!(
        "CloudWatchAgentServerPolicy",
        "v3",
        "2018-03-07T01:06:44Z",
        "2024-02-06T16:37:37Z",
        true,
        "Permissions required to use AmazonCloudWatchAgent on servers"
    ),
];

/// Every shipped AWS managed policy.
pub fn all() -> &'static [ManagedPolicy] {
    &CATALOGUE
}

/// The policy with this ARN (`arn:aws:iam::aws:policy<path><name>`).
pub fn get(arn: &str) -> Option<&'static ManagedPolicy> {
    CATALOGUE.iter().find(|p| p.arn == arn)
}

/// The policy with this name.
pub fn by_name(name: &str) -> Option<&'static ManagedPolicy> {
    CATALOGUE.iter().find(|p| p.name == name)
}
