//! Log groups: create, delete, describe, retention and tags (spec monitoring.md §1.3).

use cairn_store::Connection;
use cairn_store::logs::{self as store, GroupFilter, LogGroup, NewGroup};

use super::{GroupKey, MAX_GROUPS, check_group_name, constraint, invalid, load_group, now_ms};
use crate::CallContext;
use crate::authz::Evaluator;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The retention values AWS accepts, in days.
pub const RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// Most tags a group may carry.
pub const MAX_TAGS: usize = 50;

/// CreateLogGroup's input.
#[derive(Clone, Debug, Default)]
pub struct CreateGroup {
    /// Name.
    pub name: String,
    /// KMS key ARN.
    pub kms_key_id: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Class (default `STANDARD`).
    pub class: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// CloudFormation's `aws:cloudformation:*` tags of a group a stack makes (never a
    /// requester's: the `aws:` prefix is refused in `tags`). They do not count toward the
    /// 50-tag limit.
    pub system_tags: Vec<(String, String)>,
}

/// Whether a tag key has AWS's reserved prefix `aws:`, in any case.
fn is_reserved(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

/// Validates tag keys and values the way AWS constrains them.
pub fn check_tags(tags: &[(String, String)]) -> ApiResult<()> {
    let allowed = |c: char| c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c);
    for (k, v) in tags {
        // In any case (`AWS:`, `Aws:`), as AWS reserves it and every other service refuses
        // it: a look-alike of a stack's `aws:cloudformation:*` tags is no one's to set.
        if is_reserved(k) {
            return Err(invalid(format!(
                "Invalid tag key {k}: the prefix aws: is reserved for AWS use."
            )));
        }
        if k.is_empty() || k.chars().count() > 128 || !k.chars().all(allowed) {
            return Err(constraint(
                k,
                "tags",
                "Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$]",
            ));
        }
        if v.chars().count() > 256 || !v.chars().all(allowed) {
            return Err(constraint(
                v,
                "tags",
                "Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$]",
            ));
        }
    }
    Ok(())
}

/// CreateLogGroup. A `kmsKeyId` must name a key CloudWatch Logs may use for the group
/// ([`check_kms_key`], then [`super::kms_use::check_key_policy`] with `evaluator`).
pub fn create(
    conn: &Connection,
    ctx: &CallContext,
    evaluator: &dyn Evaluator,
    input: &CreateGroup,
) -> ApiResult<()> {
    check_group_name(&input.name, "logGroupName")?;
    if input.name.starts_with("aws/") {
        return Err(invalid(
            "Log group names starting with 'aws/' are reserved for AWS.",
        ));
    }
    let class = input.class.as_deref().unwrap_or("STANDARD");
    if !["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"].contains(&class) {
        return Err(constraint(
            class,
            "logGroupClass",
            "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]",
        ));
    }
    // A Delivery group keeps its events one day and offers no Insights (the model): Cairn
    // does not carry out that class, so it is refused, never taken and run as STANDARD (logs8).
    if class == "DELIVERY" {
        return Err(crate::ApiError::new(
            crate::ErrorKind::UnsupportedOperation,
            "The DELIVERY log group class is not supported by Cairn; use STANDARD or INFREQUENT_ACCESS.",
        ));
    }
    if input.tags.len() > MAX_TAGS {
        return Err(constraint(
            "",
            "tags",
            "Member must have length less than or equal to 50",
        ));
    }
    check_tags(&input.tags)?;
    if let Some(k) = &input.kms_key_id {
        check_kms_key(conn, ctx, k)?;
        super::kms_use::check_key_policy(conn, evaluator, ctx, &input.name, k)?;
    }
    let key = GroupKey::of(ctx, &input.name);
    if store::count_groups(conn, &key.account, &key.region)? >= MAX_GROUPS {
        return Err(ApiError::new(
            ErrorKind::LogsLimitExceeded,
            "Resource limit exceeded.",
        ));
    }
    let id = store::create_group(
        conn,
        &NewGroup {
            account: &key.account,
            region: &key.region,
            name: &key.name,
            created: now_ms(ctx),
            kms_key_id: input.kms_key_id.as_deref(),
            class,
            deletion_protection: input.deletion_protection,
        },
    )?
    .ok_or_else(|| {
        ApiError::new(
            ErrorKind::LogsResourceAlreadyExists,
            "The specified log group already exists",
        )
    })?;
    store::put_tags(
        conn,
        id,
        &[input.tags.as_slice(), &input.system_tags].concat(),
    )?;
    Ok(())
}

/// DeleteLogGroup: the group with its streams, events, metric filters and tags.
pub fn delete(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<()> {
    check_group_name(name, "logGroupName")?;
    let group = load_group(conn, &GroupKey::of(ctx, name))?;
    if group.deletion_protection {
        return Err(ApiError::new(
            ErrorKind::Validation,
            "Cannot delete log group with deletion protection enabled. Disable deletion protection first.",
        ));
    }
    store::delete_group(conn, group.id)?;
    Ok(())
}

/// DescribeLogGroups' selection.
#[derive(Clone, Debug, Default)]
pub struct Describe {
    /// Name prefix.
    pub prefix: Option<String>,
    /// Case-sensitive substring.
    pub pattern: Option<String>,
    /// Names or ARNs.
    pub identifiers: Option<Vec<String>>,
    /// Class.
    pub class: Option<String>,
    /// Page size, 1–50.
    pub limit: i64,
    /// The name of the last group the previous page returned.
    pub after: Option<String>,
}

/// DescribeLogGroups: a page of groups and whether more follow.
pub fn describe(
    conn: &Connection,
    ctx: &CallContext,
    input: &Describe,
) -> ApiResult<(Vec<LogGroup>, bool)> {
    if input.prefix.is_some() && input.pattern.is_some() {
        return Err(invalid(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    // The model: with `logGroupIdentifiers`, the only other filter is `includeLinkedAccounts`.
    if input.identifiers.is_some()
        && (input.prefix.is_some() || input.pattern.is_some() || input.class.is_some())
    {
        return Err(invalid(
            "logGroupIdentifiers cannot be specified with logGroupNamePrefix, logGroupNamePattern or logGroupClass.",
        ));
    }
    if let Some(p) = &input.pattern
        && !p
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/#".contains(c))
    {
        return Err(constraint(
            p,
            "logGroupNamePattern",
            r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]*",
        ));
    }
    let names = match &input.identifiers {
        Some(ids) => Some(
            ids.iter()
                .map(|id| super::identifier_name(ctx, id, "logGroupIdentifiers"))
                .collect::<ApiResult<Vec<_>>>()?,
        ),
        None => None,
    };
    let filter = GroupFilter {
        prefix: input.prefix.as_deref(),
        pattern: input.pattern.as_deref(),
        class: input.class.as_deref(),
        names: names.as_deref(),
    };
    let mut page = store::list_groups(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        &filter,
        input.after.as_deref(),
        input.limit + 1,
    )?;
    let more = page.len() as i64 > input.limit;
    page.truncate(input.limit as usize);
    // Events past a group's retention are marked for deletion and, as AWS documents for
    // PutRetentionPolicy, no longer count in `storedBytes`, though the sweep deletes them
    // later (logs5: lowering retention left the figure unchanged for up to ten minutes).
    for g in &mut page {
        if let Some(days) = g.retention_days {
            let cutoff = now_ms(ctx) - days * 86_400_000;
            let expired = store::events::bytes_before(conn, g.id, cutoff)?;
            g.stored_bytes = (g.stored_bytes - expired).max(0);
        }
    }
    Ok((page, more))
}

/// PutRetentionPolicy (`Some(days)`) or DeleteRetentionPolicy (`None`).
pub fn set_retention(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    days: Option<i64>,
) -> ApiResult<()> {
    check_group_name(name, "logGroupName")?;
    if let Some(d) = days
        && !RETENTION_DAYS.contains(&d)
    {
        let set: Vec<String> = RETENTION_DAYS.iter().map(i64::to_string).collect();
        return Err(constraint(
            &d.to_string(),
            "retentionInDays",
            &format!("Member must satisfy enum value set: [{}]", set.join(", ")),
        ));
    }
    let group = load_group(conn, &GroupKey::of(ctx, name))?;
    store::set_retention(conn, group.id, days)?;
    Ok(())
}

/// PutLogGroupDeletionProtection: turns the group's deletion protection on or off.
pub fn set_deletion_protection(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    enabled: bool,
) -> ApiResult<()> {
    let group = load_group(conn, &GroupKey::of(ctx, name))?;
    store::set_deletion_protection(conn, group.id, enabled)?;
    Ok(())
}

/// AssociateKmsKey (`Some(key ARN)`) or DisassociateKmsKey (`None`) on a log group. As with
/// CreateLogGroup's `kmsKeyId`, the key must be an enabled key of the caller's account and
/// region named by its ARN ([`check_kms_key`]); it is recorded and reported by
/// DescribeLogGroups, and Cairn does not encrypt stored log events with it.
pub fn set_kms_key(
    conn: &Connection,
    ctx: &CallContext,
    evaluator: &dyn Evaluator,
    name: &str,
    key: Option<&str>,
) -> ApiResult<()> {
    check_group_name(name, "logGroupName")?;
    let group = load_group(conn, &GroupKey::of(ctx, name))?;
    if let Some(k) = key {
        check_kms_key(conn, ctx, k)?;
        super::kms_use::check_key_policy(conn, evaluator, ctx, name, k)?;
    }
    store::set_kms_key(conn, group.id, key)?;
    Ok(())
}

/// Checks a `kmsKeyId` as CloudWatch Logs does before it associates a key: at most 256
/// characters, the ARN of a key (not a key id or an alias) in the caller's account and
/// region, and that key enabled. A key that does not exist, or an identifier that is not a
/// key ARN, is `InvalidParameterException` "The specified KMS Key Id could not be found."
/// (AWS's text); a key that is disabled or pending deletion is `InvalidParameterException`
/// naming its state. The caller's own access to the key is not checked, as on AWS.
pub fn check_kms_key(conn: &Connection, ctx: &CallContext, key: &str) -> ApiResult<()> {
    use crate::kms::{self, ids::KeyRef};
    if key.chars().count() > 256 {
        return Err(constraint(
            key,
            "kmsKeyId",
            "Member must have length less than or equal to 256",
        ));
    }
    let not_found = || invalid("The specified KMS Key Id could not be found.");
    let scope = kms::Scope::of(ctx);
    let Ok(KeyRef::KeyArn {
        region,
        account,
        key_id,
    }) = kms::ids::parse(key)
    else {
        return Err(not_found());
    };
    if region != scope.region || account != scope.account {
        return Err(not_found());
    }
    let found = kms::ids::key_in_scope(conn, &scope, &key_id).map_err(|e| match e.kind {
        ErrorKind::KmsNotFound => not_found(),
        _ => e,
    })?;
    if found.state != kms::ENABLED {
        return Err(invalid(format!(
            "The specified KMS key is not enabled: {} is {}.",
            found.arn, found.state
        )));
    }
    Ok(())
}

/// The group a tagging call names: a name (the deprecated `TagLogGroup` family, `by_arn`
/// false) or the group's ARN without `:*` (`TagResource`, `by_arn`). A `resourceArn` that is
/// not one (a bare name, the `:*` form DescribeLogGroups shows as `arn`, another service's) is
/// `ValidationException` "Invalid resourceArn", as AWS answers it.
pub fn for_tagging(
    conn: &Connection,
    ctx: &CallContext,
    name_or_arn: &str,
    by_arn: bool,
) -> ApiResult<LogGroup> {
    let name = if by_arn {
        let invalid_arn = || ApiError::new(ErrorKind::Validation, "Invalid resourceArn");
        if !name_or_arn.starts_with("arn:") || name_or_arn.ends_with(":*") {
            return Err(invalid_arn());
        }
        super::identifier_name(ctx, name_or_arn, "resourceArn").map_err(|e| match e.kind {
            ErrorKind::ResourceNotFound => e,
            _ => invalid_arn(),
        })?
    } else {
        check_group_name(name_or_arn, "logGroupName")?;
        name_or_arn.to_owned()
    };
    load_group(conn, &GroupKey::of(ctx, &name))
}

/// Adds tags; more than 50 in all is `TooManyTagsException` (or, for the deprecated
/// `TagLogGroup`, `InvalidParameterException`).
pub fn tag(
    conn: &Connection,
    group: &LogGroup,
    tags: &[(String, String)],
    legacy: bool,
) -> ApiResult<()> {
    check_tags(tags)?;
    let mut keys: Vec<String> = store::tags(conn, group.id)?
        .into_iter()
        .map(|t| t.0)
        .collect();
    keys.extend(tags.iter().map(|t| t.0.clone()));
    keys.sort();
    keys.dedup();
    // AWS's own tags (a stack's `aws:cloudformation:*`) do not count toward the limit.
    keys.retain(|k| !is_reserved(k));
    if keys.len() > MAX_TAGS {
        let message = format!(
            "A resource can have no more than {MAX_TAGS} tags. {} is over the limit.",
            super::group_arn(&group.region, &group.account, &group.name)
        );
        return Err(if legacy {
            invalid(message)
        } else {
            ApiError::new(ErrorKind::LogsTooManyTags, message)
        });
    }
    store::put_tags(conn, group.id, tags)?;
    Ok(())
}

/// A group's tags, by key.
pub fn tags(conn: &Connection, group: &LogGroup) -> ApiResult<Vec<(String, String)>> {
    Ok(store::tags(conn, group.id)?)
}

/// Removes tags by key (absent keys are ignored).
pub fn untag(conn: &Connection, group: &LogGroup, keys: &[String]) -> ApiResult<()> {
    // CloudFormation's `aws:` tags are AWS's: no requester removes them (recheck29).
    if let Some(k) = keys.iter().find(|k| k.starts_with("aws:")) {
        return Err(invalid(format!(
            "Invalid tag key {k}: the prefix aws: is reserved for AWS use."
        )));
    }
    Ok(store::remove_tags(conn, group.id, keys)?)
}
