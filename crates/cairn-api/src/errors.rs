//! The one mapping from error kinds to AWS error codes and HTTP statuses, and the two
//! envelopes: AWS JSON 1.1 (`__type` + `message`) and S3 XML (`<Error>`).

use axum::response::Response;
use cairn_core::{ApiError, ErrorKind};
use http::{HeaderValue, StatusCode};

use crate::protocol::Protocol;

/// The AWS error code and HTTP status of a kind.
pub fn code_and_status(kind: ErrorKind) -> (&'static str, StatusCode) {
    use ErrorKind::*;
    let bad = StatusCode::BAD_REQUEST;
    match kind {
        TrailNotFound => ("TrailNotFoundException", bad),
        TrailAlreadyExists => ("TrailAlreadyExistsException", bad),
        InvalidTrailName => ("InvalidTrailNameException", bad),
        CloudTrailArnInvalid => ("CloudTrailARNInvalidException", bad),
        MaximumNumberOfTrailsExceeded => ("MaximumNumberOfTrailsExceededException", bad),
        S3BucketDoesNotExist => ("S3BucketDoesNotExistException", bad),
        InsufficientS3BucketPolicy => ("InsufficientS3BucketPolicyException", bad),
        InvalidS3BucketName => ("InvalidS3BucketNameException", bad),
        InvalidS3Prefix => ("InvalidS3PrefixException", bad),
        InvalidSnsTopicName => ("InvalidSnsTopicNameException", bad),
        InvalidKmsKeyId => ("InvalidKmsKeyIdException", bad),
        InvalidCloudWatchLogsLogGroupArn => ("InvalidCloudWatchLogsLogGroupArnException", bad),
        InvalidCloudWatchLogsRoleArn => ("InvalidCloudWatchLogsRoleArnException", bad),
        InvalidParameterCombination => ("InvalidParameterCombinationException", bad),
        InvalidParameter => ("InvalidParameterException", bad),
        InvalidHomeRegion => ("InvalidHomeRegionException", bad),
        TagsLimitExceeded => ("TagsLimitExceededException", bad),
        InvalidTagParameter => ("InvalidTagParameterException", bad),
        ResourceNotFound => ("ResourceNotFoundException", bad),
        InvalidEventSelectors => ("InvalidEventSelectorsException", bad),
        InvalidInsightSelectors => ("InvalidInsightSelectorsException", bad),
        InsightNotEnabled => ("InsightNotEnabledException", bad),
        InvalidLookupAttributes => ("InvalidLookupAttributesException", bad),
        InvalidTimeRange => ("InvalidTimeRangeException", bad),
        InvalidMaxResults => ("InvalidMaxResultsException", bad),
        InvalidNextToken => ("InvalidNextTokenException", bad),
        InvalidEventCategory => ("InvalidEventCategoryException", bad),
        InvalidToken => ("InvalidTokenException", bad),
        OrganizationsNotInUse => ("OrganizationsNotInUseException", bad),
        UnsupportedOperation => ("UnsupportedOperationException", bad),
        Serialization => ("SerializationException", bad),
        Validation => ("ValidationException", bad),
        S3NoSuchBucket => ("NoSuchBucket", StatusCode::NOT_FOUND),
        S3BucketAlreadyOwnedByYou => ("BucketAlreadyOwnedByYou", StatusCode::CONFLICT),
        S3BucketAlreadyExists => ("BucketAlreadyExists", StatusCode::CONFLICT),
        S3TooManyBuckets => ("TooManyBuckets", bad),
        S3BucketNotEmpty => ("BucketNotEmpty", StatusCode::CONFLICT),
        S3InvalidBucketName => ("InvalidBucketName", bad),
        S3InvalidLocationConstraint => ("InvalidLocationConstraint", bad),
        S3IllegalLocationConstraint => ("IllegalLocationConstraintException", bad),
        S3MalformedXml => ("MalformedXML", bad),
        S3MalformedPolicy => ("MalformedPolicy", bad),
        S3NoSuchBucketPolicy => ("NoSuchBucketPolicy", StatusCode::NOT_FOUND),
        S3AccessDenied => ("AccessDenied", StatusCode::FORBIDDEN),
        S3NoSuchKey => ("NoSuchKey", StatusCode::NOT_FOUND),
        S3NoSuchUpload => ("NoSuchUpload", StatusCode::NOT_FOUND),
        S3InvalidPart => ("InvalidPart", bad),
        S3InvalidPartOrder => ("InvalidPartOrder", bad),
        S3EntityTooSmall => ("EntityTooSmall", bad),
        S3MetadataTooLarge => ("MetadataTooLarge", bad),
        S3InvalidArgument => ("InvalidArgument", bad),
        S3AccessControlListNotSupported => ("AccessControlListNotSupported", bad),
        S3InvalidBucketAclWithObjectOwnership => ("InvalidBucketAclWithObjectOwnership", bad),
        S3NoSuchLifecycleConfiguration => ("NoSuchLifecycleConfiguration", StatusCode::NOT_FOUND),
        S3NoSuchCorsConfiguration => ("NoSuchCORSConfiguration", StatusCode::NOT_FOUND),
        S3ReplicationConfigurationNotFound => (
            "ReplicationConfigurationNotFoundError",
            StatusCode::NOT_FOUND,
        ),
        S3ObjectLockConfigurationNotFound => (
            "ObjectLockConfigurationNotFoundError",
            StatusCode::NOT_FOUND,
        ),
        S3NoSuchWebsiteConfiguration => ("NoSuchWebsiteConfiguration", StatusCode::NOT_FOUND),
        S3NoSuchConfiguration => ("NoSuchConfiguration", StatusCode::NOT_FOUND),
        S3OwnershipControlsNotFound => ("OwnershipControlsNotFoundError", StatusCode::NOT_FOUND),
        S3NoSuchPublicAccessBlockConfiguration => (
            "NoSuchPublicAccessBlockConfiguration",
            StatusCode::NOT_FOUND,
        ),
        S3InvalidRequest => ("InvalidRequest", bad),
        S3BadDigest => ("BadDigest", bad),
        S3PreconditionFailed => ("PreconditionFailed", StatusCode::PRECONDITION_FAILED),
        S3NotModified => ("NotModified", StatusCode::NOT_MODIFIED),
        S3InvalidRange => ("InvalidRange", StatusCode::RANGE_NOT_SATISFIABLE),
        S3EntityTooLarge => ("EntityTooLarge", bad),
        S3IncompleteBody => ("IncompleteBody", bad),
        S3RequestTimeout => ("RequestTimeout", bad),
        S3InvalidDigest => ("InvalidDigest", bad),
        S3SignatureDoesNotMatch => ("SignatureDoesNotMatch", StatusCode::FORBIDDEN),
        S3NotImplemented => ("NotImplemented", StatusCode::NOT_IMPLEMENTED),
        S3MalformedTrailer => ("MalformedTrailerError", bad),
        S3InvalidTag => ("InvalidTag", bad),
        S3NoSuchTagSet => ("NoSuchTagSet", StatusCode::NOT_FOUND),
        S3BadRequest => ("BadRequest", bad),
        SnsNotFound => ("NotFound", StatusCode::NOT_FOUND),
        SnsInvalidParameter => ("InvalidParameter", bad),
        SnsTopicLimitExceeded => ("TopicLimitExceeded", StatusCode::FORBIDDEN),
        SnsFilterPolicyLimitExceeded => ("FilterPolicyLimitExceeded", StatusCode::FORBIDDEN),
        SnsParameterValueInvalid => ("ParameterValueInvalid", bad),
        SnsTooManyEntriesInBatchRequest => ("TooManyEntriesInBatchRequest", bad),
        SnsEmptyBatchRequest => ("EmptyBatchRequest", bad),
        SnsBatchEntryIdsNotDistinct => ("BatchEntryIdsNotDistinct", bad),
        SnsBatchRequestTooLong => ("BatchRequestTooLong", bad),
        SnsInvalidBatchEntryId => ("InvalidBatchEntryId", bad),
        SnsResourceNotFound => ("ResourceNotFound", StatusCode::NOT_FOUND),
        SnsTagLimitExceeded => ("TagLimitExceeded", bad),
        SnsAuthorizationError => ("AuthorizationError", StatusCode::FORBIDDEN),
        SnsKmsNotFound => ("KMSNotFound", bad),
        SnsKmsDisabled => ("KMSDisabled", bad),
        SnsKmsInvalidState => ("KMSInvalidState", bad),
        SnsKmsAccessDenied => ("KMSAccessDenied", bad),
        InvalidAction => ("InvalidAction", bad),
        InsufficientSnsTopicPolicy => ("InsufficientSnsTopicPolicyException", bad),
        EntityAlreadyExists => ("EntityAlreadyExists", StatusCode::CONFLICT),
        NoSuchEntity => ("NoSuchEntity", StatusCode::NOT_FOUND),
        DeleteConflict => ("DeleteConflict", StatusCode::CONFLICT),
        ReportNotPresent => ("ReportNotPresent", StatusCode::GONE),
        Ec2DryRunOperation => ("DryRunOperation", StatusCode::PRECONDITION_FAILED),
        ReportExpired => ("ReportExpired", StatusCode::GONE),
        MalformedPolicyDocument => ("MalformedPolicyDocument", bad),
        LimitExceeded => ("LimitExceeded", StatusCode::CONFLICT),
        InvalidInput => ("InvalidInput", bad),
        IamValidation => ("ValidationError", bad),
        UnmodifiableEntity => ("UnmodifiableEntity", bad),
        PolicyNotAttachable => ("PolicyNotAttachable", bad),
        PackedPolicyTooLarge => ("PackedPolicyTooLarge", bad),
        InvalidIdentityToken => ("InvalidIdentityToken", bad),
        AccessDenied => ("AccessDenied", StatusCode::FORBIDDEN),
        ServiceUnavailable => ("ServiceUnavailable", StatusCode::SERVICE_UNAVAILABLE),
        Internal => ("InternalFailure", StatusCode::INTERNAL_SERVER_ERROR),
        LogsResourceAlreadyExists => ("ResourceAlreadyExistsException", bad),
        LogsLimitExceeded => ("LimitExceededException", bad),
        LogsTooManyTags => ("TooManyTagsException", bad),
        LogsMalformedQuery => ("MalformedQueryException", bad),
        // KMS (spec iam-kms.md §7.1: 400 for client errors, 409 for state conflicts).
        KmsNotFound => ("NotFoundException", bad),
        KmsAlreadyExists => ("AlreadyExistsException", StatusCode::CONFLICT),
        KmsDisabled => ("DisabledException", StatusCode::CONFLICT),
        KmsInvalidState => ("KMSInvalidStateException", StatusCode::CONFLICT),
        KmsInvalidCiphertext => ("InvalidCiphertextException", bad),
        KmsIncorrectKey => ("IncorrectKeyException", bad),
        KmsInvalidKeyUsage => ("InvalidKeyUsageException", bad),
        KmsInvalidArn => ("InvalidArnException", bad),
        KmsInvalidAliasName => ("InvalidAliasNameException", bad),
        KmsNotAuthorized => ("NotAuthorizedException", bad),
        KmsInvalidMarker => ("InvalidMarkerException", bad),
        KmsInvalidGrantToken => ("InvalidGrantTokenException", bad),
        KmsInvalidGrantId => ("InvalidGrantIdException", bad),
        KmsLimitExceeded => ("LimitExceededException", bad),
        KmsMalformedPolicyDocument => ("MalformedPolicyDocumentException", bad),
        KmsTag => ("TagException", bad),
        KmsDryRun => ("DryRunOperationException", StatusCode::PRECONDITION_FAILED),
        CfnAlreadyExists => ("AlreadyExistsException", bad),
        CfnInsufficientCapabilities => ("InsufficientCapabilitiesException", bad),
        CfnChangeSetNotFound => ("ChangeSetNotFound", StatusCode::NOT_FOUND),
        CfnInvalidChangeSetStatus => ("InvalidChangeSetStatus", bad),
        CfnTokenAlreadyExists => ("TokenAlreadyExistsException", bad),
        CfnLimitExceeded => ("LimitExceededException", bad),
        CwInvalidParameterValue => ("InvalidParameterValue", bad),
        CwMissingParameter => ("MissingParameter", bad),
        CwInvalidParameterCombination => ("InvalidParameterCombination", bad),
        CwResourceNotFound => ("ResourceNotFound", StatusCode::NOT_FOUND),
        CwResourceNotFoundException => ("ResourceNotFoundException", StatusCode::NOT_FOUND),
        CwLimitExceeded => ("LimitExceeded", bad),
        CwInvalidFormat => ("InvalidFormat", bad),
        CwInvalidNextToken => ("InvalidNextToken", bad),
        TrailKmsKeyNotFound => ("KmsKeyNotFoundException", bad),
        InsufficientEncryptionPolicy => ("InsufficientEncryptionPolicyException", bad),
        TrailKms => ("KmsException", bad),
        S3KmsNotFound => ("KMS.NotFoundException", bad),
        S3KmsDisabled => ("KMS.DisabledException", bad),
        S3KmsInvalidState => ("KMS.KMSInvalidStateException", bad),
        S3ConditionalRequestConflict => ("ConditionalRequestConflict", StatusCode::CONFLICT),
        S3NoSuchVersion => ("NoSuchVersion", StatusCode::NOT_FOUND),
        S3InvalidPartNumber => ("InvalidPartNumber", StatusCode::RANGE_NOT_SATISFIABLE),
        S3ContentSha256Mismatch => ("XAmzContentSHA256Mismatch", bad),
        S3InvalidStorageClass => ("InvalidStorageClass", bad),
    }
}

/// An error as the edge answers it: a code, a status and a message. Protocol-level errors
/// (authentication, serialization) that never reach the core are built directly.
#[derive(Clone, Debug)]
pub struct WireError {
    /// AWS error code.
    pub code: &'static str,
    /// HTTP status.
    pub status: StatusCode,
    /// Message.
    pub message: String,
}

impl WireError {
    /// A protocol error with a 400 status.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }
}

impl WireError {
    /// The server-fault error of a protocol; never carries internal detail.
    pub fn internal(protocol: Protocol) -> Self {
        match protocol {
            Protocol::Json => Self {
                code: "InternalFailure",
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: "The request processing has failed because of an unknown error, exception or failure.".into(),
            },
            Protocol::Query => Self {
                code: "InternalFailure",
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: "The request processing has failed because of an unknown error, exception or failure.".into(),
            },
            Protocol::S3 => Self {
                code: "InternalError",
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: "We encountered an internal error. Please try again.".into(),
            },
        }
    }
}

/// The XML namespace of a Query service's responses.
pub fn query_namespace(service: &str) -> &'static str {
    match service {
        "sns" => "http://sns.amazonaws.com/doc/2010-03-31/",
        "iam" => "https://iam.amazonaws.com/doc/2010-05-08/",
        "sts" => "https://sts.amazonaws.com/doc/2011-06-15/",
        "cloudformation" => "http://cloudformation.amazonaws.com/doc/2010-05-15/",
        "monitoring" => "http://monitoring.amazonaws.com/doc/2010-08-01/",
        _ => "",
    }
}

/// Renders an error in `protocol`'s envelope for `service` (the signing name).
pub fn render(protocol: Protocol, service: &str, err: &WireError, request_id: &str) -> Response {
    match protocol {
        Protocol::Json => json_error(err, request_id),
        Protocol::Query if service == "ec2" => crate::query::ec2_error(err, request_id),
        Protocol::Query => crate::query::error(query_namespace(service), err, request_id),
        Protocol::S3 => s3_error(err, request_id, None, false),
    }
}

impl WireError {
    /// The error as an AWS JSON service answers it: `AccessDenied` becomes
    /// `AccessDeniedException`, 400 (the status AWS JSON services use for it).
    pub fn json(e: &ApiError) -> Self {
        let mut w = Self::from(e);
        if e.kind == cairn_core::ErrorKind::AccessDenied {
            w.code = "AccessDeniedException";
            w.status = StatusCode::BAD_REQUEST;
        }
        w
    }
}

impl WireError {
    /// The error as SNS answers it: `AccessDenied` is SNS's `AuthorizationError` (403), the
    /// code its model names (`AuthorizationErrorException`'s wire code).
    pub fn sns(e: &ApiError) -> Self {
        let mut w = Self::from(e);
        if e.kind == cairn_core::ErrorKind::AccessDenied {
            w.code = "AuthorizationError";
        }
        w
    }
}

impl From<&ApiError> for WireError {
    fn from(e: &ApiError) -> Self {
        let (code, status) = code_and_status(e.kind);
        Self {
            code,
            status,
            message: e.message.clone(),
        }
    }
}

/// Renders an AWS JSON 1.1 error with its text under `message`.
pub fn json_error(err: &WireError, request_id: &str) -> Response {
    json_error_keyed(err, request_id, "message")
}

/// Renders an AWS JSON 1.1 error with its text under `message_key`: the member name the
/// service's model gives its exceptions (CloudTrail's are `Message`, and the Smithy-based
/// SDKs fill a typed exception's message from that member alone).
pub fn json_error_keyed(err: &WireError, request_id: &str, message_key: &str) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("__type".into(), err.code.into());
    body.insert(message_key.into(), err.message.clone().into());
    let body = serde_json::Value::Object(body).to_string();
    let mut resp = Response::new(axum::body::Body::from(body));
    *resp.status_mut() = err.status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    crate::server::set_request_id(&mut resp, request_id);
    resp
}

/// Escapes text for XML. Characters XML 1.0 cannot carry at all (controls other than tab,
/// line feed and carriage return, U+FFFE, U+FFFF), which a caller can put in a name or a
/// stored description, become U+FFFD, so every response stays parseable; a carriage return
/// is written `&#13;` so parsers do not fold it into a line feed.
pub fn xml_escape(text: &str) -> String {
    rewrite_uncarried(&quick_xml::escape::escape(text), |_, out| {
        out.push('\u{FFFD}')
    })
    .into_owned()
}

/// Escapes text for an XML text node as S3 writes its error bodies: only `&`, `<` and `>`
/// (quotes and apostrophes stay as they are: the AWS SDK for Java v1 keeps only what follows
/// the last `&apos;` of an S3 error message), and what XML cannot carry as [`xml_escape`].
pub fn xml_text_escape(text: &str) -> String {
    rewrite_uncarried(&quick_xml::escape::partial_escape(text), |_, out| {
        out.push('\u{FFFD}')
    })
    .into_owned()
}

/// `xml` with each carriage return written `&#13;` and each character XML 1.0 cannot carry
/// written by `forbidden`; borrowed when there is none.
fn rewrite_uncarried(
    xml: &str,
    forbidden: impl Fn(char, &mut String),
) -> std::borrow::Cow<'_, str> {
    if xml.chars().all(carried) {
        return std::borrow::Cow::Borrowed(xml);
    }
    let mut out = String::with_capacity(xml.len() + 8);
    for c in xml.chars() {
        match c {
            '\r' => out.push_str("&#13;"),
            c if carried(c) => out.push(c),
            c => forbidden(c, &mut out),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Whether XML 1.0 carries `c` as it is (a carriage return is carried but folded, so it is
/// not counted here).
fn carried(c: char) -> bool {
    matches!(c, '\t' | '\n') || (c >= ' ' && c != '\u{FFFE}' && c != '\u{FFFF}')
}

/// Whether `text` holds a character no XML 1.0 document can carry, even as a reference: in
/// a request body it was sent raw, so the body was not well-formed XML.
pub fn xml_forbids(text: &str) -> bool {
    text.chars().any(|c| c != '\r' && !carried(c))
}

/// S3's rule for characters in its XML documents (markup passes unchanged; only text can
/// hold these characters): each character XML 1.0 forbids is written as a numeric
/// reference, `&#x1;`, as S3 writes it (such a key is not changed into another one; a
/// strict parser refuses the document, which is why listings take `encoding-type=url`), and
/// a carriage return `&#13;`. S3's documents are serialised by `s3s`, which escapes only
/// markup characters, so every S3 XML response goes through this one function.
pub fn xml_chars(xml: &str) -> std::borrow::Cow<'_, str> {
    rewrite_uncarried(xml, |c, out| out.push_str(&format!("&#x{:x};", c as u32)))
}

/// Renders an S3 XML error (HEAD responses carry no body).
pub fn s3_error(
    err: &WireError,
    request_id: &str,
    resource: Option<(&str, &str)>,
    head: bool,
) -> Response {
    s3_error_response(
        err.code,
        err.status,
        &err.message,
        request_id,
        resource,
        head,
    )
}

/// Renders an S3 XML error from its parts.
pub fn s3_error_response(
    code: &str,
    status: StatusCode,
    message: &str,
    request_id: &str,
    resource: Option<(&str, &str)>,
    head: bool,
) -> Response {
    let extra = resource
        .map(|(tag, value)| format!("<{tag}>{}</{tag}>", xml_text_escape(value)))
        .unwrap_or_default();
    let body = if head {
        String::new()
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>{extra}<RequestId>{request_id}</RequestId><HostId>{}</HostId></Error>",
            xml_text_escape(code),
            xml_text_escape(message),
            crate::request_ids::host_id(request_id)
        )
    };
    let mut resp = Response::new(axum::body::Body::from(body));
    *resp.status_mut() = status;
    if !head {
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
    }
    crate::server::set_request_id(&mut resp, request_id);
    resp
}

#[cfg(test)]
mod tests {
    use super::{xml_escape, xml_text_escape};

    #[test]
    fn s3_documents_write_what_xml_forbids_as_references() {
        use super::{xml_chars, xml_forbids};
        let doc = "<?xml version=\"1.0\"?>\n<K a=\"1\">a&amp;\u{1}\r\u{FFFE}\t\u{E9}</K>";
        assert_eq!(
            xml_chars(doc),
            "<?xml version=\"1.0\"?>\n<K a=\"1\">a&amp;&#x1;&#13;&#xfffe;\t\u{E9}</K>"
        );
        assert!(matches!(
            xml_chars("<a>ok</a>"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert!(xml_forbids("a\u{1}") && xml_forbids("\u{FFFF}"));
        assert!(!xml_forbids("cr\r\ttab\nlf\u{E9}"));
    }

    #[test]
    fn xml_escape_keeps_every_document_parseable() {
        assert_eq!(xml_escape("a<b&\"c'"), "a&lt;b&amp;&quot;c&apos;");
        assert_eq!(xml_text_escape("a<b&\"c'd>"), "a&lt;b&amp;\"c'd&gt;");
        assert_eq!(xml_escape("tab\tline\n"), "tab\tline\n");
        assert_eq!(
            xml_escape("a\u{1}b\u{0}c\u{FFFF}"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}"
        );
        assert_eq!(xml_escape("cr\r<"), "cr&#13;&lt;");
        let doc = format!("<a>{}</a>", xml_escape("x\u{1}\r\u{1F}y"));
        let mut reader = quick_xml::Reader::from_str(&doc);
        loop {
            match reader.read_event().expect("well-formed") {
                quick_xml::events::Event::Eof => break,
                _ => continue,
            }
        }
    }
}
