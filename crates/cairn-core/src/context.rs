//! Who is calling, where, and when.

use cairn_model::{AccountId, Principal, Region};

/// The facts about one call that every operation needs.
#[derive(Clone, Debug)]
pub struct CallContext {
    /// The caller.
    pub principal: Principal,
    /// The region from the credential scope.
    pub region: Region,
    /// Call time, epoch seconds (with fraction).
    pub now: f64,
}

impl CallContext {
    /// The caller's account.
    pub fn account(&self) -> &AccountId {
        self.principal.account()
    }

    /// Call time in whole epoch seconds.
    pub fn now_secs(&self) -> i64 {
        self.now.floor() as i64
    }
}
