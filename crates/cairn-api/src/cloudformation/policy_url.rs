//! CloudFormation's `StackPolicyURL` and `StackPolicyDuringUpdateURL`: a stack policy kept as
//! an object in a Cairn bucket, read as the caller (its own GetObject, authorized and
//! recorded) like a `TemplateURL`. They were accepted and dropped: a stack created with a
//! deny-all policy by URL had none, while its record named the policy (cfn8).

use cairn_core::ApiError;

use super::template_url;
use crate::query::Params;
use crate::recording::CallInfo;
use crate::s3::CairnS3;

/// The largest stack policy (CloudFormation's quota, 16 KB).
const MAX_POLICY_BYTES: usize = 16 * 1024;

/// The operations that take a policy by URL, each `(URL member, body member)` they read.
pub fn members(action: &str) -> &'static [(&'static str, &'static str)] {
    match action {
        "CreateStack" | "SetStackPolicy" => &[("StackPolicyURL", "StackPolicyBody")],
        "UpdateStack" => &[
            ("StackPolicyURL", "StackPolicyBody"),
            ("StackPolicyDuringUpdateURL", "StackPolicyDuringUpdateBody"),
        ],
        _ => &[],
    }
}

fn invalid(message: impl Into<String>) -> ApiError {
    cairn_core::cloudformation::prepare::invalid(message)
}

/// `params` with each policy a URL names read into its body member, as the caller;
/// `Ok(params)` unchanged when the call names none. A URL beside its body, an object that
/// cannot be read or one over 16 KB is CloudFormation's `ValidationError`.
pub async fn read(
    s3: &CairnS3,
    info: &CallInfo,
    action: &str,
    params: &Params,
) -> Result<Params, ApiError> {
    let mut pairs: Vec<(String, String)> = params.iter().cloned().collect();
    for (url_member, body_member) in members(action) {
        let Some(url) = params.get(url_member) else {
            continue;
        };
        if params.get(body_member).is_some() {
            return Err(invalid(format!(
                "You cannot specify both {url_member} and {body_member}"
            )));
        }
        let body = template_url::fetch(s3, info, url)
            .await
            .map_err(|e| ApiError::new(e.kind, e.message.replace("TemplateURL", url_member)))?;
        if body.len() > MAX_POLICY_BYTES {
            return Err(invalid(format!(
                "{body_member} may not exceed {MAX_POLICY_BYTES} bytes in size."
            )));
        }
        pairs.push(((*body_member).to_owned(), body));
    }
    Ok(Params::from_pairs(pairs))
}
