//! The credential cache: access key id → secret and principal, held in memory so that
//! authenticating a request never blocks a runtime thread on the store.
//!
//! Root's key is checked in constant time without the store. Other keys are read once from the
//! store (on the blocking pool) and cached. Every IAM change increments the store's IAM
//! generation in the same transaction; changes made through this server drop the cache at once
//! ([`CredentialCache::invalidate`]), and [`CredentialCache::poll`] notices changes made by
//! another process on the same data dir (the `cairn iam` admin commands).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use cairn_model::{AccountId, Principal};
use cairn_store::{Store, iam};
use subtle::ConstantTimeEq;

use crate::auth::RootCredentials;

/// A key's secret and whose it is.
pub struct ResolvedKey {
    /// The secret access key (never logged).
    pub secret: String,
    /// The principal the key authenticates.
    pub principal: Principal,
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
        };
        Self {
            store,
            account,
            root: Arc::new(ResolvedKey {
                secret: root.secret_access_key.clone(),
                principal: root_principal,
            }),
            root_key_id: root.access_key_id.clone(),
            keys: RwLock::new(HashMap::new()),
            generation: AtomicI64::new(-1),
        }
    }

    /// The secret and principal of an active key, or `None` for unknown and inactive keys.
    pub async fn lookup(&self, access_key_id: &str) -> Option<Arc<ResolvedKey>> {
        if bool::from(access_key_id.as_bytes().ct_eq(self.root_key_id.as_bytes())) {
            return Some(self.root.clone());
        }
        if let Some(hit) = self
            .keys
            .read()
            .expect("credential cache lock")
            .get(access_key_id)
        {
            return Some(hit.clone());
        }
        let id = access_key_id.to_owned();
        let found = self
            .store
            .read(move |c| iam::get_access_key(c, &id))
            .await
            .ok()??;
        let (key, user) = found;
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
                access_key_id: key.access_key_id.clone(),
            },
        });
        self.keys
            .write()
            .expect("credential cache lock")
            .insert(key.access_key_id, resolved.clone());
        Some(resolved)
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
