//! The IAM credential report (GenerateCredentialReport, GetCredentialReport): one CSV row per
//! principal with long-term credentials, the root account first, in the columns and value
//! conventions of the IAM user guide ("Getting credential reports"). Cairn keeps no
//! passwords, MFA devices or signing certificates, so those columns read as for a user
//! without them; access keys come from the store, their last use from the event log (as
//! GetAccessKeyLastUsed). Security tools (Prowler, ScoutSuite) read the CIS root and key
//! checks from this report.

use cairn_store::Connection;
use cairn_store::iam::{keys, report as store, users};

use super::keys::newest_use;
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The report's header line, the user guide's columns in order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// How long a report may be read after it was made (the user guide: four hours).
pub const LIFETIME_SECS: f64 = 4.0 * 3600.0;

/// A CSV field: IAM names may hold a comma (`[\w+=,.@-]+`), which is then quoted.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// An access key as the report shows it: active, created, and its newest recorded use
/// (epoch seconds, service, region).
type KeyState = (bool, f64, Option<(i64, String, String)>);

fn iso(secs: f64) -> String {
    chrono::DateTime::from_timestamp(secs.floor() as i64, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S+00:00").to_string())
        .unwrap_or_else(|| "N/A".to_owned())
}

/// An access key's five columns: active, last rotated, and its last use (date, region,
/// service), `N/A` where there is none.
fn key_columns(key: Option<KeyState>) -> Vec<String> {
    let na = || "N/A".to_owned();
    match key {
        None => vec!["false".into(), na(), na(), na(), na()],
        Some((active, created, used)) => {
            let (date, region, service) = match used {
                Some((t, service, region)) => (iso(t as f64), region, service),
                None => (na(), na(), na()),
            };
            vec![active.to_string(), iso(created), date, region, service]
        }
    }
}

fn row(mut fields: Vec<String>, keys: [Option<KeyState>; 2]) -> String {
    let [first, second] = keys;
    fields.push("false".into()); // mfa_active
    fields.extend(key_columns(first));
    fields.extend(key_columns(second));
    fields.extend(["false", "N/A", "false", "N/A"].map(str::to_owned));
    fields.join(",")
}

/// The report as of now.
fn build(conn: &Connection, ctx: &CallContext) -> ApiResult<String> {
    let account = ctx.account().as_str();
    let mut lines = vec![COLUMNS.join(",")];
    let root = store::root_key(conn)?;
    let root_since = root.as_ref().map(|(_, since)| *since).unwrap_or(ctx.now);
    let root_key = match &root {
        Some((id, since)) => Some((true, *since, newest_use(conn, account, id)?)),
        None => None,
    };
    lines.push(row(
        vec![
            "<root_account>".into(),
            format!("arn:aws:iam::{account}:root"),
            iso(root_since),
            "not_supported".into(),
            "no_information".into(),
            "not_supported".into(),
            "not_supported".into(),
        ],
        [root_key, None],
    ));
    let mut all = users::list_users(conn, account)?;
    all.sort_by_key(|a| a.name.to_lowercase());
    for user in all {
        let mut two = [None, None];
        for (slot, key) in two
            .iter_mut()
            .zip(keys::list_access_keys(conn, &user.user_id)?)
        {
            let used = newest_use(conn, account, &key.access_key_id)?;
            *slot = Some((key.status == "Active", key.created, used));
        }
        lines.push(row(
            vec![
                csv_field(&user.name),
                csv_field(&super::arn(account, "user", &user.path, &user.name)),
                iso(user.created),
                "false".into(),
                "N/A".into(),
                "N/A".into(),
                "N/A".into(),
            ],
            two,
        ));
    }
    Ok(lines.join("\n"))
}

/// GenerateCredentialReport: makes the account's report now (at once: its state is
/// `COMPLETE`, never `STARTED`), unless one made in the last four hours exists: IAM keeps
/// that one (the user guide).
pub fn generate(conn: &Connection, ctx: &CallContext) -> ApiResult<()> {
    if store::report(conn, ctx.account().as_str())?
        .is_some_and(|(_, made)| ctx.now - made <= LIFETIME_SECS)
    {
        return Ok(());
    }
    let csv = build(conn, ctx)?;
    store::put_report(conn, ctx.account().as_str(), &csv, ctx.now)?;
    Ok(())
}

/// GetCredentialReport: the last report made and when, if it is at most four hours old.
pub fn get(conn: &Connection, ctx: &CallContext) -> ApiResult<(String, f64)> {
    let Some((csv, generated)) = store::report(conn, ctx.account().as_str())? else {
        return Err(ApiError::new(
            ErrorKind::ReportNotPresent,
            "Credential report does not exist. Use GenerateCredentialReport to generate a report.",
        ));
    };
    if ctx.now - generated > LIFETIME_SECS {
        return Err(ApiError::new(
            ErrorKind::ReportExpired,
            "The credential report is more than four hours old. Use GenerateCredentialReport to generate a new report.",
        ));
    }
    Ok((csv, generated))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_commas_are_quoted_and_keys_read_as_the_guide_says() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(key_columns(None), ["false", "N/A", "N/A", "N/A", "N/A"]);
        let used = Some((0, "s3".to_owned(), "us-east-1".to_owned()));
        assert_eq!(
            key_columns(Some((true, 0.0, used))),
            [
                "true",
                "1970-01-01T00:00:00+00:00",
                "1970-01-01T00:00:00+00:00",
                "us-east-1",
                "s3"
            ]
        );
        let line = row(vec!["u".into(); 7], [None, None]);
        assert_eq!(line.split(',').count(), COLUMNS.len());
    }
}
