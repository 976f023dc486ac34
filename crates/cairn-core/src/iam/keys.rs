//! Access keys: CreateAccessKey (at most 2 per user), ListAccessKeys, UpdateAccessKey (an
//! inactive key stops authenticating at once: the change bumps the IAM generation, which drops
//! the credential cache) and DeleteAccessKey.

use cairn_model::Principal;
use cairn_store::Connection;
use cairn_store::iam::{keys, users};

use super::ids::{IdKind, new_id, new_secret};
use super::{EntityKind, Page, PageRequest, err, find_user, not_found, validate};
use crate::CallContext;
use crate::error::{ApiResult, ErrorKind};

/// Access keys per user.
pub const KEYS_PER_USER: usize = 2;

/// A new key, the only time its secret is shown.
#[derive(Clone, PartialEq)]
pub struct NewAccessKey {
    /// Owner.
    pub user_name: String,
    /// The key.
    pub key: keys::AccessKey,
}

impl std::fmt::Debug for NewAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccessKey")
            .field("user_name", &self.user_name)
            .field("key", &self.key)
            .finish()
    }
}

/// A key's metadata with its owner's name.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyInfo {
    /// Owner.
    pub user_name: String,
    /// The metadata.
    pub meta: keys::AccessKeyMeta,
}

/// The user an access-key call is about: the named one, or the calling user.
fn target_user(conn: &Connection, ctx: &CallContext, name: Option<&str>) -> ApiResult<users::User> {
    match (name, &ctx.principal) {
        (Some(n), _) => find_user(conn, ctx, n),
        (
            None,
            Principal::IamUser {
                user_id, user_name, ..
            },
        ) => users::get_user_by_id(conn, user_id)?
            .ok_or_else(|| not_found(EntityKind::User, user_name)),
        (None, Principal::Root { .. }) => Err(err(
            ErrorKind::IamValidation,
            "Root access keys are set in Cairn's configuration; specify userName.",
        )),
        (
            None,
            Principal::AssumedRole { .. }
            | Principal::Service { .. }
            | Principal::Anonymous { .. }
            | Principal::Federated { .. },
        ) => Err(err(
            ErrorKind::IamValidation,
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

/// CreateAccessKey.
pub fn create_access_key(
    conn: &Connection,
    ctx: &CallContext,
    name: Option<&str>,
) -> ApiResult<NewAccessKey> {
    let user = target_user(conn, ctx, name)?;
    if keys::list_access_keys(conn, &user.user_id)?.len() >= KEYS_PER_USER {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!("Cannot exceed quota for AccessKeysPerUser: {KEYS_PER_USER}"),
        ));
    }
    let key = keys::AccessKey {
        access_key_id: new_id(IdKind::AccessKey, ctx.account()),
        secret: new_secret(),
        account: user.account.clone(),
        user_id: user.user_id.clone(),
        status: "Active".to_owned(),
        created: ctx.now.floor(),
    };
    keys::insert_access_key(conn, &key)?;
    Ok(NewAccessKey {
        user_name: user.name,
        key,
    })
}

/// ListAccessKeys.
pub fn list_access_keys(
    conn: &Connection,
    ctx: &CallContext,
    name: Option<&str>,
    page: &PageRequest,
) -> ApiResult<Page<KeyInfo>> {
    // The root user calling without a user name lists its own key (the ListAccessKeys
    // reference: root "returns its own access key IDs"); it has no user name.
    if let (None, Principal::Root { .. }) = (name, &ctx.principal) {
        let root = cairn_store::iam::report::root_key(conn)?
            .map(|(id, since)| KeyInfo {
                user_name: String::new(),
                meta: keys::AccessKeyMeta {
                    access_key_id: id,
                    user_id: String::new(),
                    status: "Active".to_owned(),
                    created: since,
                },
            })
            .into_iter()
            .collect();
        return page.apply_keyed(root, |k: &KeyInfo| {
            crate::token::Keyset(vec![k.meta.access_key_id.clone()])
        });
    }
    let user = target_user(conn, ctx, name)?;
    let list = keys::list_access_keys(conn, &user.user_id)?
        .into_iter()
        .map(|meta| KeyInfo {
            user_name: user.name.clone(),
            meta,
        })
        .collect();
    // The store's order: creation time, then key id.
    page.apply_keyed(list, |k: &KeyInfo| {
        crate::token::Keyset(vec![
            format!("{:020.6}", k.meta.created.max(0.0)),
            k.meta.access_key_id.clone(),
        ])
    })
}

fn owned_key(
    conn: &Connection,
    ctx: &CallContext,
    name: Option<&str>,
    access_key_id: &str,
) -> ApiResult<keys::AccessKeyMeta> {
    validate::length(access_key_id, "accessKeyId", 16, 128)?;
    let user = target_user(conn, ctx, name)?;
    keys::get_access_key_meta(conn, access_key_id)?
        .filter(|k| k.user_id == user.user_id)
        .ok_or_else(|| {
            err(
                ErrorKind::NoSuchEntity,
                format!("The Access Key with id {access_key_id} cannot be found."),
            )
        })
}

/// UpdateAccessKey (`Active` / `Inactive`).
pub fn update_access_key(
    conn: &Connection,
    ctx: &CallContext,
    name: Option<&str>,
    access_key_id: &str,
    status: &str,
) -> ApiResult<()> {
    validate::key_status(status)?;
    let key = owned_key(conn, ctx, name, access_key_id)?;
    keys::set_access_key_status(conn, &key.access_key_id, status)?;
    if status == "Inactive" {
        // A deactivated key ends its console sessions: reactivating it does not revive them.
        cairn_store::console::delete_for_key(conn, &key.access_key_id)?;
    }
    Ok(())
}

/// DeleteAccessKey.
pub fn delete_access_key(
    conn: &Connection,
    ctx: &CallContext,
    name: Option<&str>,
    access_key_id: &str,
) -> ApiResult<()> {
    let key = owned_key(conn, ctx, name, access_key_id)?;
    keys::delete_access_key(conn, &key.access_key_id)?;
    cairn_store::console::delete_for_key(conn, &key.access_key_id)?;
    Ok(())
}

/// When and where a key was last used, from the event log.
#[derive(Clone, Debug, PartialEq)]
pub struct LastUsed {
    /// The key's user.
    pub user_name: String,
    /// Epoch seconds, service name (`s3`, `iam`, …) and region of the newest recorded call
    /// signed with the key; `None` when none is recorded.
    pub last: Option<(i64, String, String)>,
}

/// GetAccessKeyLastUsed: the newest call made with the key, in any region: the newest one the
/// event log keeps, or a newer use the server noted for a call it records no event of (an
/// unselected data event, PutLogEvents, Publish; written a few seconds after the call). A key
/// of another account, or none, is `NoSuchEntity`.
pub fn last_used(conn: &Connection, ctx: &CallContext, access_key_id: &str) -> ApiResult<LastUsed> {
    validate::length(access_key_id, "accessKeyId", 16, 128)?;
    let missing = || {
        err(
            ErrorKind::NoSuchEntity,
            format!("The Access Key with id {access_key_id} cannot be found."),
        )
    };
    // The root user's key (set in the server's configuration) has no user name.
    if cairn_store::iam::report::root_key(conn)?.is_some_and(|(id, _)| id == access_key_id) {
        return Ok(LastUsed {
            user_name: String::new(),
            last: newest_use(conn, ctx.account().as_str(), access_key_id)?,
        });
    }
    let key = keys::get_access_key_meta(conn, access_key_id)?.ok_or_else(missing)?;
    let user = users::get_user_by_id(conn, &key.user_id)?
        .filter(|u| u.account == ctx.account().as_str())
        .ok_or_else(missing)?;
    Ok(LastUsed {
        user_name: user.name,
        last: newest_use(conn, &user.account, access_key_id)?,
    })
}

/// The newest call signed with an access key in an account, in any region: epoch seconds,
/// service name (`s3`, `iam`, …) and region. A call a service made for the key's owner
/// (`invokedBy`: S3's KMS calls, a stack's calls) was not signed with the key, so it is not
/// its use.
pub fn newest_use(
    conn: &Connection,
    account: &str,
    access_key_id: &str,
) -> ApiResult<Option<(i64, String, String)>> {
    use cairn_store::events::{LookupFilter, LookupQuery, lookup};
    let filter = LookupFilter::AccessKeyId(access_key_id.to_owned());
    let mut newest: Option<(i64, i64, String, String)> = None;
    for region in cairn_model::KNOWN_REGIONS {
        for category in ["Management", "Data"] {
            let found = lookup(
                conn,
                &LookupQuery {
                    account,
                    region,
                    category,
                    filter: &filter,
                    start: 0,
                    end: i64::MAX,
                    after: None,
                    limit: 20,
                },
            )?;
            let signed = found.into_iter().find(|e| {
                serde_json::from_str::<serde_json::Value>(&e.record)
                    .ok()
                    .is_some_and(|r| r.pointer("/userIdentity/invokedBy").is_none())
            });
            if let Some(e) = signed
                && newest
                    .as_ref()
                    .is_none_or(|n| (e.event_time, e.seq) > (n.0, n.1))
            {
                let service = e
                    .event_source
                    .strip_suffix(".amazonaws.com")
                    .unwrap_or(&e.event_source)
                    .to_owned();
                newest = Some((e.event_time, e.seq, service, (*region).to_owned()));
            }
        }
    }
    let recorded = newest.map(|(t, _, s, r)| (t, s, r));
    // Calls the event log does not keep (unselected data events, PutLogEvents, Publish, …)
    // are noted apart; the newer of the two is the key's last use.
    let noted = cairn_store::iam::key_use::last(conn, access_key_id)?;
    Ok(match (recorded, noted) {
        (Some(r), Some(n)) => Some(if n.0 >= r.0 { n } else { r }),
        (r, n) => r.or(n),
    })
}
