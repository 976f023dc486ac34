//! The trail control plane: create, read, update, delete, start and stop logging.

use cairn_model::KNOWN_REGIONS;
use cairn_model::trail::{
    EventSelector, Selectors, Tag, Trail, TrailArn, TrailName, TrailStatus, trail_arn,
};
use cairn_store::{Connection, buckets, trails};

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::{CallContext, validate};

/// At most this many trails may be visible in one region.
pub const MAX_TRAILS_PER_REGION: usize = 5;

/// The settable members shared by CreateTrail and UpdateTrail. `None` = not supplied.
#[derive(Clone, Debug, Default)]
pub struct TrailArgs {
    /// `S3BucketName`.
    pub s3_bucket_name: Option<String>,
    /// `S3KeyPrefix` (empty clears on update).
    pub s3_key_prefix: Option<String>,
    /// `SnsTopicName`, a name or ARN (empty clears on update).
    pub sns_topic_name: Option<String>,
    /// `IncludeGlobalServiceEvents`.
    pub include_global_service_events: Option<bool>,
    /// `IsMultiRegionTrail`.
    pub is_multi_region_trail: Option<bool>,
    /// `EnableLogFileValidation`.
    pub enable_log_file_validation: Option<bool>,
    /// `CloudWatchLogsLogGroupArn` (empty clears on update).
    pub cloud_watch_logs_log_group_arn: Option<String>,
    /// `CloudWatchLogsRoleArn` (empty clears on update).
    pub cloud_watch_logs_role_arn: Option<String>,
    /// `KmsKeyId` (empty clears on update).
    pub kms_key_id: Option<String>,
    /// `IsOrganizationTrail`.
    pub is_organization_trail: Option<bool>,
}

fn not_found(ctx: &CallContext, shown: &str) -> ApiError {
    ApiError::new(
        ErrorKind::TrailNotFound,
        format!("Unknown trail: {shown} for the user: {}", ctx.account()),
    )
}

/// Whether a `Name`/`TrailName` argument is an ARN (vs a bare name).
fn parse_arn(ctx: &CallContext, value: &str) -> ApiResult<TrailArn> {
    TrailArn::parse(value).ok_or_else(|| {
        ApiError::new(
            ErrorKind::CloudTrailArnInvalid,
            format!("Invalid CloudTrail ARN: {value}. Ensure the ARN is of the form arn:aws:cloudtrail:region:{}:trail/trailName.", ctx.account()),
        )
    })
}

fn parse_name(value: &str) -> ApiResult<TrailName> {
    TrailName::parse(value).map_err(|e| ApiError::new(ErrorKind::InvalidTrailName, e.to_string()))
}

/// Resolves a name or ARN to a trail visible from the caller's region.
pub fn resolve(conn: &Connection, ctx: &CallContext, name_or_arn: &str) -> ApiResult<Trail> {
    let account = ctx.account().as_str();
    if name_or_arn.starts_with("arn:") {
        let arn = parse_arn(ctx, name_or_arn)?;
        // Cairn's trails are in the `aws` partition: an `aws-cn` ARN names none of them.
        let found = if arn.account == account && name_or_arn.starts_with("arn:aws:") {
            trails::get(conn, account, &arn.region, &arn.name)?
        } else {
            None
        };
        return found
            .filter(|t| t.visible_in(ctx.region.as_str()) || t.home_region == arn.region)
            .ok_or_else(|| not_found(ctx, name_or_arn));
    }
    let name = parse_name(name_or_arn)?;
    let region = ctx.region.as_str();
    if let Some(t) = trails::get(conn, account, region, name.as_str())? {
        return Ok(t);
    }
    trails::visible_in(conn, account, region)?
        .into_iter()
        .find(|t| t.name == name.as_str())
        .ok_or_else(|| not_found(ctx, &trail_arn(&ctx.region, ctx.account(), name.as_str())))
}

/// Resolves a trail for a read that takes a shadow trail (a multi-region trail seen from
/// another region) only by its ARN: a name finds only a trail whose home is the caller's
/// region (GetTrailStatus, GetEventSelectors, GetInsightSelectors; AWS answers
/// GetEventSelectors by name in another region with `TrailNotFoundException`).
pub fn resolve_here(conn: &Connection, ctx: &CallContext, name_or_arn: &str) -> ApiResult<Trail> {
    let trail = resolve(conn, ctx, name_or_arn)?;
    if !name_or_arn.starts_with("arn:") && trail.home_region != ctx.region.as_str() {
        return Err(not_found(
            ctx,
            &trail_arn(&ctx.region, ctx.account(), &trail.name),
        ));
    }
    Ok(trail)
}

/// The ARN a call naming `name_or_arn` is authorized against: the trail's home-region ARN
/// when it exists (shadow trails resolve to their home), else the ARN the name would have in
/// the caller's region. Authorization comes before existence checks, so an unauthorized
/// caller learns nothing about which trails exist.
pub fn arn_for_authz(conn: &Connection, ctx: &CallContext, name_or_arn: &str) -> ApiResult<String> {
    match resolve(conn, ctx, name_or_arn) {
        Ok(t) => Ok(t.arn()),
        Err(e) if e.kind == ErrorKind::Internal => Err(e),
        Err(_) if name_or_arn.starts_with("arn:") => Ok(name_or_arn.to_owned()),
        Err(_) => Ok(trail_arn(&ctx.region, ctx.account(), name_or_arn)),
    }
}

/// Resolves a trail that the call must address in its home region.
pub fn resolve_home(conn: &Connection, ctx: &CallContext, name_or_arn: &str) -> ApiResult<Trail> {
    let trail = resolve(conn, ctx, name_or_arn)?;
    if trail.home_region != ctx.region.as_str() {
        return Err(not_home_region(&trail.home_region, ctx.region.as_str()));
    }
    Ok(trail)
}

/// `InvalidHomeRegionException` for a change of a trail whose home is `home` asked in `region`.
pub fn not_home_region(home: &str, region: &str) -> ApiError {
    ApiError::new(
        ErrorKind::InvalidHomeRegion,
        format!(
            "This operation must be called from the trail's home region, {home}. The request was made in {region}."
        ),
    )
}

fn account_trails(conn: &Connection, account: &str) -> ApiResult<Vec<Trail>> {
    Ok(trails::of_account(conn, account)?)
}

/// Enforces the five-trails-per-region limit for a trail about to exist as `candidate`.
fn check_trail_limit(ctx: &CallContext, existing: &[Trail], candidate: &Trail) -> ApiResult<()> {
    let others: Vec<&Trail> = existing
        .iter()
        .filter(|t| !(t.home_region == candidate.home_region && t.name == candidate.name))
        .collect();
    let regions: Vec<&str> = if candidate.is_multi_region_trail {
        KNOWN_REGIONS.to_vec()
    } else {
        vec![candidate.home_region.as_str()]
    };
    for region in regions {
        let visible = others.iter().filter(|t| t.visible_in(region)).count();
        if visible >= MAX_TRAILS_PER_REGION {
            return Err(ApiError::new(
                ErrorKind::MaximumNumberOfTrailsExceeded,
                format!(
                    "User: {} already has {MAX_TRAILS_PER_REGION} trails in {region}.",
                    ctx.account()
                ),
            ));
        }
    }
    Ok(())
}

/// What the edge found when it probed the external bucket a CreateTrail/UpdateTrail names
/// (outside any store transaction, with a short deadline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternalProbe {
    /// Not probed: a bucket the call does not name (an unchanged bucket was checked when the
    /// trail was set to it).
    Unprobed,
    /// Listed.
    Reachable,
    /// The store says the bucket does not exist.
    Missing,
    /// The store refused Cairn's credentials (`AccessDenied`, a bad signature).
    Refused(String),
    /// The store did not answer (down, timed out, clocks apart): why, for the message.
    Unreachable(String),
}

/// The configured external buckets, each with what its probe found. An external bucket's
/// policy is its own store's business.
pub type ExternalBuckets = std::collections::BTreeMap<String, ExternalProbe>;

/// Checks that a configured topic exists and lets CloudTrail publish.
fn check_topic(conn: &Connection, ctx: &CallContext, trail: &Trail) -> ApiResult<()> {
    let Some(topic) = &trail.sns_topic_arn else {
        return Ok(());
    };
    if crate::sns::cloudtrail_may_publish(conn, topic, &trail.arn(), ctx.account().as_str())? {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorKind::InsufficientSnsTopicPolicy,
            "SNS Topic does not exist or the topic policy is incorrect!",
        ))
    }
}

/// An external bucket's store keeps keys as paths (`object_store`): a prefix with an empty
/// segment (`a//b`, a leading or trailing `/`), a `.` or `..` segment or a control character
/// would be written under another key than the digests name, so it is refused there. Local
/// buckets take any prefix.
fn check_external_prefix(trail: &Trail) -> ApiResult<()> {
    let Some(prefix) = trail.s3_key_prefix.as_deref().filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let bad = prefix.starts_with('/')
        || prefix.ends_with('/')
        || prefix.chars().any(|c| c.is_control())
        || prefix
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if bad {
        return Err(ApiError::new(
            ErrorKind::InvalidS3Prefix,
            format!(
                "Invalid S3 prefix {prefix} for the external bucket {}: Cairn's external stores take no empty, '.' or '..' segment and no leading or trailing '/'.",
                trail.s3_bucket_name
            ),
        ));
    }
    Ok(())
}

/// Checks that the bucket exists and lets CloudTrail write this trail's logs.
fn check_bucket(
    conn: &Connection,
    ctx: &CallContext,
    trail: &Trail,
    external: &ExternalBuckets,
) -> ApiResult<()> {
    check_bucket_for(conn, ctx, trail, external, "CloudTrail")
}

/// What PutInsightSelectors checks before it turns Insights on (AWS lists
/// `S3BucketDoesNotExistException`, `InsufficientS3BucketPolicyException`,
/// `InsufficientEncryptionPolicyException` and `KmsException` for it; insights6: a deleted
/// bucket or policy, a disabled key, or a policy CloudTrail may not write Insights files
/// under, was accepted and every Insights file then failed): the trail's bucket and policy
/// as CreateTrail checks them, for its `CloudTrail-Insight/` folder too, and its KMS key.
pub fn check_insights_destination(
    conn: &Connection,
    ctx: &CallContext,
    trail: &Trail,
    external: &ExternalBuckets,
    kms: crate::sse::KmsAccess<'_>,
) -> ApiResult<()> {
    check_bucket_for(conn, ctx, trail, external, "CloudTrail")?;
    check_bucket_for(conn, ctx, trail, external, "CloudTrail-Insight")?;
    if let Some(key) = trail.kms_key_id.as_deref()
        && !external.contains_key(&trail.s3_bucket_name)
    {
        crate::sse::check_trail_key(conn, kms, trail, key, ctx.now, false)?;
    }
    Ok(())
}

/// [`check_bucket`] for the files of one folder (`CloudTrail`, `CloudTrail-Insight`).
fn check_bucket_for(
    conn: &Connection,
    ctx: &CallContext,
    trail: &Trail,
    external: &ExternalBuckets,
    folder: &str,
) -> ApiResult<()> {
    let bucket_name = &trail.s3_bucket_name;
    if let Some(probe) = external.get(bucket_name) {
        check_external_prefix(trail)?;
        return match probe {
            ExternalProbe::Unprobed | ExternalProbe::Reachable => Ok(()),
            ExternalProbe::Missing => Err(ApiError::new(
                ErrorKind::S3BucketDoesNotExist,
                format!("S3 bucket {bucket_name} does not exist!"),
            )),
            // As when CloudTrail may not write to a bucket: the store refused Cairn.
            ExternalProbe::Refused(why) => Err(ApiError::new(
                ErrorKind::InsufficientS3BucketPolicy,
                format!(
                    "Incorrect S3 bucket policy is detected for bucket: {bucket_name} (its external store refused Cairn's credentials: {why})"
                ),
            )),
            ExternalProbe::Unreachable(why) => Err(ApiError::new(
                ErrorKind::S3BucketDoesNotExist,
                format!(
                    "S3 bucket {bucket_name} does not exist! (its external store did not answer: {why})"
                ),
            )),
        };
    }
    let bucket = buckets::get(conn, bucket_name)?.ok_or_else(|| {
        ApiError::new(
            ErrorKind::S3BucketDoesNotExist,
            format!("S3 bucket {bucket_name} does not exist!"),
        )
    })?;
    let insufficient = || {
        ApiError::new(
            ErrorKind::InsufficientS3BucketPolicy,
            format!("Incorrect S3 bucket policy is detected for bucket: {bucket_name}"),
        )
    };
    let policy = bucket.policy.as_deref().ok_or_else(insufficient)?;
    let prefix = match trail.s3_key_prefix.as_deref() {
        Some(p) if !p.is_empty() => format!("{p}/"),
        _ => String::new(),
    };
    let source_arn = trail.arn();
    let mut keys = vec![
        ("aws:SourceArn", source_arn.as_str()),
        ("aws:SourceAccount", ctx.account().as_str()),
        ("s3:x-amz-acl", "bucket-owner-full-control"),
    ];
    keys.extend(crate::policy::sse_kms_keys(trail.kms_key_id.as_deref()));
    let may = |action: &str, resource: &str| {
        crate::policy::service_allowed(policy, "cloudtrail.amazonaws.com", action, resource, &keys)
    };
    let probe = format!(
        "arn:aws:s3:::{bucket_name}/{prefix}AWSLogs/{}/{folder}/{}/probe.json.gz",
        ctx.account(),
        ctx.region
    );
    if may("s3:GetBucketAcl", &format!("arn:aws:s3:::{bucket_name}")) && may("s3:PutObject", &probe)
    {
        Ok(())
    } else {
        Err(insufficient())
    }
}

/// Checks a `KmsKeyId` given in this call (spec iam-kms.md §9.2) and stores the key ARN.
fn check_key(
    conn: &Connection,
    ctx: &CallContext,
    trail: &mut Trail,
    args: &TrailArgs,
    external: &ExternalBuckets,
    kms: crate::sse::KmsAccess<'_>,
) -> ApiResult<()> {
    let external_refusal = || {
        ApiError::new(
            ErrorKind::TrailKms,
            format!(
                "Cairn cannot encrypt log files with a KMS key in the external bucket {}.",
                trail.s3_bucket_name
            ),
        )
    };
    let Some(given) = args.kms_key_id.as_deref().filter(|k| !k.is_empty()) else {
        // A trail keeping its key while moving to another bucket: not to an external one
        // (never sealed there), and the key must still be in the bucket's region.
        if args.s3_bucket_name.is_some()
            && trail.kms_key_id.is_some()
            && external.contains_key(&trail.s3_bucket_name)
        {
            return Err(external_refusal());
        }
        if args.s3_bucket_name.is_some()
            && let Some(key_arn) = &trail.kms_key_id
        {
            crate::sse::check_trail_key_region(conn, trail, key_arn)?;
        }
        // A bucket whose default seals with an S3 Bucket Key under a customer key: CloudTrail
        // must be allowed to use that key, else "you cannot create or update a trail"
        // (CloudTrail User Guide, "Encrypting CloudTrail log files with AWS KMS keys").
        if trail.kms_key_id.is_none()
            && !external.contains_key(&trail.s3_bucket_name)
            && let Some(rule) = crate::encryption::kms_default_for_put(conn, &trail.s3_bucket_name)?
            && rule.bucket_key_enabled
            && let Some(key) = rule.kms_key_id.as_deref().filter(|k| !k.is_empty())
        {
            crate::sse::check_trail_key(conn, kms, trail, key, ctx.now, true)?;
        }
        return Ok(());
    };
    if external.contains_key(&trail.s3_bucket_name) {
        return Err(external_refusal());
    }
    // Resolved as given (a bare key id or alias name names a key of the bucket's region).
    trail.kms_key_id = Some(crate::sse::check_trail_key(
        conn, kms, trail, given, ctx.now, false,
    )?);
    Ok(())
}

fn empty_to_none(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

/// Applies `args` to `trail`, validating each supplied member.
fn apply_args(ctx: &CallContext, trail: &mut Trail, args: &TrailArgs) -> ApiResult<()> {
    let region = ctx.region.as_str();
    let account = ctx.account().as_str();
    if let Some(bucket) = &args.s3_bucket_name {
        validate::bucket_name(bucket)?;
        trail.s3_bucket_name = bucket.clone();
    }
    if let Some(prefix) = &args.s3_key_prefix {
        validate::key_prefix(prefix)?;
        trail.s3_key_prefix = empty_to_none(prefix).map(str::to_owned);
    }
    if let Some(topic) = &args.sns_topic_name {
        trail.sns_topic_arn = match empty_to_none(topic) {
            Some(t) => Some(validate::sns_topic(t, region, account)?),
            None => None,
        };
    }
    if let Some(key) = &args.kms_key_id {
        trail.kms_key_id = match empty_to_none(key) {
            Some(k) => Some(validate::kms_key(k, region, account)?),
            None => None,
        };
    }
    // The group ARN's form is checked with the rest of the destination (`trail_logs::check`).
    if let Some(group) = &args.cloud_watch_logs_log_group_arn {
        trail.cloud_watch_logs_log_group_arn = empty_to_none(group).map(str::to_owned);
        if group.is_empty() {
            // An empty group clears CloudWatch Logs delivery: the role goes with it.
            trail.cloud_watch_logs_role_arn = None;
        }
    }
    if let Some(role) = &args.cloud_watch_logs_role_arn {
        if let Some(r) = empty_to_none(role) {
            validate::role_arn(r)?;
        }
        trail.cloud_watch_logs_role_arn = empty_to_none(role).map(str::to_owned);
    }
    crate::trail_logs::check_pair(trail)?;
    if let Some(multi) = args.is_multi_region_trail {
        if multi != trail.is_multi_region_trail && args.include_global_service_events.is_none() {
            trail.include_global_service_events = multi || trail.include_global_service_events;
        }
        trail.is_multi_region_trail = multi;
    }
    if let Some(global) = args.include_global_service_events {
        trail.include_global_service_events = global;
    }
    if trail.is_multi_region_trail && !trail.include_global_service_events {
        return Err(ApiError::new(
            ErrorKind::InvalidParameterCombination,
            "Multi-Region trail must include global service events.",
        ));
    }
    if let Some(validation) = args.enable_log_file_validation {
        if validation && !trail.log_file_validation_enabled {
            // Re-enabled: a new digest chain starts (no digest covers the time it was off).
            trail.status.validation_enabled_time = Some(ctx.now);
        }
        if !validation && trail.log_file_validation_enabled {
            // Turned off: the running chain owes one last digest (a final one if logging
            // stopped while it was on), written by the next digest step.
            trail.status.validation_turned_off(ctx.now);
        }
        trail.log_file_validation_enabled = validation;
    }
    if args.is_organization_trail == Some(true) {
        return Err(ApiError::new(
            ErrorKind::OrganizationsNotInUse,
            "This account is not a member of an organization.",
        ));
    }
    Ok(())
}

/// CreateTrail.
pub fn create(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    args: &TrailArgs,
    tags: &[Tag],
    external: &ExternalBuckets,
    kms: crate::sse::KmsAccess<'_>,
) -> ApiResult<Trail> {
    let name = parse_name(name)?;
    let bucket = args.s3_bucket_name.clone().unwrap_or_default();
    let mut trail = Trail {
        name: name.as_str().to_owned(),
        account: ctx.account().to_string(),
        home_region: ctx.region.to_string(),
        s3_bucket_name: bucket,
        s3_key_prefix: None,
        sns_topic_arn: None,
        include_global_service_events: true,
        is_multi_region_trail: false,
        log_file_validation_enabled: false,
        cloud_watch_logs_log_group_arn: None,
        cloud_watch_logs_role_arn: None,
        kms_key_id: None,
        is_organization_trail: false,
        selectors: Selectors::Basic(vec![EventSelector::default_all_management()]),
        has_custom_event_selectors: false,
        insight_selectors: Vec::new(),
        tags: Vec::new(),
        status: TrailStatus::default(),
        created_at: ctx.now,
    };
    apply_args(ctx, &mut trail, args)?;
    validate::bucket_name(&trail.s3_bucket_name)?;
    validate::merge_tags(&mut trail.tags, tags)?;
    let existing = account_trails(conn, ctx.account().as_str())?;
    check_name_free(ctx, &existing, &trail)?;
    check_trail_limit(ctx, &existing, &trail)?;
    // The key first: the bucket policy is judged with the encryption headers a trail with a
    // key sends (guide6: a policy requiring SSE-KMS refused a KMS trail's deliveries).
    check_key(conn, ctx, &mut trail, args, external, kms)?;
    check_bucket(conn, ctx, &trail, external)?;
    check_topic(conn, ctx, &trail)?;
    crate::trail_logs::check(conn, ctx, &trail)?;
    trails::put(conn, &trail)?;
    crate::trail_logs::configure(conn, &trail, None)?;
    Ok(trail)
}

/// A trail name names one trail in every Region where a trail of that name is visible: a
/// trail may not share its name with another trail visible in its home Region, and a
/// multi-Region trail (visible everywhere) with any trail of the account.
fn check_name_free(ctx: &CallContext, others: &[Trail], trail: &Trail) -> ApiResult<()> {
    let clash = others.iter().any(|t| {
        t.name == trail.name && (t.visible_in(&trail.home_region) || trail.is_multi_region_trail)
    });
    if clash {
        return Err(ApiError::new(
            ErrorKind::TrailAlreadyExists,
            format!(
                "Trail {} already exists for customer: {}",
                trail.name,
                ctx.account()
            ),
        ));
    }
    Ok(())
}

/// UpdateTrail.
pub fn update(
    conn: &Connection,
    ctx: &CallContext,
    name_or_arn: &str,
    args: &TrailArgs,
    external: &ExternalBuckets,
    kms: crate::sse::KmsAccess<'_>,
) -> ApiResult<Trail> {
    let mut trail = resolve_home(conn, ctx, name_or_arn)?;
    let was_multi = trail.is_multi_region_trail;
    let logs_before = trail
        .cloud_watch_logs_log_group_arn
        .clone()
        .zip(trail.cloud_watch_logs_role_arn.clone());
    let coverage = trail.coverage();
    apply_args(ctx, &mut trail, args)?;
    if trail.is_multi_region_trail && !was_multi {
        let existing = account_trails(conn, ctx.account().as_str())?;
        let others: Vec<Trail> = existing
            .into_iter()
            .filter(|t| t.arn() != trail.arn())
            .collect();
        check_name_free(ctx, &others, &trail)?;
        check_trail_limit(ctx, &others, &trail)?;
    }
    // The key first: the bucket policy is judged with the encryption headers a trail with a
    // key sends (guide6: a policy requiring SSE-KMS refused a KMS trail's deliveries).
    check_key(conn, ctx, &mut trail, args, external, kms)?;
    check_bucket(conn, ctx, &trail, external)?;
    // A trail with Insights on delivers Insights files there too: the new place must take
    // them, as PutInsightSelectors requires (recheck33: UpdateTrail moved an Insights trail
    // to a bucket whose policy refused `CloudTrail-Insight/`).
    if !trail.insight_selectors.is_empty() {
        check_bucket_for(conn, ctx, &trail, external, "CloudTrail-Insight")?;
    }
    check_topic(conn, ctx, &trail)?;
    if args.cloud_watch_logs_log_group_arn.is_some() || args.cloud_watch_logs_role_arn.is_some() {
        crate::trail_logs::check(conn, ctx, &trail)?;
    }
    // A region the trail no longer covers ends its open insights there, with End events
    // appended before this call's own (see `stop_logging`).
    crate::insights::close::close_unevaluated(conn, &trail.arn(), &trail.account, Some(&trail))?;
    if trail.coverage() != coverage {
        // The new regions apply after this call's own event (the next one appended), which,
        // like the events recorded before it, keeps the coverage it was recorded under (a
        // change that narrows a trail is logged by it).
        let from_seq = cairn_store::events::next_seq(conn)? + 1;
        let cursor = cairn_store::delivery::cursor(conn, &trail.arn())?;
        let selectors = trail.selectors.clone();
        crate::selectors::remember_routing(&mut trail, selectors, coverage, from_seq, cursor);
    }
    trails::put(conn, &trail)?;
    if trail.is_multi_region_trail && !was_multi {
        crate::insights::close::regions_joined(conn, &trail, ctx.now)?;
    }
    let previous = logs_before.as_ref().map(|(g, r)| (g.as_str(), r.as_str()));
    crate::trail_logs::configure(conn, &trail, previous)?;
    Ok(trail)
}

/// DeleteTrail. Logging stops with it; the bucket and its objects stay. What the trail had
/// selected up to the deletion (this call's own event included) is still delivered.
pub fn delete(conn: &Connection, ctx: &CallContext, name_or_arn: &str) -> ApiResult<Trail> {
    let trail = resolve_home(conn, ctx, name_or_arn)?;
    // Its open insights end, and its Insights events go to its own bucket, never to a later
    // trail of the same name.
    crate::insights::close::trail_deleted(conn, &trail, ctx.now)?;
    let this_event = cairn_store::delivery::max_seq(conn)? + 1;
    cairn_store::delivery::retire_trail(conn, &trail, this_event, ctx.now)?;
    trails::delete(conn, &trail.account, &trail.home_region, &trail.name)?;
    cairn_store::trail_logs::clear(conn, &trail.arn())?;
    cairn_store::trail_logs::forget_closing(conn, &trail.arn())?;
    Ok(trail)
}

/// GetTrail. Unlike the other trail calls, its not-found message names the trail as given
/// (`Unknown trail: <name> for the user: <account>`), not its ARN.
pub fn get(conn: &Connection, ctx: &CallContext, name_or_arn: &str) -> ApiResult<Trail> {
    resolve(conn, ctx, name_or_arn).map_err(|e| {
        if e.kind == ErrorKind::TrailNotFound {
            not_found(ctx, name_or_arn)
        } else {
            e
        }
    })
}

/// DescribeTrails.
pub fn describe(
    conn: &Connection,
    ctx: &CallContext,
    names: &[String],
    include_shadow: bool,
) -> ApiResult<Vec<Trail>> {
    let region = ctx.region.as_str();
    let visible: Vec<Trail> = trails::visible_in(conn, ctx.account().as_str(), region)?
        .into_iter()
        .filter(|t| include_shadow || t.home_region == region)
        .collect();
    if names.is_empty() {
        return Ok(visible);
    }
    let mut out: Vec<Trail> = Vec::new();
    for wanted in names {
        let found = if wanted.starts_with("arn:") {
            let arn = parse_arn(ctx, wanted)?;
            if arn.account == ctx.account().as_str() && wanted.starts_with("arn:aws:") {
                trails::get(conn, &arn.account, &arn.region, &arn.name)?
            } else {
                None
            }
        } else {
            // A name finds only this region's own trails; another region's takes its ARN.
            parse_name(wanted)?;
            visible
                .iter()
                .find(|t| &t.name == wanted && t.home_region == region)
                .cloned()
        };
        if let Some(t) = found
            && !out.iter().any(|o| o.arn() == t.arn())
        {
            out.push(t);
        }
    }
    Ok(out)
}

/// ListTrails: every trail visible from the region, in a stable order.
pub fn list(conn: &Connection, ctx: &CallContext) -> ApiResult<Vec<Trail>> {
    Ok(trails::visible_in(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
    )?)
}

/// StartLogging.
pub fn start_logging(conn: &Connection, ctx: &CallContext, name_or_arn: &str) -> ApiResult<Trail> {
    let mut trail = resolve_home(conn, ctx, name_or_arn)?;
    if !trail.status.is_logging {
        trail.status.is_logging = true;
        trail.status.start_logging_time = Some(ctx.now);
        // This call's own event is the next row of the event log (it is appended in the same
        // write job, right after this operation), so the window starts with it.
        let next = cairn_store::events::next_seq(conn)?;
        trail
            .status
            .windows
            .push(cairn_model::trail::LoggingWindow {
                start_seq: next,
                end_seq: None,
            });
    }
    trails::put(conn, &trail)?;
    Ok(trail)
}

/// StopLogging.
pub fn stop_logging(conn: &Connection, ctx: &CallContext, name_or_arn: &str) -> ApiResult<Trail> {
    let mut trail = resolve_home(conn, ctx, name_or_arn)?;
    // A stopped trail evaluates no Insights: its open insights end now, with End events
    // appended before this call's own (insights4: ending them after the StopLogging event's
    // seq was taken pushed that event past the window, out of the trail's files and final
    // digest).
    let mut stopped = trail.clone();
    stopped.status.is_logging = false;
    crate::insights::close::close_unevaluated(conn, &trail.arn(), &trail.account, Some(&stopped))?;
    if trail.status.is_logging {
        // The StopLogging event itself is the last one delivered, and the last one the
        // chain's final digest covers.
        let this_event = cairn_store::events::next_seq(conn)?;
        let validation = trail.log_file_validation_enabled;
        trail.status.stopped(ctx.now, this_event, validation);
    }
    trails::put(conn, &trail)?;
    Ok(trail)
}

/// GetTrailStatus. A name finds only a trail whose home is the caller's region: the status of
/// a shadow trail (a multi-Region trail seen from another region) takes its ARN, as on AWS.
/// Status is per region (the API reference: "returns trail status from a single Region"):
/// in a region other than its home, a multi-region trail's latest log file and digest are
/// that region's, absent until the trail delivered one there.
pub fn status(conn: &Connection, ctx: &CallContext, name_or_arn: &str) -> ApiResult<Trail> {
    let mut trail = resolve_here(conn, ctx, name_or_arn)?;
    let here = ctx.region.as_str();
    if trail.is_multi_region_trail && trail.home_region != here {
        let (file, digest) =
            cairn_store::delivery::region_latest(conn, &trail.arn(), here, trail.created_at)?;
        let d = &mut trail.status.delivery;
        d.latest_delivery_time = file;
        d.latest_delivery_attempt_time = file;
        d.latest_digest_delivery_time = digest;
    }
    Ok(trail)
}
