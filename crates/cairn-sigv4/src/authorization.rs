//! Parsing the `Authorization: AWS4-HMAC-SHA256 …` header.

/// The parts of a SigV4 `Authorization` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authorization {
    /// Access key id.
    pub access_key_id: String,
    /// `YYYYMMDD` from the credential scope.
    pub date: String,
    /// Region from the credential scope.
    pub region: String,
    /// Service from the credential scope.
    pub service: String,
    /// Lower-case signed header names, as listed.
    pub signed_headers: Vec<String>,
    /// Hex signature.
    pub signature: String,
}

/// Why an `Authorization` header could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// Not the SigV4 algorithm.
    #[error("Unsupported signing algorithm")]
    UnsupportedAlgorithm,
    /// A component is missing or malformed; the text names it the way AWS does.
    #[error("{0}")]
    Incomplete(String),
}

impl Authorization {
    /// Parses the header value.
    pub fn parse(header: &str) -> Result<Self, AuthorizationError> {
        let rest = header
            .strip_prefix("AWS4-HMAC-SHA256")
            .ok_or(AuthorizationError::UnsupportedAlgorithm)?;
        let mut credential = None;
        let mut signed_headers = None;
        let mut signature = None;
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v);
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed_headers = Some(v);
            } else if let Some(v) = part.strip_prefix("Signature=") {
                signature = Some(v);
            }
        }
        let missing = |name: &str| {
            AuthorizationError::Incomplete(format!(
                "Authorization header requires '{name}' parameter. Authorization={header}"
            ))
        };
        let credential = credential.ok_or_else(|| missing("Credential"))?;
        let signed_headers = signed_headers.ok_or_else(|| missing("SignedHeaders"))?;
        let signature = signature.ok_or_else(|| missing("Signature"))?;
        Self::from_parts(credential, signed_headers, signature)
    }

    /// Builds from the three components (shared with presigned query parameters).
    pub fn from_parts(
        credential: &str,
        signed_headers: &str,
        signature: &str,
    ) -> Result<Self, AuthorizationError> {
        let scope: Vec<&str> = credential.split('/').collect();
        if scope.len() != 5 || scope[4] != "aws4_request" || scope.iter().any(|s| s.is_empty()) {
            return Err(AuthorizationError::Incomplete(format!(
                "Credential should be scoped to a valid region, service and date. Credential={credential}"
            )));
        }
        if scope[1].len() != 8 || !scope[1].bytes().all(|b| b.is_ascii_digit()) {
            return Err(AuthorizationError::Incomplete(format!(
                "Credential should be scoped to a valid date. Credential={credential}"
            )));
        }
        let signed_headers: Vec<String> = signed_headers
            .split(';')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect();
        if signed_headers.is_empty() || !signed_headers.iter().any(|h| h == "host") {
            return Err(AuthorizationError::Incomplete(
                crate::rules::HOST_NOT_SIGNED.to_owned(),
            ));
        }
        if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthorizationError::Incomplete(
                "Signature must be 64 hexadecimal characters.".to_owned(),
            ));
        }
        Ok(Self {
            access_key_id: scope[0].to_owned(),
            date: scope[1].to_owned(),
            region: scope[2].to_owned(),
            service: scope[3].to_owned(),
            signed_headers,
            signature: signature.to_ascii_lowercase(),
        })
    }

    /// `<date>/<region>/<service>/aws4_request`.
    pub fn scope(&self) -> String {
        format!(
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}
