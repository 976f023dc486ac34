//! The `response-*` query parameters of GetObject and HeadObject, which set headers of the
//! answer ("Sets the `Content-Type` header of the response", and so on). `s3s` applies
//! GetObject's itself; HeadObject's are applied here, so a HEAD of a presigned URL answers
//! the headers its GET would. Both calls' records list the ones sent.

use s3s::dto::{GetObjectInput, HeadObjectInput, HeadObjectOutput, Timestamp};

/// The six `response_*` members, which GetObject's and HeadObject's inputs both have (they
/// share no trait).
macro_rules! overrides_of {
    ($input:expr) => {
        ResponseOverrides {
            cache_control: $input.response_cache_control.clone(),
            content_disposition: $input.response_content_disposition.clone(),
            content_encoding: $input.response_content_encoding.clone(),
            content_language: $input.response_content_language.clone(),
            content_type: $input.response_content_type.clone(),
            expires: $input.response_expires.clone(),
        }
    };
}

/// The overrides a request sent.
#[derive(Clone, Debug, Default)]
pub struct ResponseOverrides {
    /// `response-cache-control`.
    pub cache_control: Option<String>,
    /// `response-content-disposition`.
    pub content_disposition: Option<String>,
    /// `response-content-encoding`.
    pub content_encoding: Option<String>,
    /// `response-content-language`.
    pub content_language: Option<String>,
    /// `response-content-type`.
    pub content_type: Option<String>,
    /// `response-expires`.
    pub expires: Option<Timestamp>,
}

impl ResponseOverrides {
    /// GetObject's.
    pub fn of_get(i: &GetObjectInput) -> Self {
        overrides_of!(i)
    }

    /// HeadObject's.
    pub fn of_head(i: &HeadObjectInput) -> Self {
        overrides_of!(i)
    }

    /// Refuses an override no header can carry (a control character), as `s3s` refuses
    /// GetObject's, before the call runs (recheck29: HeadObject answered 500 after the call
    /// was recorded as a success).
    pub fn check(&self) -> Result<(), cairn_core::ApiError> {
        let texts = [
            &self.cache_control,
            &self.content_disposition,
            &self.content_encoding,
            &self.content_language,
            &self.content_type,
        ];
        match texts
            .into_iter()
            .flatten()
            .find(|v| http::HeaderValue::from_str(v).is_err())
        {
            Some(v) => Err(cairn_core::ApiError::new(
                cairn_core::ErrorKind::S3InvalidRequest,
                format!("invalid overridden header: {v:?}"),
            )),
            None => Ok(()),
        }
    }

    /// Sets HeadObject's answer's headers to the overrides sent.
    pub fn apply_to_head(self, out: &mut HeadObjectOutput) {
        let set = |field: &mut Option<String>, value: Option<String>| {
            if value.is_some() {
                *field = value;
            }
        };
        set(&mut out.cache_control, self.cache_control);
        set(&mut out.content_disposition, self.content_disposition);
        set(&mut out.content_encoding, self.content_encoding);
        set(&mut out.content_language, self.content_language);
        set(&mut out.content_type, self.content_type);
        if self.expires.is_some() {
            out.expires = self.expires;
        }
    }
}
