//! The bucket control plane: create, head, list, delete, location, policy.

use cairn_model::KNOWN_REGIONS;
use cairn_store::Connection;
use cairn_store::buckets::{self, Bucket};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::validate::is_valid_new_bucket_name;

/// What CreateBucket did.
#[derive(Debug, PartialEq, Eq)]
pub enum Created {
    /// A new bucket.
    New,
    /// The caller already owned it, and us-east-1 answers that with success.
    AlreadyOwnedLegacy,
}

/// `NoSuchBucket` in S3's words (the body's `<BucketName>` names the bucket).
pub(crate) fn no_such_bucket() -> ApiError {
    ApiError::new(
        ErrorKind::S3NoSuchBucket,
        "The specified bucket does not exist",
    )
}

/// Fetches a bucket the caller may use.
pub fn owned(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<Bucket> {
    let bucket = buckets::get(conn, name)?.ok_or_else(no_such_bucket)?;
    if bucket.account != ctx.account().as_str() {
        return Err(ApiError::new(ErrorKind::S3AccessDenied, "Access Denied"));
    }
    Ok(bucket)
}

/// S3's bucket owner condition: a request that names the account it expects to own a bucket
/// (`x-amz-expected-bucket-owner`, and `x-amz-source-expected-bucket-owner` for a copy's
/// source) acts only if that account owns it; anything else is `403 AccessDenied`, as S3
/// answers, so a mistyped bucket name never reaches another account's bucket. A bucket that
/// does not exist is left to the call (`NoSuchBucket`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerCondition {
    /// The bucket named.
    pub bucket: String,
    /// The account the caller expects to own it, as sent.
    pub expected: String,
}

/// Checks every owner condition of a call (see [`OwnerCondition`]).
pub fn check_owners(conn: &Connection, conditions: &[OwnerCondition]) -> ApiResult<()> {
    for c in conditions {
        if let Some(found) = buckets::get(conn, &c.bucket)?
            && found.account != c.expected
        {
            return Err(ApiError::new(ErrorKind::S3AccessDenied, "Access Denied"));
        }
    }
    Ok(())
}

/// General purpose buckets an account may have: S3's default quota (S3 User Guide, "General
/// purpose bucket quotas"), beyond which CreateBucket is `TooManyBuckets`.
pub const MAX_BUCKETS: i64 = 10_000;

/// CreateBucket. `external`: the settings file maps `name` to an external store, whose
/// bucket it is: never made locally, where S3 readers would take it for the trail's (from
/// the S3 API, CloudFormation or the console alike).
pub fn create(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    location: Option<&str>,
    external: bool,
) -> ApiResult<Created> {
    if !is_valid_new_bucket_name(name) {
        return Err(ApiError::new(
            ErrorKind::S3InvalidBucketName,
            "The specified bucket is not valid.",
        ));
    }
    if external {
        return Err(ApiError::new(
            ErrorKind::S3BucketAlreadyExists,
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
        ));
    }
    let request_region = ctx.region.as_str();
    let region = match location {
        Some("") | None => {
            if request_region != "us-east-1" {
                return Err(ApiError::new(
                    ErrorKind::S3IllegalLocationConstraint,
                    "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
                ));
            }
            "us-east-1"
        }
        Some(loc) => {
            let known = KNOWN_REGIONS.contains(&loc) && loc != "us-east-1" || loc == "EU";
            if !known {
                return Err(ApiError::new(
                    ErrorKind::S3InvalidLocationConstraint,
                    "The specified location-constraint is not valid",
                ));
            }
            let loc = if loc == "EU" { "eu-west-1" } else { loc };
            if loc != request_region {
                return Err(ApiError::new(
                    ErrorKind::S3IllegalLocationConstraint,
                    format!(
                        "The {loc} location constraint is incompatible for the region specific endpoint this request was sent to."
                    ),
                ));
            }
            loc
        }
    };
    if let Some(existing) = buckets::get(conn, name)? {
        if existing.account != ctx.account().as_str() {
            return Err(ApiError::new(
                ErrorKind::S3BucketAlreadyExists,
                "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
            ));
        }
        if request_region == "us-east-1" && existing.region == "us-east-1" {
            return Ok(Created::AlreadyOwnedLegacy);
        }
        return Err(ApiError::new(
            ErrorKind::S3BucketAlreadyOwnedByYou,
            "Your previous request to create the named bucket succeeded and you already own it.",
        ));
    }
    if buckets::count(conn, ctx.account().as_str())? >= MAX_BUCKETS {
        return Err(ApiError::new(
            ErrorKind::S3TooManyBuckets,
            "You have attempted to create more buckets than allowed",
        ));
    }
    buckets::insert(
        conn,
        &Bucket {
            name: name.to_owned(),
            account: ctx.account().to_string(),
            region: region.to_owned(),
            created: ctx.now,
            policy: None,
        },
    )?;
    Ok(Created::New)
}

/// DeleteBucket: only a bucket without objects can go. Its unfinished multipart uploads go
/// with it (as on S3, they do not block a general purpose bucket's deletion), and so does
/// every setting, so a new bucket of the same name starts empty. Returns the uploads' part
/// files, to delete once the deletion has committed.
pub fn delete(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<Vec<String>> {
    owned(conn, ctx, name)?;
    if !cairn_store::objects::bucket_is_empty(conn, name)? {
        return Err(ApiError::new(
            ErrorKind::S3BucketNotEmpty,
            "The bucket you tried to delete is not empty",
        ));
    }
    let files = cairn_store::objects::delete_bucket_uploads(conn, name)?;
    buckets::delete(conn, name)?;
    Ok(files)
}

/// ListBuckets.
pub fn list(conn: &Connection, ctx: &CallContext) -> ApiResult<Vec<Bucket>> {
    Ok(buckets::list(conn, ctx.account().as_str())?)
}

/// What a ListBuckets call asks for: names that begin with `prefix`, in `region` when given,
/// after `after` (a continuation token's last name), at most `max` when given.
#[derive(Clone, Debug, Default)]
pub struct ListBuckets {
    /// `prefix`.
    pub prefix: String,
    /// `bucket-region`.
    pub region: Option<String>,
    /// The last name a previous page gave.
    pub after: String,
    /// `max-buckets` (1 to 10,000).
    pub max: Option<i32>,
}

/// ListBuckets with its filters: the page of the account's buckets, by name, and whether more
/// follow. `max-buckets` outside 1 to 10,000 is `InvalidArgument`.
pub fn list_page(
    conn: &Connection,
    ctx: &CallContext,
    ask: &ListBuckets,
) -> ApiResult<(Vec<Bucket>, bool)> {
    if ask.max.is_some_and(|m| !(1..=10_000).contains(&m)) {
        return Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "Argument max-buckets must be an integer between 1 and 10000",
        ));
    }
    let mut page: Vec<Bucket> = list(conn, ctx)?
        .into_iter()
        .filter(|b| {
            b.name.starts_with(&ask.prefix)
                && b.name > ask.after
                && ask.region.as_deref().is_none_or(|r| b.region == r)
        })
        .collect();
    let max = ask.max.map_or(usize::MAX, |m| m as usize);
    let truncated = page.len() > max;
    page.truncate(max);
    Ok((page, truncated))
}

/// S3's bucket policy size limit, in bytes of minified JSON.
pub const MAX_BUCKET_POLICY_BYTES: usize = 20 * 1024;

/// PutBucketPolicy: the document must fit S3's 20 KB, parse and name only this bucket's resources, and may
/// not be public while the bucket's public access block sets `BlockPublicPolicy`.
pub fn put_policy(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    document: &str,
) -> ApiResult<()> {
    owned(conn, ctx, name)?;
    // S3's limit: 20 KB, measured without the whitespace JSON does not need.
    let minified = serde_json::from_str::<serde_json::Value>(document)
        .map(|v| v.to_string().len())
        .unwrap_or(document.len());
    if minified > MAX_BUCKET_POLICY_BYTES {
        return Err(ApiError::new(
            ErrorKind::S3MalformedPolicy,
            "Policy exceeds the maximum allowed document size.",
        ));
    }
    let policy = crate::policy::parse_resource(document)
        .map_err(|m| ApiError::new(ErrorKind::S3MalformedPolicy, m))?;
    let bucket_arn = format!("arn:aws:s3:::{name}");
    for resource in policy.resources() {
        let ok = resource == bucket_arn || resource.starts_with(&format!("{bucket_arn}/"));
        if !ok {
            return Err(ApiError::new(
                ErrorKind::S3MalformedPolicy,
                "Policy has invalid resource",
            ));
        }
    }
    if let Ok(doc) = serde_json::from_str(document) {
        crate::bucket_config::check_policy_allowed(conn, ctx, name, &doc)?;
    }
    let account = ctx.account().as_str();
    if crate::iam::roles::missing_principal(conn, account, &policy)?.is_some() {
        return Err(ApiError::new(
            ErrorKind::S3MalformedPolicy,
            "Invalid principal in policy",
        ));
    }
    let bound = crate::iam::principal_ids::bind(conn, account, document)?;
    buckets::set_policy(conn, name, Some(&bound))?;
    Ok(())
}

/// GetBucketPolicy.
pub fn get_policy(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<String> {
    let stored = owned(conn, ctx, name)?.policy.ok_or_else(|| {
        ApiError::new(
            ErrorKind::S3NoSuchBucketPolicy,
            "The bucket policy does not exist",
        )
    })?;
    crate::iam::principal_ids::render(conn, &stored)
}

/// DeleteBucketPolicy.
pub fn delete_policy(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<()> {
    owned(conn, ctx, name)?;
    buckets::set_policy(conn, name, None)?;
    Ok(())
}
