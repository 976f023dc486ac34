//! The `errorCode` an IAM call's CloudTrail record carries: the name of the model's error
//! shape (`NoSuchEntityException`), not the code the API answers (`NoSuchEntity`), as real
//! IAM records show (Stratus Red Team's detonation logs, Panther's rule fixtures:
//! `EntityTemporarilyUnmodifiableException`, `LimitExceededException`). Codes without a
//! shape of their own (`AccessDenied`, `ValidationError`) are recorded as answered.
//!
//! Data: every error shape of botocore's `iam/2010-05-08/service-2.json` whose
//! `error.code` differs from its name.

/// (code the API answers, shape name recorded).
const SHAPES: &[(&str, &str)] = &[
    ("ConcurrentModification", "ConcurrentModificationException"),
    ("DeleteConflict", "DeleteConflictException"),
    ("DuplicateCertificate", "DuplicateCertificateException"),
    ("DuplicateSSHPublicKey", "DuplicateSSHPublicKeyException"),
    ("EntityAlreadyExists", "EntityAlreadyExistsException"),
    (
        "EntityTemporarilyUnmodifiable",
        "EntityTemporarilyUnmodifiableException",
    ),
    ("FeatureDisabled", "FeatureDisabledException"),
    ("FeatureEnabled", "FeatureEnabledException"),
    (
        "InvalidAuthenticationCode",
        "InvalidAuthenticationCodeException",
    ),
    ("InvalidCertificate", "InvalidCertificateException"),
    ("InvalidInput", "InvalidInputException"),
    ("InvalidPublicKey", "InvalidPublicKeyException"),
    ("InvalidUserType", "InvalidUserTypeException"),
    ("KeyPairMismatch", "KeyPairMismatchException"),
    ("LimitExceeded", "LimitExceededException"),
    ("MalformedCertificate", "MalformedCertificateException"),
    (
        "MalformedPolicyDocument",
        "MalformedPolicyDocumentException",
    ),
    ("NoSuchEntity", "NoSuchEntityException"),
    ("NotSupportedService", "ServiceNotSupportedException"),
    (
        "OpenIdIdpCommunicationError",
        "OpenIdIdpCommunicationErrorException",
    ),
    (
        "PasswordPolicyViolation",
        "PasswordPolicyViolationException",
    ),
    ("PolicyEvaluation", "PolicyEvaluationException"),
    ("PolicyNotAttachable", "PolicyNotAttachableException"),
    ("ReportExpired", "CredentialReportExpiredException"),
    (
        "ReportGenerationLimitExceeded",
        "ReportGenerationLimitExceededException",
    ),
    ("ReportInProgress", "CredentialReportNotReadyException"),
    ("ReportNotPresent", "CredentialReportNotPresentException"),
    ("ServiceFailure", "ServiceFailureException"),
    ("UnmodifiableEntity", "UnmodifiableEntityException"),
    (
        "UnrecognizedPublicKeyEncoding",
        "UnrecognizedPublicKeyEncodingException",
    ),
];

/// The `errorCode` recorded for an IAM error answered with `code`.
pub fn recorded_code(code: &str) -> &str {
    SHAPES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, shape)| shape)
}

#[cfg(test)]
mod tests {
    #[test]
    fn modeled_errors_are_recorded_by_their_shape_names() {
        assert_eq!(
            super::recorded_code("NoSuchEntity"),
            "NoSuchEntityException"
        );
        assert_eq!(
            super::recorded_code("ReportInProgress"),
            "CredentialReportNotReadyException"
        );
        assert_eq!(super::recorded_code("AccessDenied"), "AccessDenied");
    }
}
