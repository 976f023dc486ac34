//! AssumeRoleWithWebIdentity and AssumeRoleWithSAML: SDKs send them unsigned (the token or
//! assertion is the credential). Cairn has no IAM OpenID Connect or SAML identity providers,
//! so no token can be validated; each call is refused as AWS refuses a token whose provider
//! does not exist in the account: `InvalidIdentityToken` (400).

use base64::Engine;

use crate::errors::WireError;
use crate::query::Params;

/// The refusal for a federated action, or `None` for any other action.
pub fn refusal(params: &Params) -> Option<WireError> {
    let message = match params.action() {
        "AssumeRoleWithWebIdentity" => {
            let issuer = params
                .get("WebIdentityToken")
                .and_then(issuer)
                .unwrap_or_else(|| "the token's issuer".to_owned());
            format!("No OpenIDConnect provider found in your account for {issuer}")
        }
        "AssumeRoleWithSAML" => format!(
            "The SAML provider {} does not exist in your account (Cairn has no SAML identity providers).",
            params
                .get("PrincipalArn")
                .unwrap_or("named by PrincipalArn")
        ),
        _ => return None,
    };
    Some(WireError::bad_request("InvalidIdentityToken", message))
}

/// The `iss` claim of a JWT, if the token is one (its signature is never looked at).
fn issuer(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("iss")?
        .as_str()
        .map(|s| s.chars().take(256).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_identity_names_the_issuer() {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"iss":"https://idp.example.com","sub":"x"}"#);
        let body = format!(
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=h.{claims}.s"
        );
        let e = refusal(&Params::parse("", body.as_bytes())).expect("refused");
        assert_eq!(e.code, "InvalidIdentityToken");
        assert_eq!(e.status, http::StatusCode::BAD_REQUEST);
        assert!(
            e.message.ends_with("for https://idp.example.com"),
            "{}",
            e.message
        );
        assert!(refusal(&Params::parse("", b"Action=GetCallerIdentity")).is_none());
    }
}
