//! What the evaluator needs to know about a caller: every policy that bears on its requests,
//! with where each comes from, and a role's trust policy.

use cairn_model::Principal;
use cairn_policy::PolicySource;
use cairn_store::Connection;
use cairn_store::StoreResult;
use cairn_store::iam::{groups, inline, policies, roles, sessions, users};

/// One policy document with its origin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyDoc {
    /// Origin (SimulatePolicy's `SourcePolicyType` comes from it).
    pub source: PolicySource,
    /// Managed policy ARN, or inline policy name.
    pub id: String,
    /// For inline policies: the user, group or role that holds it.
    pub owner: Option<String>,
    /// Default version id of a managed policy.
    pub version_id: Option<String>,
    /// The document text as stored.
    pub document: String,
}

/// Every policy that bears on a principal's requests (spec §4.8 step 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PrincipalPolicies {
    /// Users: own inline and attached policies, then each group's (in membership order).
    /// Role sessions: the role's inline and attached policies. Root: none.
    pub identity: Vec<PolicyDoc>,
    /// Session policies of a role session created with `Policy`/`PolicyArns` (`None` when
    /// the session has none: they only restrict when present).
    pub session: Option<Vec<PolicyDoc>>,
    /// The user's or role's permissions boundary.
    pub boundary: Option<PolicyDoc>,
}

/// The document of a managed policy (customer: default version; AWS: the catalogue's).
pub(crate) fn managed_doc(
    conn: &Connection,
    arn: &str,
    source_hint: Option<PolicySource>,
) -> StoreResult<Option<PolicyDoc>> {
    if let Some(p) = cairn_policy::managed::get(arn) {
        return Ok(Some(PolicyDoc {
            source: source_hint.unwrap_or(PolicySource::AwsManaged),
            id: p.arn.to_owned(),
            owner: None,
            version_id: Some(p.default_version_id.to_owned()),
            document: p.document.to_owned(),
        }));
    }
    let Some(p) = policies::get_policy(conn, arn)? else {
        return Ok(None);
    };
    Ok(
        policies::get_version(conn, &p.policy_id, &p.default_version)?.map(|v| PolicyDoc {
            source: source_hint.unwrap_or(PolicySource::CustomerManaged),
            id: p.arn,
            owner: None,
            version_id: Some(v.version_id),
            document: v.document,
        }),
    )
}

fn owned_docs(
    conn: &Connection,
    owner_id: &str,
    owner_name: &str,
    inline_source: PolicySource,
    out: &mut Vec<PolicyDoc>,
) -> StoreResult<()> {
    for (name, document) in inline::list_inline(conn, owner_id)? {
        out.push(PolicyDoc {
            source: inline_source,
            id: name,
            owner: Some(owner_name.to_owned()),
            version_id: None,
            document,
        });
    }
    for arn in policies::attached(conn, owner_id)? {
        if let Some(doc) = managed_doc(conn, &arn, None)? {
            out.push(doc);
        }
    }
    Ok(())
}

fn boundary_doc(conn: &Connection, arn: Option<&str>) -> StoreResult<Option<PolicyDoc>> {
    match arn {
        None => Ok(None),
        Some(a) => managed_doc(conn, a, Some(PolicySource::PermissionsBoundary)),
    }
}

/// The policies of a user (by id): its own, its groups', its boundary.
pub(crate) fn user_policies(conn: &Connection, user_id: &str) -> StoreResult<PrincipalPolicies> {
    let mut out = PrincipalPolicies::default();
    let Some(user) = users::get_user_by_id(conn, user_id)? else {
        return Ok(out);
    };
    owned_docs(
        conn,
        &user.user_id,
        &user.name,
        PolicySource::UserInline,
        &mut out.identity,
    )?;
    for g in groups::groups_for_user(conn, &user.user_id)? {
        owned_docs(
            conn,
            &g.group_id,
            &g.name,
            PolicySource::GroupInline,
            &mut out.identity,
        )?;
    }
    out.boundary = boundary_doc(conn, user.boundary.as_deref())?;
    Ok(out)
}

/// The policies of a role (by id), without session policies.
pub(crate) fn role_policies(conn: &Connection, role_id: &str) -> StoreResult<PrincipalPolicies> {
    let mut out = PrincipalPolicies::default();
    let Some(role) = roles::get_role_by_id(conn, role_id)? else {
        return Ok(out);
    };
    owned_docs(
        conn,
        &role.role_id,
        &role.name,
        PolicySource::RoleInline,
        &mut out.identity,
    )?;
    out.boundary = boundary_doc(conn, role.boundary.as_deref())?;
    Ok(out)
}

/// Every policy that bears on `principal`'s requests: for users their inline and attached
/// managed policies (default versions) and each group's; for role sessions the role's, plus
/// the session policies and the role's permissions boundary. Root has none. A deleted user
/// or role has none (its sessions keep authenticating until they expire, with no
/// permissions).
pub fn principal_policies(
    conn: &Connection,
    principal: &Principal,
) -> StoreResult<PrincipalPolicies> {
    match principal {
        Principal::Root { .. }
        | Principal::Service { .. }
        | Principal::Anonymous { .. }
        | Principal::Federated { .. } => Ok(PrincipalPolicies::default()),
        Principal::IamUser { user_id, .. } => user_policies(conn, user_id),
        Principal::AssumedRole {
            role_id,
            access_key_id,
            ..
        } => {
            let mut out = role_policies(conn, role_id)?;
            if let Some(s) = sessions::get_session(conn, access_key_id)?
                && (s.policy.is_some() || !s.policy_arns.is_empty())
            {
                let mut docs = Vec::new();
                if let Some(text) = s.policy {
                    docs.push(PolicyDoc {
                        source: PolicySource::Session,
                        id: "SessionPolicy".to_owned(),
                        owner: None,
                        version_id: None,
                        document: text,
                    });
                }
                for arn in &s.policy_arns {
                    if let Some(mut d) = managed_doc(conn, arn, None)? {
                        d.source = PolicySource::Session;
                        docs.push(d);
                    }
                }
                out.session = Some(docs);
            }
            Ok(out)
        }
    }
}

/// A role's trust policy with the role's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPolicy {
    /// Role unique id (`AROA…`).
    pub role_id: String,
    /// Role name.
    pub role_name: String,
    /// Role path.
    pub role_path: String,
    /// Role ARN (with path).
    pub role_arn: String,
    /// The trust policy text.
    pub document: String,
    /// The role's `MaxSessionDuration`.
    pub max_session: i64,
}

/// The role an ARN names in `account` (`arn:aws:iam::<account>:role<path><name>`, path and
/// name as stored; the name matched case-insensitively), with its trust policy.
pub fn role_trust_policy(
    conn: &Connection,
    account: &str,
    role_arn: &str,
) -> StoreResult<Option<TrustPolicy>> {
    let Some(rest) = role_arn.strip_prefix(&format!("arn:aws:iam::{account}:role")) else {
        return Ok(None);
    };
    let Some((path, name)) = rest.rsplit_once('/') else {
        return Ok(None);
    };
    let path = format!("{path}/");
    let Some(role) = roles::get_role(conn, account, name)? else {
        return Ok(None);
    };
    if role.path != path {
        return Ok(None);
    }
    Ok(Some(TrustPolicy {
        role_arn: super::role_arn(&role),
        role_id: role.role_id,
        role_name: role.name,
        role_path: role.path,
        document: role.trust_policy,
        max_session: role.max_session,
    }))
}

/// The principal's tags, for `aws:PrincipalTag/<key>`: an IAM user's tags, or an assumed
/// role's tags with the session's tags in place of any of the same key (case-insensitive).
pub fn principal_tags(
    conn: &Connection,
    principal: &Principal,
) -> StoreResult<Vec<(String, String)>> {
    match principal {
        Principal::IamUser { user_id, .. } => cairn_store::iam::tags::tags(conn, user_id),
        Principal::AssumedRole {
            role_id,
            access_key_id,
            ..
        } => {
            let mut tags = cairn_store::iam::tags::tags(conn, role_id)?;
            if let Some(s) = sessions::get_session(conn, access_key_id)? {
                for (k, v) in s.tags {
                    tags.retain(|(old, _)| !old.eq_ignore_ascii_case(&k));
                    tags.push((k, v));
                }
            }
            Ok(tags)
        }
        _ => Ok(Vec::new()),
    }
}
