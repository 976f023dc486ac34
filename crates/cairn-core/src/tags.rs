//! AddTags / RemoveTags / ListTags on trails.

use cairn_model::trail::{Tag, Trail, TrailArn};
use cairn_store::{Connection, trails};

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::{CallContext, validate};

/// Whether `id` is a well-formed ARN of a CloudTrail Lake resource (an event data store, a
/// channel or a dashboard), which the model lists as taggable; Cairn has none of them.
fn is_lake_arn(id: &str) -> bool {
    let parts: Vec<&str> = id.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "cloudtrail", region, account, resource]
    if partition.starts_with("aws")
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && ["eventdatastore/", "channel/", "dashboard/"].iter().any(|k| {
            resource.strip_prefix(k).is_some_and(|rest| !rest.is_empty())
        }))
}

fn trail_for_resource(conn: &Connection, ctx: &CallContext, resource_id: &str) -> ApiResult<Trail> {
    let not_found = || {
        ApiError::new(
            ErrorKind::ResourceNotFound,
            format!("Resource not found: {resource_id}"),
        )
    };
    if is_lake_arn(resource_id) {
        return Err(not_found());
    }
    let arn = TrailArn::parse(resource_id).ok_or_else(|| {
        ApiError::new(
            ErrorKind::CloudTrailArnInvalid,
            format!("Invalid CloudTrail ARN: {resource_id}."),
        )
    })?;
    // Cairn's trails are in the `aws` partition: another partition's ARN names none of them,
    // as for every other trail operation (ctapi5: an `arn:aws-cn:` or `arn:xyz:` ARN reached
    // the trail while a Deny on its `arn:aws:` ARN was judged against the ARN as written).
    // Another account's trail (an organization trail's ARN, listed in member accounts) is
    // refused as AWS refuses it, with the code scanners look for (ctapi6).
    if arn.account != ctx.account().as_str() {
        return Err(ApiError::new(
            ErrorKind::CloudTrailArnInvalid,
            format!(
                "AccountID in ARN is wrong, you can only access resources with AccountID {}.",
                ctx.account()
            ),
        ));
    }
    let found = if resource_id.starts_with("arn:aws:") {
        trails::get(conn, &arn.account, &arn.region, &arn.name)?
    } else {
        None
    };
    found.ok_or_else(not_found)
}

fn home_only(ctx: &CallContext, trail: &Trail) -> ApiResult<()> {
    // The tag operations declare no InvalidHomeRegionException: AWS answers a trail of
    // another region as ListTags does (ctapi6).
    if trail.home_region != ctx.region.as_str() {
        return Err(ApiError::new(
            ErrorKind::CloudTrailArnInvalid,
            format!(
                "Region in ARN is wrong, you can only access resources in region {}.",
                ctx.region
            ),
        ));
    }
    Ok(())
}

/// AddTags; returns the trail as tagged (its event names it).
pub fn add(
    conn: &Connection,
    ctx: &CallContext,
    resource_id: &str,
    tags: &[Tag],
) -> ApiResult<Trail> {
    let mut trail = trail_for_resource(conn, ctx, resource_id)?;
    home_only(ctx, &trail)?;
    validate::merge_tags(&mut trail.tags, tags)?;
    trails::put(conn, &trail)?;
    Ok(trail)
}

/// Checks the tags a new trail is given (CreateTrail's `TagsList`) as CreateTrail does: the
/// tag rules and the limit of 50. The console checks its form with it before it makes anything.
pub fn check_new(tags: &[Tag]) -> ApiResult<()> {
    validate::merge_tags(&mut Vec::new(), tags)
}

/// RemoveTags: removes keys (and, when a value is given, only if it matches); returns the
/// trail as left (its event names it).
pub fn remove(
    conn: &Connection,
    ctx: &CallContext,
    resource_id: &str,
    tags: &[Tag],
) -> ApiResult<Trail> {
    let mut trail = trail_for_resource(conn, ctx, resource_id)?;
    home_only(ctx, &trail)?;
    validate::tags(tags)?;
    trail.tags.retain(|t| {
        !tags
            .iter()
            .any(|r| r.key == t.key && (r.value.is_none() || r.value == t.value))
    });
    trails::put(conn, &trail)?;
    Ok(trail)
}

/// ListTags names at most 20 resources (AWS's `InvalidParameterException`).
pub fn check_list_size(count: usize) -> ApiResult<()> {
    if count > 20 {
        return Err(ApiError::new(
            ErrorKind::InvalidParameter,
            "ResourceIdList can contain at most 20 resources.",
        ));
    }
    Ok(())
}

/// ListTags: each resource as asked with its trail (whose tags it lists), in the order asked.
pub fn list(
    conn: &Connection,
    ctx: &CallContext,
    resource_ids: &[String],
) -> ApiResult<Vec<(String, Trail)>> {
    check_list_size(resource_ids.len())?;
    resource_ids
        .iter()
        .map(|id| {
            // ListTags lists the trails of the caller's region (the API reference); another
            // region's ARN is refused as AWS refuses it.
            if let Some(arn) = TrailArn::parse(id)
                && arn.region != ctx.region.as_str()
            {
                return Err(ApiError::new(
                    ErrorKind::CloudTrailArnInvalid,
                    format!(
                        "Region in ARN is wrong, you can only access resources in region {}.",
                        ctx.region
                    ),
                ));
            }
            Ok((id.clone(), trail_for_resource(conn, ctx, id)?))
        })
        .collect()
}
