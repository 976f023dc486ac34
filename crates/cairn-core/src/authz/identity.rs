//! The identity side of a decision: which policies apply to a principal (its own and its
//! groups' inline and attached policies, a session's policies, a permissions boundary), parsed
//! once and cached until IAM state changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cairn_model::Principal;
use cairn_policy::{Document, PolicyKind, PolicySource, SourcedPolicy};
use cairn_store::{Connection, StoreResult, iam};

/// A parsed policy with where it came from.
#[derive(Clone, Debug)]
pub struct OwnedPolicy {
    /// Origin.
    pub source: PolicySource,
    /// Managed policy ARN or inline policy name.
    pub id: String,
    /// The document.
    pub document: Arc<Document>,
}

impl OwnedPolicy {
    /// The borrowed form `cairn_policy` decides over.
    pub fn sourced(&self) -> SourcedPolicy<'_> {
        SourcedPolicy {
            source: self.source,
            id: &self.id,
            document: &self.document,
        }
    }
}

/// Every identity-side policy of one principal.
#[derive(Clone, Debug, Default)]
pub struct Gathered {
    /// Identity policies.
    pub identity: Vec<OwnedPolicy>,
    /// Session policies, when the credentials carry any.
    pub session: Option<Vec<OwnedPolicy>>,
    /// Permissions boundary.
    pub boundary: Option<OwnedPolicy>,
    /// The principal's tags (`aws:PrincipalTag/<key>`).
    pub tags: Vec<(String, String)>,
}

/// Parses stored policies (validated when written; one that no longer parses applies nothing).
fn parsed(docs: Vec<crate::iam::PolicyDoc>) -> Vec<OwnedPolicy> {
    docs.into_iter()
        .filter_map(|d| {
            Some(OwnedPolicy {
                document: Arc::new(Document::parse(&d.document, PolicyKind::Identity).ok()?),
                source: d.source,
                id: d.id,
            })
        })
        .collect()
}

/// Reads a principal's policies from the store (`crate::iam::principal_policies`). Root and
/// service principals have none.
pub fn gather(conn: &Connection, principal: &Principal) -> StoreResult<Gathered> {
    let found = crate::iam::principal_policies(conn, principal)?;
    Ok(Gathered {
        identity: parsed(found.identity),
        session: found.session.map(parsed),
        boundary: found.boundary.and_then(|b| parsed(vec![b]).pop()),
        tags: crate::iam::principal_tags(conn, principal)?,
    })
}

/// Gathered policies per principal, valid for one IAM generation.
#[derive(Default)]
pub struct IdentityCache {
    entries: Mutex<HashMap<String, (i64, Arc<Gathered>)>>,
}

/// The cache key of a principal: its ARN plus the access key (sessions differ by key).
fn key(principal: &Principal) -> String {
    format!("{}|{}", principal.arn(), principal.access_key_id())
}

impl IdentityCache {
    /// The principal's policies, from the cache when IAM has not changed since.
    pub fn get(&self, conn: &Connection, principal: &Principal) -> StoreResult<Arc<Gathered>> {
        if matches!(principal, Principal::Root { .. }) {
            return Ok(Arc::new(Gathered::default()));
        }
        let generation = iam::generation(conn)?;
        let k = key(principal);
        if let Some((g, hit)) = self.entries.lock().expect("identity cache").get(&k)
            && *g == generation
        {
            return Ok(hit.clone());
        }
        let gathered = Arc::new(gather(conn, principal)?);
        let mut entries = self.entries.lock().expect("identity cache");
        if entries.len() > 10_000 {
            entries.clear();
        }
        entries.insert(k, (generation, gathered.clone()));
        Ok(gathered)
    }
}
