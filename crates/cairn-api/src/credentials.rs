//! The credential cache: access key id → secret and principal, held in memory so that
//! authenticating a request never blocks a runtime thread on the store.
//!
//! Root's key is checked in constant time without the store. IAM users' long-term keys and
//! STS temporary keys (`ASIA…` with their session token) are read once from the store (on the
//! blocking pool) and cached. A temporary key is accepted only with its own session token,
//! and only before its expiry, which is compared with the request's signing time on every
//! request, cached or not.
//!
//! Every IAM change increments the store's IAM generation in the same transaction; changes
//! made through this server drop the cache at once ([`CredentialCache::invalidate`]), and
//! [`CredentialCache::poll`] notices changes made by another process on the same data dir
//! (the `cairn iam` admin commands).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use cairn_core::sts::{self, SessionLookup};
use cairn_model::{AccountId, Principal};
use cairn_store::{Store, iam};
use subtle::ConstantTimeEq;

use crate::auth::{AuthFailure, RootCredentials};

/// A key's secret and whose it is.
pub struct ResolvedKey {
    /// The secret access key (never logged).
    pub secret: String,
    /// The principal the key authenticates.
    pub principal: Principal,
    /// For temporary keys: SHA-256 of the session token, and the expiry (epoch seconds).
    session: Option<([u8; 32], i64)>,
}

impl std::fmt::Debug for ResolvedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedKey")
            .field("principal", &self.principal)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The cache. Cheap to share behind an `Arc`.
pub struct CredentialCache {
    store: Store,
    account: AccountId,
    root: Arc<ResolvedKey>,
    root_key_id: String,
    keys: RwLock<HashMap<String, Arc<ResolvedKey>>>,
    generation: AtomicI64,
}

impl CredentialCache {
    /// A cache over `store` for the account whose root keys are `root`.
    pub fn new(store: Store, account: AccountId, root: &RootCredentials) -> Self {
        let root_principal = Principal::Root {
            account: account.clone(),
            access_key_id: root.access_key_id.clone(),
            session: None,
        };
        Self {
            store,
            account,
            root: Arc::new(ResolvedKey {
                secret: root.secret_access_key.clone(),
                principal: root_principal,
                session: None,
            }),
            root_key_id: root.access_key_id.clone(),
            keys: RwLock::new(HashMap::new()),
            generation: AtomicI64::new(-1),
        }
    }

    fn cached(&self, access_key_id: &str) -> Option<Arc<ResolvedKey>> {
        self.keys
            .read()
            .expect("credential cache lock")
            .get(access_key_id)
            .cloned()
    }

    fn remember(&self, access_key_id: String, key: Arc<ResolvedKey>) {
        self.keys
            .write()
            .expect("credential cache lock")
            .insert(access_key_id, key);
    }

    /// The secret and principal of an active long-term key (root's or an IAM user's), or
    /// `None` for unknown, inactive and temporary keys (those need their token:
    /// [`CredentialCache::resolve`]).
    pub async fn lookup(&self, access_key_id: &str) -> Option<Arc<ResolvedKey>> {
        if bool::from(access_key_id.as_bytes().ct_eq(self.root_key_id.as_bytes())) {
            return Some(self.root.clone());
        }
        if let Some(hit) = self.cached(access_key_id) {
            return hit.session.is_none().then_some(hit);
        }
        let id = access_key_id.to_owned();
        let (key, user) = self
            .store
            .read(move |c| iam::get_access_key(c, &id))
            .await
            .ok()??;
        if key.status != "Active" {
            return None;
        }
        let account = AccountId::parse(&key.account).ok()?;
        if account != self.account {
            return None;
        }
        let resolved = Arc::new(ResolvedKey {
            secret: key.secret,
            principal: Principal::IamUser {
                account,
                user_name: user.name,
                user_id: user.user_id,
                path: user.path,
                access_key_id: key.access_key_id.clone(),
                session: None,
            },
            session: None,
        });
        self.remember(key.access_key_id, resolved.clone());
        Some(resolved)
    }

    /// Resolves the key a request was signed with, and its session token when it carries one
    /// (`X-Amz-Security-Token`). `at` is the request's signing time (epoch seconds), which a
    /// temporary key's expiry is compared with.
    pub async fn resolve(
        &self,
        access_key_id: &str,
        token: Option<&str>,
        at: i64,
    ) -> Result<Arc<ResolvedKey>, AuthFailure> {
        let Some(token) = token else {
            return match self.lookup(access_key_id).await {
                Some(k) => Ok(k),
                None if sts::is_temporary_key(access_key_id) => Err(AuthFailure::InvalidToken),
                None => Err(AuthFailure::UnknownKey),
            };
        };
        if !sts::is_temporary_key(access_key_id) {
            // A token with a long-term key is not that key's.
            return Err(if self.lookup(access_key_id).await.is_some() {
                AuthFailure::InvalidToken
            } else {
                AuthFailure::UnknownKey
            });
        }
        let key = match self.cached(access_key_id) {
            Some(hit) => hit,
            None => {
                let (id, t) = (access_key_id.to_owned(), token.to_owned());
                let found = self
                    .store
                    .read(move |c| sts::load_session(c, &id, &t))
                    .await
                    .map_err(|_| AuthFailure::UnknownKey)?;
                let credential = match found {
                    SessionLookup::Unknown => return Err(AuthFailure::UnknownKey),
                    SessionLookup::BadToken => return Err(AuthFailure::InvalidToken),
                    SessionLookup::Found(c) => c,
                };
                if credential.principal.account() != &self.account {
                    return Err(AuthFailure::UnknownKey);
                }
                let resolved = Arc::new(ResolvedKey {
                    secret: credential.secret,
                    principal: credential.principal,
                    session: Some((credential.token_hash, credential.expires)),
                });
                self.remember(access_key_id.to_owned(), resolved.clone());
                resolved
            }
        };
        let Some((hash, expires)) = key.session else {
            return Err(AuthFailure::InvalidToken);
        };
        if !bool::from(sts::session::token_hash(token).ct_eq(&hash)) {
            return Err(AuthFailure::InvalidToken);
        }
        if at >= expires {
            return Err(AuthFailure::ExpiredToken);
        }
        Ok(key)
    }

    /// The secret a request signed with `access_key_id` must verify against, whether the key
    /// is long-term or temporary. For protocols whose signature check runs before Cairn sees
    /// the request (S3 through `s3s`): the caller must still [`CredentialCache::resolve`] the
    /// key with its token before it acts, since this does not look at the token.
    pub async fn signing_secret(&self, access_key_id: &str) -> Option<String> {
        if let Some(k) = self.lookup(access_key_id).await {
            return Some(k.secret.clone());
        }
        if let Some(hit) = self.cached(access_key_id) {
            return Some(hit.secret.clone());
        }
        if !sts::is_temporary_key(access_key_id) {
            return None;
        }
        let id = access_key_id.to_owned();
        self.store
            .read(move |c| iam::sessions::get_session(c, &id))
            .await
            .ok()?
            .map(|s| s.secret)
    }

    /// Drops every cached key (after an IAM change committed).
    pub fn invalidate(&self) {
        self.keys.write().expect("credential cache lock").clear();
    }

    /// Reads the store's IAM generation and drops the cache if it moved since the last poll.
    pub async fn poll(&self) {
        let Ok(now) = self.store.read(iam::generation).await else {
            return;
        };
        if self.generation.swap(now, Ordering::AcqRel) != now {
            self.invalidate();
        }
    }
}
