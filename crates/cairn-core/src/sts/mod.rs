//! STS semantics (spec §6): GetCallerIdentity, AssumeRole, GetSessionToken, GetAccessKeyInfo,
//! and the temporary credentials they issue ([`session`]).

pub mod session;
mod trust;

use cairn_model::Principal;
use cairn_policy::{PolicyKind, non_whitespace_len};
use cairn_store::Connection;
use cairn_store::iam::{keys, roles, sessions};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::iam::ids::{IdKind, decode_account, new_id, new_secret};
use crate::iam::{Tag, role_trust_policy, validate};

pub use session::{SessionCredential, SessionLookup, is_temporary_key, load_session};
pub use trust::{AssumeRoleContext, evaluator_principal, trust_allows, trust_refusal};

/// GetCallerIdentity's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallerIdentity {
    /// `UserId`.
    pub user_id: String,
    /// `Account`.
    pub account: String,
    /// `Arn`.
    pub arn: String,
}

/// GetCallerIdentity (never denied).
pub fn get_caller_identity(ctx: &CallContext) -> CallerIdentity {
    CallerIdentity {
        user_id: ctx.principal.principal_id(),
        account: ctx.account().to_string(),
        arn: ctx.principal.arn(),
    }
}

/// GetAccessKeyInfo: the account an access key id belongs to (keys of this account, and any
/// key whose id embeds an account).
pub fn get_access_key_info(
    conn: &Connection,
    ctx: &CallContext,
    access_key_id: &str,
) -> ApiResult<String> {
    validate::length(access_key_id, "accessKeyId", 16, 128)?;
    if !access_key_id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        return Err(validate::violation(
            access_key_id,
            "accessKeyId",
            r"Member must satisfy regular expression pattern: [\w]*",
        ));
    }
    let ours = access_key_id == ctx.principal.access_key_id()
        || keys::get_access_key_meta(conn, access_key_id)?.is_some()
        || sessions::get_session(conn, access_key_id)?.is_some();
    if ours {
        return Ok(ctx.account().to_string());
    }
    decode_account(access_key_id).ok_or_else(|| {
        ApiError::new(
            ErrorKind::IamValidation,
            format!("The access key ID {access_key_id} is not valid."),
        )
    })
}

/// Temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The secret.
    pub secret_access_key: String,
    /// The session token.
    pub session_token: String,
    /// Expiry, epoch seconds.
    pub expiration: i64,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// AssumeRole's inputs.
#[derive(Clone, Debug, Default)]
pub struct AssumeRoleInput {
    /// `RoleArn`.
    pub role_arn: String,
    /// `RoleSessionName`.
    pub session_name: String,
    /// `DurationSeconds`.
    pub duration: Option<i64>,
    /// `Policy`.
    pub policy: Option<String>,
    /// `PolicyArns`.
    pub policy_arns: Vec<String>,
    /// `Tags`.
    pub tags: Vec<Tag>,
    /// `TransitiveTagKeys`.
    pub transitive_tag_keys: Vec<String>,
    /// `ExternalId`.
    pub external_id: Option<String>,
    /// `SerialNumber`.
    pub serial_number: Option<String>,
    /// `TokenCode`.
    pub token_code: Option<String>,
    /// `SourceIdentity`.
    pub source_identity: Option<String>,
}

/// AssumeRole's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumedRole {
    /// Credentials.
    pub credentials: Credentials,
    /// `AssumedRoleUser.AssumedRoleId` (`AROA…:<session>`).
    pub assumed_role_id: String,
    /// `AssumedRoleUser.Arn`.
    pub arn: String,
    /// The role's ARN (the event's resource).
    pub role_arn: String,
    /// `PackedPolicySize` (percent of the session-policy and tag budget), when any was given.
    pub packed_policy_size: Option<i64>,
    /// `SourceIdentity`.
    pub source_identity: Option<String>,
    /// The transitive tags inherited from the calling session (role chaining).
    pub incoming_transitive_tags: Vec<Tag>,
}

fn session_pattern(value: &str, field: &str, min: usize, max: usize, extra: &str) -> ApiResult<()> {
    validate::length(value, field, min, max)?;
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c));
    if ok {
        Ok(())
    } else {
        Err(validate::violation(
            value,
            field,
            &format!(
                "Member must satisfy regular expression pattern: [\\w{}]*",
                extra
            ),
        ))
    }
}

fn mfa_refused() -> ApiError {
    ApiError::new(
        ErrorKind::AccessDenied,
        "MultiFactorAuthentication failed with invalid MFA one time pass code.",
    )
}

/// The budget session policies and tags share (the packed size AWS reports as a percentage).
const PACKED_BUDGET: usize = 2048;

/// `inherited`: the calling session's transitive tags, which count against the packed budget
/// like the tags passed.
fn validate_assume_role(input: &AssumeRoleInput, inherited: &[Tag]) -> ApiResult<Option<i64>> {
    validate::length(&input.role_arn, "roleArn", 20, 2048)?;
    session_pattern(&input.session_name, "roleSessionName", 2, 64, "+=,.@-")?;
    if let Some(d) = input.duration {
        validate::range(d, "durationSeconds", 900, 43200)?;
    }
    if let Some(e) = &input.external_id {
        session_pattern(e, "externalId", 2, 1224, "+=,.@:/-")?;
    }
    if let Some(s) = &input.source_identity {
        session_pattern(s, "sourceIdentity", 2, 64, "+=,.@-")?;
    }
    if let Some(s) = &input.serial_number {
        session_pattern(s, "serialNumber", 9, 256, "+=/:,.@-")?;
    }
    if let Some(t) = &input.token_code {
        validate::length(t, "tokenCode", 6, 6)?;
    }
    if input.policy_arns.len() > 10 {
        return Err(validate::violation(
            "[…]",
            "policyArns",
            "Member must have length less than or equal to 10",
        ));
    }
    for a in &input.policy_arns {
        validate::length(a, "policyArns.member.arn", 20, 2048)?;
    }
    // The model bounds both lists (`tagListType`, `tagKeyListType`: at most 50), so more
    // is a ValidationError, as for PolicyArns above, not the entity-tag LimitExceeded.
    if input.tags.len() > 50 {
        return Err(validate::violation(
            "[…]",
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    validate::tags(&input.tags, 0, "TagsPerSession")?;
    if input.transitive_tag_keys.len() > 50 {
        return Err(validate::violation(
            "[…]",
            "transitiveTagKeys",
            "Member must have length less than or equal to 50",
        ));
    }
    for (i, k) in input.transitive_tag_keys.iter().enumerate() {
        let field = format!("transitiveTagKeys.{}.member", i + 1);
        validate::length(k, &field, 1, 128)?;
        if !k.chars().all(validate::tag_char) {
            return Err(validate::violation(
                k,
                &field,
                r"Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+",
            ));
        }
    }
    let mut packed = 0usize;
    if let Some(p) = &input.policy {
        validate::document_text(p, "policy")?;
        cairn_policy::Document::parse(p, PolicyKind::Identity)
            .map_err(|m| ApiError::new(ErrorKind::MalformedPolicyDocument, m.message()))?;
        packed += non_whitespace_len(p);
    }
    packed += input.policy_arns.iter().map(|a| a.len()).sum::<usize>();
    packed += input
        .tags
        .iter()
        .chain(inherited)
        .map(|(k, v)| k.len() + v.len())
        .sum::<usize>();
    if input.policy.is_none()
        && input.policy_arns.is_empty()
        && input.tags.is_empty()
        && inherited.is_empty()
    {
        return Ok(None);
    }
    let percent = (packed * 100).div_ceil(PACKED_BUDGET) as i64;
    if percent > 100 {
        return Err(ApiError::new(
            ErrorKind::PackedPolicyTooLarge,
            format!(
                "Packed policy consumes {percent}% of allotted space, please use smaller policy."
            ),
        ));
    }
    Ok(Some(percent))
}

/// AssumeRole's AccessDenied, naming the action refused (`sts:AssumeRole`, `sts:TagSession`
/// or `sts:SetSourceIdentity`).
fn denied(ctx: &CallContext, action: &str, role_arn: &str) -> ApiError {
    ApiError::new(
        ErrorKind::AccessDenied,
        format!(
            "User: {} is not authorized to perform: {action} on resource: {role_arn}",
            ctx.principal.arn()
        ),
    )
}

/// The tags a session passes on to the sessions it assumes (its transitive ones), with the
/// transitive keys as the session stores them.
fn transitive_tags(s: &sessions::Session) -> Vec<Tag> {
    s.tags
        .iter()
        .filter(|(k, _)| {
            s.transitive_tag_keys
                .iter()
                .any(|t| t.eq_ignore_ascii_case(k))
        })
        .cloned()
        .collect()
}

/// The source identity of the role session `ctx` calls with, which a role it assumes
/// inherits (`None` for any other caller, or a session without one).
pub fn caller_source_identity(conn: &Connection, ctx: &CallContext) -> ApiResult<Option<String>> {
    Ok(match &ctx.principal {
        Principal::AssumedRole { access_key_id, .. } => {
            sessions::get_session(conn, access_key_id)?.and_then(|s| s.source_identity)
        }
        _ => None,
    })
}

/// AssumeRole: the role must exist and its trust policy must allow the caller; issues
/// credentials for `DurationSeconds` (default 3600, at most the role's MaxSessionDuration, at
/// most an hour when a role session assumes a role) and records `RoleLastUsed`.
pub fn assume_role(
    conn: &Connection,
    ctx: &CallContext,
    input: &AssumeRoleInput,
) -> ApiResult<AssumedRole> {
    // The calling session, when a role session assumes a role (role chaining): its source
    // identity and transitive tags pass on to the new session.
    let caller = match &ctx.principal {
        Principal::AssumedRole { access_key_id, .. } => sessions::get_session(conn, access_key_id)?,
        _ => None,
    };
    let inherited_tags = caller.as_ref().map(transitive_tags).unwrap_or_default();
    let packed_policy_size = validate_assume_role(input, &inherited_tags)?;
    // STS AssumeRole `Tags`: "If you pass a session tag with the same key as an inherited tag,
    // the operation fails." (AWS's exact code and text are unconfirmed.)
    if let Some((key, _)) = input.tags.iter().find(|(k, _)| {
        inherited_tags
            .iter()
            .any(|(i, _)| i.eq_ignore_ascii_case(k))
    }) {
        return Err(ApiError::new(
            ErrorKind::CwInvalidParameterValue,
            format!(
                "The session tag {key} has the same key as a transitive tag inherited from the calling session; inherited tags cannot be overridden."
            ),
        ));
    }
    // A transitive key must be one of the tags passed (STS's InvalidParameterValue, as
    // LocalStack and SDK tests quote it).
    if input
        .transitive_tag_keys
        .iter()
        .any(|t| !input.tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(t)))
    {
        return Err(ApiError::new(
            ErrorKind::CwInvalidParameterValue,
            "The specified transitive tag key must be included in the requested tags.",
        ));
    }
    if matches!(ctx.principal, Principal::Root { .. }) {
        return Err(ApiError::new(
            ErrorKind::AccessDenied,
            "Roles may not be assumed by root accounts.",
        ));
    }
    let account = ctx.account().as_str();
    let trust = role_trust_policy(conn, account, &input.role_arn)?
        .ok_or_else(|| denied(ctx, "sts:AssumeRole", &input.role_arn))?;
    if input.serial_number.is_some() || input.token_code.is_some() {
        // Cairn has no MFA devices, so no code can verify.
        return Err(mfa_refused());
    }
    // A source identity, once set, stays with every session chained from it (IAM user guide:
    // it cannot be changed during the role session).
    let inherited = caller.as_ref().and_then(|s| s.source_identity.clone());
    if let (Some(old), Some(new)) = (&inherited, &input.source_identity)
        && old != new
    {
        return Err(ApiError::new(
            ErrorKind::AccessDenied,
            format!(
                "User: {} is not authorized to change the source identity {old} of its session",
                ctx.principal.arn()
            ),
        ));
    }
    let source_identity = input.source_identity.clone().or(inherited);
    let trust_ctx = AssumeRoleContext {
        external_id: input.external_id.as_deref(),
        session_name: &input.session_name,
        source_identity: source_identity.as_deref(),
        tags: &input.tags,
        transitive_tag_keys: &input.transitive_tag_keys,
    };
    if let Some(action) = trust_refusal(conn, ctx, &trust, &trust_ctx, &inherited_tags)? {
        return Err(denied(ctx, action, &input.role_arn));
    }
    let duration = input.duration.unwrap_or(3600);
    if duration > trust.max_session {
        return Err(ApiError::new(
            ErrorKind::IamValidation,
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    if matches!(ctx.principal, Principal::AssumedRole { .. }) && duration > 3600 {
        return Err(ApiError::new(
            ErrorKind::IamValidation,
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    let access_key_id = new_id(IdKind::TemporaryKey, ctx.account());
    let credentials = issue(
        conn,
        sessions::Session {
            access_key_id: access_key_id.clone(),
            account: account.to_owned(),
            secret: new_secret(),
            token_hash: String::new(),
            kind: sessions::SessionKind::Role,
            subject_id: trust.role_id.clone(),
            subject_name: trust.role_name.clone(),
            subject_path: trust.role_path.clone(),
            session_name: Some(input.session_name.clone()),
            issued: ctx.now.floor(),
            expires: ctx.now.floor() + duration as f64,
            mfa: false,
            policy: input.policy.clone(),
            policy_arns: input.policy_arns.clone(),
            // Inherited transitive tags stay session tags, and stay transitive, in every
            // further hop (IAM user guide, "Chaining roles with session tags").
            tags: inherited_tags.iter().chain(&input.tags).cloned().collect(),
            transitive_tag_keys: inherited_tags
                .iter()
                .map(|(k, _)| k.clone())
                .chain(input.transitive_tag_keys.iter().cloned())
                .collect(),
            source_identity: source_identity.clone(),
        },
    )?;
    roles::record_role_used(conn, &trust.role_id, ctx.now.floor(), ctx.region.as_str())?;
    Ok(AssumedRole {
        credentials,
        assumed_role_id: format!("{}:{}", trust.role_id, input.session_name),
        arn: format!(
            "arn:aws:sts::{account}:assumed-role/{}/{}",
            trust.role_name, input.session_name
        ),
        role_arn: trust.role_arn,
        packed_policy_size,
        source_identity,
        incoming_transitive_tags: inherited_tags,
    })
}

fn issue(conn: &Connection, mut s: sessions::Session) -> ApiResult<Credentials> {
    let (token, hash) = session::new_token(conn, &s.access_key_id)?;
    s.token_hash = hash;
    sessions::insert_session(conn, &s)?;
    Ok(Credentials {
        access_key_id: s.access_key_id,
        secret_access_key: s.secret,
        session_token: token,
        expiration: s.expires.floor() as i64,
    })
}

/// GetSessionToken: temporary credentials acting as the calling user (or root). Refused for
/// calls already made with temporary credentials.
pub fn get_session_token(
    conn: &Connection,
    ctx: &CallContext,
    duration: Option<i64>,
    serial_number: Option<&str>,
    token_code: Option<&str>,
) -> ApiResult<Credentials> {
    if let Some(d) = duration {
        validate::range(d, "durationSeconds", 900, 129_600)?;
    }
    if let Some(s) = serial_number {
        session_pattern(s, "serialNumber", 9, 256, "+=/:,.@-")?;
    }
    if let Some(t) = token_code {
        validate::length(t, "tokenCode", 6, 6)?;
    }
    if ctx.principal.session().is_some() {
        return Err(ApiError::new(
            ErrorKind::AccessDenied,
            "Cannot call GetSessionToken with session credentials",
        ));
    }
    if serial_number.is_some() || token_code.is_some() {
        return Err(mfa_refused());
    }
    let (kind, subject_id, subject_name, subject_path, duration) = match &ctx.principal {
        Principal::Root { account, .. } => (
            sessions::SessionKind::Root,
            account.to_string(),
            String::new(),
            String::new(),
            duration.unwrap_or(3600).min(3600),
        ),
        Principal::IamUser {
            user_id,
            user_name,
            path,
            ..
        } => (
            sessions::SessionKind::User,
            user_id.clone(),
            user_name.clone(),
            path.clone(),
            duration.unwrap_or(43_200),
        ),
        Principal::AssumedRole { .. }
        | Principal::Service { .. }
        | Principal::Anonymous { .. }
        | Principal::Federated { .. } => {
            return Err(ApiError::new(
                ErrorKind::AccessDenied,
                "Cannot call GetSessionToken with session credentials",
            ));
        }
    };
    issue(
        conn,
        sessions::Session {
            access_key_id: new_id(IdKind::TemporaryKey, ctx.account()),
            account: ctx.account().to_string(),
            secret: new_secret(),
            token_hash: String::new(),
            kind,
            subject_id,
            subject_name,
            subject_path,
            session_name: None,
            issued: ctx.now.floor(),
            expires: ctx.now.floor() + duration as f64,
            mfa: false,
            policy: None,
            policy_arns: Vec::new(),
            tags: Vec::new(),
            transitive_tag_keys: Vec::new(),
            source_identity: None,
        },
    )
}

/// AWS's rule for `GetSessionToken` credentials: without MFA they may not call IAM, and of
/// STS only AssumeRole and GetCallerIdentity. `Some(message)` when `action` (e.g.
/// `iam:ListUsers`) is refused for this caller. IAM's edge answers such calls as AWS does,
/// with `InvalidClientTokenId` ("The security token included in the request is invalid")
/// before anything runs; STS refuses with this AccessDenied message (AWS's exact text for the
/// STS case is unconfirmed).
pub fn session_token_restriction(principal: &Principal, action: &str) -> Option<String> {
    let from_session_token = matches!(
        principal,
        Principal::IamUser { session: Some(s), .. } | Principal::Root { session: Some(s), .. } if !s.mfa
    );
    if !from_session_token {
        return None;
    }
    let (service, name) = action.split_once(':')?;
    let refused = match service {
        "iam" => true,
        // GetSessionToken answers its own message ("Cannot call GetSessionToken with session
        // credentials").
        "sts" => !matches!(name, "AssumeRole" | "GetCallerIdentity" | "GetSessionToken"),
        _ => false,
    };
    refused.then(|| {
        format!(
            "User: {} is not authorized to perform: {action} because no session policy allows the {action} action",
            principal.arn()
        )
    })
}
