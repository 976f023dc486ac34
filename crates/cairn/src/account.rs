//! The account a data dir belongs to. A data dir holds one account's state, so it remembers
//! the account it was first served with (`meta['account-id']`): `serve` refuses another
//! `--account-id`, and admin commands that act as the account (`cairn iam`) default to it.
//! A data dir from before this was recorded takes the account of its oldest recorded event,
//! else the default.

use anyhow::bail;
use cairn_model::AccountId;
use cairn_store::{Connection, Store, StoreResult, events, meta};

/// The `meta` key holding the account id.
const KEY: &str = "account-id";

/// The account of a data dir that names none, and of `--account-id`'s absence.
pub const DEFAULT: &str = "123456789012";

/// The account recorded for the data dir, or the one its oldest recorded event names.
fn recorded(c: &Connection) -> StoreResult<Option<String>> {
    if let Some(a) = meta::get(c, KEY)? {
        return Ok(Some(a));
    }
    let first = events::records(c, "Management", 0, 1)?;
    Ok(first.first().and_then(|(_, record)| {
        serde_json::from_str::<serde_json::Value>(record)
            .ok()?
            .get("recipientAccountId")?
            .as_str()
            .map(str::to_owned)
    }))
}

fn mismatch(data_dir: &std::path::Path, recorded: &str, given: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "data dir {} belongs to account {recorded} (the account it was first served with); \
         --account-id {given} names another: leave --account-id out (or give {recorded}), \
         or use another --data-dir for account {given}",
        data_dir.display()
    )
}

/// The account `serve` runs as: the data dir's, recorded now if it had none (`given`, else
/// the default). A `given` account other than the recorded one is refused.
pub fn for_serve(
    store: &Store,
    data_dir: &std::path::Path,
    given: Option<&AccountId>,
) -> anyhow::Result<AccountId> {
    let given = given.map(|a| a.as_str().to_owned());
    let asked = given.clone();
    let settled = store.write_blocking(move |c| -> StoreResult<Result<String, String>> {
        match (recorded(c)?, asked) {
            (Some(r), Some(g)) if r != g => Ok(Err(r)),
            (Some(r), _) => {
                meta::put(c, KEY, &r)?;
                Ok(Ok(r))
            }
            (None, g) => {
                let a = g.unwrap_or_else(|| DEFAULT.to_owned());
                meta::put(c, KEY, &a)?;
                Ok(Ok(a))
            }
        }
    })??;
    match settled {
        Ok(a) => AccountId::parse(&a).map_err(|e| {
            anyhow::anyhow!("data dir {} records a bad account: {e}", data_dir.display())
        }),
        Err(recorded) => Err(mismatch(
            data_dir,
            &recorded,
            given.as_deref().unwrap_or_default(),
        )),
    }
}

/// The account an admin command acts as: `given` if it is the data dir's, else refused;
/// without one, the data dir's (or the default).
pub fn for_admin(
    store: &Store,
    data_dir: &std::path::Path,
    given: Option<&str>,
) -> anyhow::Result<AccountId> {
    let recorded = store.read_blocking(recorded)?;
    let account = match (recorded, given) {
        (Some(r), Some(g)) if r != g => return Err(mismatch(data_dir, &r, g)),
        (Some(r), _) => r,
        (None, Some(g)) => g.to_owned(),
        (None, None) => DEFAULT.to_owned(),
    };
    let Ok(account) = AccountId::parse(&account) else {
        bail!("--account-id {account:?} is not a 12-digit account id");
    };
    Ok(account)
}
