//! AssumeRoleWithWebIdentity and AssumeRoleWithSAML: SDKs send them unsigned (the token or
//! assertion is the credential). Cairn has no IAM OpenID Connect or SAML identity providers,
//! so no token can be validated; each call is refused as AWS refuses a token whose provider
//! does not exist in the account: `InvalidIdentityToken` (400).
//!
//! The refusal is recorded, as CloudTrail records these calls, so a forged or stray token
//! aimed at one of the account's roles leaves a trace: the caller is the `WebIdentityUser`
//! (or `SAMLUser`) the token names, never verified. A call naming another account's role
//! is refused unrecorded (AWS records it in that account).

use base64::Engine;
use cairn_model::{AccountId, FederationKind, Principal};
use serde_json::{Map, Value};

use crate::errors::WireError;
use crate::query::Params;

/// A refused federated call.
pub struct Refusal {
    /// The caller the token or assertion names, when the role is this account's.
    pub caller: Option<Principal>,
    /// `requestParameters` of the record (never the token or assertion).
    pub request_parameters: Value,
    /// The error answered.
    pub error: WireError,
}

/// The refusal for a federated action, or `None` for any other action.
pub fn refusal(params: &Params, account: &AccountId) -> Option<Refusal> {
    let (message, kind, claims) = match params.action() {
        "AssumeRoleWithWebIdentity" => {
            let claims = params.get("WebIdentityToken").and_then(jwt_claims);
            let issuer = claims
                .as_ref()
                .and_then(|c| text(c.get("iss")))
                .unwrap_or_else(|| "the token's issuer".to_owned());
            (
                format!("No OpenIDConnect provider found in your account for {issuer}"),
                FederationKind::WebIdentity,
                claims.map(|c| web_identity(&c, params.get("ProviderId"))),
            )
        }
        "AssumeRoleWithSAML" => (
            format!(
                "The SAML provider {} does not exist in your account (Cairn has no SAML identity providers).",
                params
                    .get("PrincipalArn")
                    .unwrap_or("named by PrincipalArn")
            ),
            FederationKind::Saml,
            params.get("SAMLAssertion").and_then(saml_subject),
        ),
        _ => return None,
    };
    let role_account = params
        .get("RoleArn")
        .and_then(|arn| arn.strip_prefix("arn:aws:iam::"))
        .and_then(|rest| rest.split(':').next());
    let caller = (role_account == Some(account.as_str())).then(|| {
        let (principal_id, user_name, identity_provider) = claims.unwrap_or_default();
        Principal::Federated {
            account: account.clone(),
            kind,
            principal_id,
            user_name,
            identity_provider,
        }
    });
    // Input the model refuses is a `ValidationError` first, as for every STS call
    // (recheck28: a short session name or an oversized token was answered
    // `InvalidIdentityToken`); a sensitive value (the token) is never quoted.
    let error = match crate::model_check::check(
        "sts",
        params.action(),
        crate::model_check::Input::Query(params),
    ) {
        Err(p) => WireError::from(&p.into_error(cairn_core::ErrorKind::IamValidation)),
        // The model bounds PolicyArns at 10, as AssumeRole checks it (recheck34b).
        Ok(())
            if crate::iam::input::Input::new(params)
                .structs("PolicyArns")
                .len()
                > 10 =>
        {
            WireError::from(&cairn_core::iam::validate::violation(
                "[…]",
                "policyArns",
                "Member must have length less than or equal to 10",
            ))
        }
        Ok(()) => WireError::bad_request("InvalidIdentityToken", message),
    };
    Some(Refusal {
        caller,
        request_parameters: recorded_parameters(params),
        error,
    })
}

/// The members a record shows, in lower camel case: never the token or the assertion.
fn recorded_parameters(params: &Params) -> Value {
    let mut out = Map::new();
    for (wire, recorded) in [
        ("RoleArn", "roleArn"),
        ("RoleSessionName", "roleSessionName"),
        ("PrincipalArn", "principalArn"),
        ("ProviderId", "providerId"),
        ("DurationSeconds", "durationSeconds"),
    ] {
        if let Some(v) = params.get(wire) {
            let value = match (recorded, v.parse::<i64>()) {
                ("durationSeconds", Ok(n)) => Value::from(n),
                _ => Value::String(v.chars().take(2048).collect()),
            };
            out.insert(recorded.to_owned(), value);
        }
    }
    Value::Object(out)
}

/// A claim as text, at most 256 characters (the first audience of a list).
fn text(v: Option<&Value>) -> Option<String> {
    let v = match v? {
        Value::Array(items) => items.first()?,
        other => other,
    };
    v.as_str().map(|s| s.chars().take(256).collect())
}

/// The claims of a JWT (its signature is never looked at).
fn jwt_claims(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// `principalId`, `userName` and `identityProvider` of a web identity: the issuer without
/// its scheme (`accounts.google.com`), the audience (application id) and the subject.
fn web_identity(
    claims: &Map<String, Value>,
    provider_id: Option<&str>,
) -> (String, String, String) {
    let issuer = text(claims.get("iss"))
        .or_else(|| provider_id.map(str::to_owned))
        .unwrap_or_default();
    let provider = issuer
        .strip_prefix("https://")
        .unwrap_or(&issuer)
        .to_owned();
    let audience = text(claims.get("aud")).unwrap_or_default();
    let subject = text(claims.get("sub")).unwrap_or_default();
    (
        format!("{provider}:{audience}:{subject}"),
        subject,
        provider,
    )
}

/// `principalId`, `userName` and `identityProvider` of a SAML assertion (base64 XML): its
/// `Issuer` stands for the provider (no `saml:namequalifier` exists without a provider in
/// IAM) and its subject's `NameID` is the user.
fn saml_subject(assertion: &str) -> Option<(String, String, String)> {
    use quick_xml::events::Event;
    let xml = base64::engine::general_purpose::STANDARD
        .decode(assertion.trim())
        .ok()?;
    let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
    let (mut issuer, mut name_id, mut current) = (None, None, None::<Vec<u8>>);
    let mut buf = Vec::new();
    // Bounded: an assertion is at most 100,000 characters (the model's limit).
    for _ in 0..10_000 {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) => current = Some(e.local_name().as_ref().to_vec()),
            Event::Text(t) => {
                let value: String = t.decode().ok()?.chars().take(256).collect();
                match current.as_deref() {
                    Some(b"Issuer") if issuer.is_none() => issuer = Some(value),
                    Some(b"NameID") if name_id.is_none() => name_id = Some(value),
                    _ => {}
                }
            }
            Event::End(_) => current = None,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let (issuer, name_id) = (issuer.unwrap_or_default(), name_id.unwrap_or_default());
    Some((format!("{issuer}:{name_id}"), name_id, issuer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours() -> AccountId {
        AccountId::parse("123456789012").unwrap()
    }

    fn web_call(claims: &str, role_account: &str) -> Refusal {
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims);
        let body = format!(
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&WebIdentityToken=h.{claims}.s\
             &RoleArn=arn%3Aaws%3Aiam%3A%3A{role_account}%3Arole%2Fci&RoleSessionName=s1\
             &DurationSeconds=900"
        );
        refusal(&Params::parse("", body.as_bytes()), &ours()).expect("refused")
    }

    #[test]
    fn web_identity_names_the_issuer_and_its_caller() {
        let r = web_call(
            r#"{"iss":"https://idp.example.com","aud":["app-1"],"sub":"user-7"}"#,
            "123456789012",
        );
        assert_eq!(r.error.code, "InvalidIdentityToken");
        assert_eq!(r.error.status, http::StatusCode::BAD_REQUEST);
        assert!(r.error.message.ends_with("for https://idp.example.com"));
        let id = r.caller.expect("recorded").user_identity();
        assert_eq!(
            id,
            serde_json::json!({"type": "WebIdentityUser",
                "principalId": "idp.example.com:app-1:user-7", "userName": "user-7",
                "identityProvider": "idp.example.com"})
        );
        assert_eq!(
            r.request_parameters,
            serde_json::json!({"roleArn": "arn:aws:iam::123456789012:role/ci",
                "roleSessionName": "s1", "durationSeconds": 900})
        );
        assert!(refusal(&Params::parse("", b"Action=GetCallerIdentity"), &ours()).is_none());
    }

    #[test]
    fn another_accounts_role_is_not_recorded_here() {
        let r = web_call(r#"{"iss":"https://idp.example.com"}"#, "999999999999");
        assert!(r.caller.is_none());
    }

    #[test]
    fn a_saml_assertion_names_its_subject() {
        let xml = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Issuer>https://idp.example.org</saml:Issuer><saml:Assertion><saml:Subject><saml:NameID>alice@example.org</saml:NameID></saml:Subject></saml:Assertion></samlp:Response>"#;
        let assertion = base64::engine::general_purpose::STANDARD.encode(xml);
        let body = format!(
            "Action=AssumeRoleWithSAML&Version=2011-06-15&SAMLAssertion={}\
             &RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fsso\
             &PrincipalArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Asaml-provider%2Fidp",
            assertion
                .replace('+', "%2B")
                .replace('=', "%3D")
                .replace('/', "%2F")
        );
        let r = refusal(&Params::parse("", body.as_bytes()), &ours()).expect("refused");
        let id = r.caller.expect("recorded").user_identity();
        assert_eq!(id["type"], "SAMLUser");
        assert_eq!(id["userName"], "alice@example.org");
        assert_eq!(id["identityProvider"], "https://idp.example.org");
        assert!(r.request_parameters.get("sAMLAssertion").is_none());
        assert_eq!(
            r.request_parameters["principalArn"],
            "arn:aws:iam::123456789012:saml-provider/idp"
        );
    }

    #[test]
    fn garbage_tokens_are_refused_without_a_panic() {
        for claims in ["", "null", "[1]", r#"{"iss":7,"aud":[],"sub":{}}"#] {
            let r = web_call(claims, "123456789012");
            assert_eq!(r.error.code, "InvalidIdentityToken");
        }
        let body = b"Action=AssumeRoleWithSAML&SAMLAssertion=%25%25%25&RoleArn=x";
        assert!(refusal(&Params::parse("", body), &ours()).is_some());
    }
}
