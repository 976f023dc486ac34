//! Errors a client can cause (and the one server fault), named the way AWS names them.
//!
//! [`ErrorKind`] is the vocabulary; the edge's error mapping is the only place that turns a
//! kind into an AWS error code string and HTTP status.

use cairn_store::StoreError;

/// The AWS error a call ends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ErrorKind {
    // CloudTrail.
    TrailNotFound,
    TrailAlreadyExists,
    InvalidTrailName,
    CloudTrailArnInvalid,
    MaximumNumberOfTrailsExceeded,
    S3BucketDoesNotExist,
    InsufficientS3BucketPolicy,
    InvalidS3BucketName,
    InvalidS3Prefix,
    InvalidSnsTopicName,
    InvalidKmsKeyId,
    InvalidCloudWatchLogsLogGroupArn,
    InvalidCloudWatchLogsRoleArn,
    InvalidParameterCombination,
    InvalidParameter,
    InvalidHomeRegion,
    TagsLimitExceeded,
    InvalidTagParameter,
    ResourceNotFound,
    InvalidEventSelectors,
    InvalidInsightSelectors,
    InsightNotEnabled,
    InvalidLookupAttributes,
    InvalidTimeRange,
    InvalidMaxResults,
    InvalidNextToken,
    InvalidEventCategory,
    InvalidToken,
    OrganizationsNotInUse,
    UnsupportedOperation,
    /// A member has the wrong JSON type.
    Serialization,
    /// A required member is missing or a value breaks a modeled constraint.
    Validation,
    // S3.
    S3NoSuchBucket,
    S3BucketAlreadyOwnedByYou,
    /// `TooManyBuckets`.
    S3TooManyBuckets,
    S3BucketAlreadyExists,
    S3BucketNotEmpty,
    S3InvalidBucketName,
    S3InvalidLocationConstraint,
    S3IllegalLocationConstraint,
    S3MalformedXml,
    S3MalformedPolicy,
    S3NoSuchBucketPolicy,
    S3AccessDenied,
    S3NoSuchKey,
    S3NoSuchUpload,
    S3InvalidPart,
    S3InvalidPartOrder,
    S3EntityTooSmall,
    /// S3's `MetadataTooLarge` (user metadata over 2 KB).
    S3MetadataTooLarge,
    S3InvalidArgument,
    S3AccessControlListNotSupported,
    S3InvalidBucketAclWithObjectOwnership,
    S3NoSuchLifecycleConfiguration,
    /// `NoSuchCORSConfiguration` (404): the bucket has no CORS configuration.
    S3NoSuchCorsConfiguration,
    /// `ReplicationConfigurationNotFoundError` (404).
    S3ReplicationConfigurationNotFound,
    /// `ObjectLockConfigurationNotFoundError` (404).
    S3ObjectLockConfigurationNotFound,
    /// `NoSuchWebsiteConfiguration` (404).
    S3NoSuchWebsiteConfiguration,
    /// `NoSuchConfiguration` (404): no analytics, metrics, inventory or Intelligent-Tiering
    /// configuration has the id asked for.
    S3NoSuchConfiguration,
    /// `OwnershipControlsNotFoundError` (404): the bucket's ownership controls were deleted.
    S3OwnershipControlsNotFound,
    S3NoSuchPublicAccessBlockConfiguration,
    S3InvalidRequest,
    S3BadDigest,
    S3PreconditionFailed,
    S3NotModified,
    S3InvalidRange,
    S3EntityTooLarge,
    S3IncompleteBody,
    /// `RequestTimeout` (400): the request body came too slowly.
    S3RequestTimeout,
    S3InvalidDigest,
    S3SignatureDoesNotMatch,
    S3NotImplemented,
    S3MalformedTrailer,
    S3InvalidTag,
    S3NoSuchTagSet,
    /// S3's `BadRequest` (too many bucket tags).
    S3BadRequest,
    // SNS.
    SnsNotFound,
    SnsInvalidParameter,
    /// `TopicLimitExceeded`.
    SnsTopicLimitExceeded,
    /// SNS `FilterPolicyLimitExceeded` (403).
    SnsFilterPolicyLimitExceeded,
    InsufficientSnsTopicPolicy,
    /// `ParameterValueInvalid` (shape InvalidParameterValueException).
    SnsParameterValueInvalid,
    SnsTooManyEntriesInBatchRequest,
    SnsEmptyBatchRequest,
    SnsBatchEntryIdsNotDistinct,
    SnsBatchRequestTooLong,
    SnsInvalidBatchEntryId,
    /// `ResourceNotFound` (the tagging operations' missing topic).
    SnsResourceNotFound,
    /// `TagLimitExceeded` (more than 50 tags on a topic).
    SnsTagLimitExceeded,
    /// `AuthorizationError` (an unsigned Unsubscribe of a subscription confirmed with
    /// `AuthenticateOnUnsubscribe`).
    SnsAuthorizationError,
    /// SNS's `KMSNotFound`: a topic's KMS key does not exist.
    SnsKmsNotFound,
    /// SNS's `KMSDisabled`: a topic's KMS key is disabled.
    SnsKmsDisabled,
    /// SNS's `KMSInvalidState`: a topic's KMS key is pending deletion or otherwise unusable.
    SnsKmsInvalidState,
    /// SNS's `KMSAccessDenied`: the publisher may not use a topic's KMS key.
    SnsKmsAccessDenied,
    /// Query's `InvalidAction` (an action the service does not have).
    InvalidAction,
    // IAM and STS (AWS Query codes).
    EntityAlreadyExists,
    NoSuchEntity,
    DeleteConflict,
    /// EC2's `DryRunOperation` (412): the call was allowed, and not carried out.
    Ec2DryRunOperation,
    /// `ReportNotPresent` (410): no credential report was generated.
    ReportNotPresent,
    /// `ReportExpired` (410): the credential report is more than four hours old.
    ReportExpired,
    MalformedPolicyDocument,
    LimitExceeded,
    InvalidInput,
    /// Query services' `ValidationError` (JSON services say `ValidationException`).
    IamValidation,
    UnmodifiableEntity,
    PolicyNotAttachable,
    PackedPolicyTooLarge,
    /// STS's `InvalidIdentityToken` (a web identity token or SAML assertion no provider vouches for).
    InvalidIdentityToken,
    // Every service.
    /// The caller lacks a permission (rendered per protocol: `AccessDeniedException` in JSON,
    /// `AccessDenied` in Query and S3; always recorded as `AccessDenied`).
    AccessDenied,
    // Server.
    /// The disk or store is full, or the writer stopped: nothing was done; retry later (503).
    ServiceUnavailable,
    Internal,
    // CloudWatch Logs.
    /// `ResourceAlreadyExistsException`.
    LogsResourceAlreadyExists,
    /// `LimitExceededException`.
    LogsLimitExceeded,
    /// `TooManyTagsException`.
    LogsTooManyTags,
    /// `MalformedQueryException` (Logs Insights).
    LogsMalformedQuery,
    // KMS.
    KmsNotFound,
    KmsAlreadyExists,
    KmsDisabled,
    KmsInvalidState,
    KmsInvalidCiphertext,
    KmsIncorrectKey,
    KmsInvalidKeyUsage,
    KmsInvalidArn,
    KmsInvalidAliasName,
    KmsNotAuthorized,
    KmsInvalidMarker,
    KmsInvalidGrantToken,
    KmsInvalidGrantId,
    KmsLimitExceeded,
    KmsMalformedPolicyDocument,
    KmsTag,
    KmsDryRun,
    // CloudFormation (its `ValidationError` is [`ErrorKind::IamValidation`]).
    CfnAlreadyExists,
    CfnInsufficientCapabilities,
    CfnChangeSetNotFound,
    CfnInvalidChangeSetStatus,
    CfnTokenAlreadyExists,
    CfnLimitExceeded,
    // CloudWatch (query codes; the JSON shape names are the edge's business).
    /// `InvalidParameterValue`.
    CwInvalidParameterValue,
    /// `MissingParameter`.
    CwMissingParameter,
    /// `InvalidParameterCombination`.
    CwInvalidParameterCombination,
    /// `ResourceNotFound` (alarms: DeleteAlarms, SetAlarmState).
    CwResourceNotFound,
    /// `ResourceNotFoundException` (404): the tagging operations' modelled error.
    CwResourceNotFoundException,
    /// `LimitExceeded` (400).
    CwLimitExceeded,
    /// `InvalidFormat`.
    CwInvalidFormat,
    /// `InvalidNextToken`.
    CwInvalidNextToken,
    // KMS as other services report it (SSE-KMS, trails with a key).
    /// CloudTrail's `KmsKeyNotFoundException`.
    TrailKmsKeyNotFound,
    /// CloudTrail's `InsufficientEncryptionPolicyException`.
    InsufficientEncryptionPolicy,
    /// CloudTrail's `KmsException` (the key cannot be used).
    TrailKms,
    /// S3's `KMS.NotFoundException`.
    S3KmsNotFound,
    /// S3's `KMS.DisabledException`.
    S3KmsDisabled,
    /// S3's `KMS.KMSInvalidStateException`.
    S3KmsInvalidState,
    // S3 object conditions, versions and parts.
    /// S3's `ConditionalRequestConflict` (409: a conditional write raced another write).
    S3ConditionalRequestConflict,
    /// S3's `NoSuchVersion` (404).
    S3NoSuchVersion,
    /// S3's `InvalidPartNumber` (416: `partNumber` beyond the object's parts).
    S3InvalidPartNumber,
    /// S3's `XAmzContentSHA256Mismatch` (400).
    S3ContentSha256Mismatch,
    /// `InvalidStorageClass`: a storage class S3 does not know.
    S3InvalidStorageClass,
}

/// A failed call: what kind, and AWS's message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct ApiError {
    /// The kind.
    pub kind: ErrorKind,
    /// The message shown to the client.
    pub message: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// Object and part files' full-disk reports: one ERROR, then a summary a minute.
static OBJECTS_FULL: cairn_store::full_disk::FullDiskLog =
    cairn_store::full_disk::FullDiskLog::new("an object file");

impl ApiError {
    /// A failed read or write of an object or part file: a full disk (or quota) is
    /// `ServiceUnavailable` (503, like a full store: retry later), anything else `Internal`.
    /// Logged either way.
    pub fn from_file_io(e: &std::io::Error) -> Self {
        use std::io::ErrorKind as Io;
        if matches!(e.kind(), Io::StorageFull | Io::QuotaExceeded) {
            OBJECTS_FULL.refused(e);
            ApiError::new(
                ErrorKind::ServiceUnavailable,
                "The service is temporarily unavailable: the server's disk is full. Retry later.",
            )
        } else if matches!(e.kind(), Io::ReadOnlyFilesystem) || e.raw_os_error() == Some(5) {
            // A disk gone read-only or failing (EROFS, EIO) is the server's trouble, not the
            // client's mistake, and passes once it is fixed: 503, as the store answers it
            // (recheck35: S3 answered 500 while every other service said 503).
            tracing::error!(error = %e, "object file I/O failed: the disk is read-only or failing");
            ApiError::new(
                ErrorKind::ServiceUnavailable,
                "The service is temporarily unavailable: the server cannot write to its disk. Retry later.",
            )
        } else {
            tracing::error!(error = %e, "object file I/O failed");
            ApiError::new(ErrorKind::Internal, "object file I/O failed")
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Full(_) | StoreError::WriterGone | StoreError::Gone(_) => ApiError::new(
                ErrorKind::ServiceUnavailable,
                "The service is temporarily unavailable: the server cannot record calls right now (its disk is full or its store has stopped). Retry later.",
            ),
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::new(ErrorKind::Internal, "An internal error occurred.")
            }
        }
    }
}

/// Result alias.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod file_io_tests {
    use super::*;

    #[test]
    fn a_full_disk_is_503_and_other_file_failures_are_internal() {
        let full = std::io::Error::from_raw_os_error(28); // ENOSPC
        assert_eq!(
            ApiError::from_file_io(&full).kind,
            ErrorKind::ServiceUnavailable
        );
        let quota = std::io::Error::from_raw_os_error(122); // EDQUOT
        assert_eq!(
            ApiError::from_file_io(&quota).kind,
            ErrorKind::ServiceUnavailable
        );
        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(ApiError::from_file_io(&missing).kind, ErrorKind::Internal);
        // recheck35: a read-only or failing disk is 503 for S3 too.
        for errno in [30, 5] {
            let e = std::io::Error::from_raw_os_error(errno); // EROFS, EIO
            assert_eq!(
                ApiError::from_file_io(&e).kind,
                ErrorKind::ServiceUnavailable
            );
        }
    }
}
