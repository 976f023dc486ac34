//! Version ids. Cairn keeps no object versions: every object is what S3 calls the `null`
//! version, so `versionId=null` names the current object and any other id names a version
//! that does not exist. An id that could not have been issued (S3's are 32 characters of
//! letters, digits, `.`, `_` and `-`) is `InvalidArgument`; a well-formed one reads as
//! `NoSuchVersion` and deletes nothing (as S3 answers a delete of a missing version).

use cairn_core::{ApiError, ErrorKind};

/// The version a request names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Version {
    /// No `versionId`, or `null`: the current object.
    Current,
    /// A well-formed id Cairn never issued.
    Unknown,
}

/// Which version `version_id` names; a malformed id is S3's `InvalidArgument`.
pub(super) fn named(version_id: Option<&str>) -> Result<Version, ApiError> {
    match version_id {
        None | Some("null") => Ok(Version::Current),
        Some(id) if well_formed(id) => Ok(Version::Unknown),
        Some(_) => Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "Invalid version id specified",
        )),
    }
}

fn well_formed(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// S3's answer to a read of a version that does not exist.
pub(super) fn no_such_version() -> ApiError {
    ApiError::new(
        ErrorKind::S3NoSuchVersion,
        "The specified version does not exist.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_is_current_and_other_ids_are_unknown_or_malformed() {
        assert_eq!(named(None), Ok(Version::Current));
        assert_eq!(named(Some("null")), Ok(Version::Current));
        assert_eq!(
            named(Some("3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrH")),
            Ok(Version::Unknown)
        );
        let bad = named(Some("not-a-version")).unwrap_err();
        assert_eq!(bad.kind, ErrorKind::S3InvalidArgument);
        assert!(named(Some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrH")).is_err());
    }
}
