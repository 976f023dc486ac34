//! What Cairn keeps no record of, answered as AWS answers an account that has none: users'
//! MFA devices, SSH public keys, signing certificates and service-specific credentials, virtual
//! MFA devices, instance profiles, server certificates and identity providers are empty
//! lists; a login profile is `NoSuchEntity`. Tools that inventory an account or clean up
//! a user before deleting it (Terraform's `force_destroy`) call these. Also
//! GetAccessKeyLastUsed, read from the event log.

use cairn_core::ApiError;
use cairn_core::ErrorKind;
use cairn_core::iam::users::{self, GetUserResult};

use super::input::Input;
use super::xml::{self, el};
use super::{Call, Reply, Target};

/// An empty page of `member` elements in `list`.
fn none(list: &str) -> Reply {
    Reply::xml(format!("<{list}/><IsTruncated>false</IsTruncated>"))
}

/// The user a call names (`None`: the caller), which must exist.
fn user_of(
    c: &cairn_store::Connection,
    ctx: &cairn_core::CallContext,
    name: Option<&str>,
) -> cairn_core::error::ApiResult<String> {
    Ok(match users::get_user(c, ctx, name)? {
        GetUserResult::User(info) => info.user.name,
        GetUserResult::Root { account, .. } => account,
    })
}

/// An empty account-wide listing, after its `PathPrefix` and paging members are checked as
/// ListUsers checks them.
fn account_wide(p: Input, list: &'static str) -> Call {
    Call::read(Target::Any, move |c, _| {
        if let Some(prefix) = p.opt("PathPrefix") {
            cairn_core::iam::validate::path_prefix(&prefix, "pathPrefix")?;
        }
        // Nothing to list, but a marker must still be one this server issued.
        p.page(c)?.apply(Vec::<String>::new(), String::clone)?;
        Ok(none(list))
    })
}

pub(super) fn call(action: &str, p: &Input) -> Option<Call> {
    let p = p.clone();
    let name = p.opt("UserName");
    let per_user = |list: &'static str| {
        let p = p.clone();
        Call::read(Target::Entity("user", name.clone()), move |c, ctx| {
            user_of(c, ctx, p.opt("UserName").as_deref())?;
            p.page(c)?;
            Ok(none(list))
        })
    };
    Some(match action {
        "ListMFADevices" => per_user("MFADevices"),
        "ListSSHPublicKeys" => per_user("SSHPublicKeys"),
        "ListSigningCertificates" => per_user("Certificates"),
        "ListServiceSpecificCredentials" => {
            Call::read(Target::Entity("user", name), move |c, ctx| {
                user_of(c, ctx, p.opt("UserName").as_deref())?;
                Ok(none("ServiceSpecificCredentials"))
            })
        }
        "ListVirtualMFADevices" => Call::read(Target::Any, move |c, _| {
            p.page(c)?;
            Ok(none("VirtualMFADevices"))
        }),
        "ListInstanceProfiles" => account_wide(p, "InstanceProfiles"),
        "ListServerCertificates" => account_wide(p, "ServerCertificateMetadataList"),
        "ListOpenIDConnectProviders" => Call::read(Target::Any, |_, _| {
            Ok(Reply::xml("<OpenIDConnectProviderList/>".to_owned()))
        }),
        "ListSAMLProviders" => Call::read(Target::Any, |_, _| {
            Ok(Reply::xml("<SAMLProviderList/>".to_owned()))
        }),
        "GetLoginProfile" => Call::read(Target::Entity("user", name), move |c, ctx| {
            let user = user_of(c, ctx, p.opt("UserName").as_deref())?;
            Err(ApiError::new(
                ErrorKind::NoSuchEntity,
                format!("Login Profile for User {user} cannot be found."),
            ))
        }),
        "GetAccessKeyLastUsed" => {
            let key = p.opt("AccessKeyId").unwrap_or_default();
            Call::read(Target::KeyOwner(key), move |c, ctx| {
                let id = p.req("AccessKeyId", "accessKeyId")?;
                let used = cairn_core::iam::keys::last_used(c, ctx, &id)?;
                // A key never used reports `N/A` for its service and region (AWS's answer).
                let last = match &used.last {
                    Some((t, service, region)) => format!(
                        "{}{}{}",
                        el("LastUsedDate", &xml::date(*t as f64)),
                        el("ServiceName", service),
                        el("Region", region)
                    ),
                    None => format!("{}{}", el("ServiceName", "N/A"), el("Region", "N/A")),
                };
                // The root user's key has no user name.
                let owner = Some(used.user_name.as_str()).filter(|n| !n.is_empty());
                Ok(Reply::xml(format!(
                    "{}<AccessKeyLastUsed>{last}</AccessKeyLastUsed>",
                    xml::opt("UserName", owner)
                )))
            })
        }
        _ => return None,
    })
}
