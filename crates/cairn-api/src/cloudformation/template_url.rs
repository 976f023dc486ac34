//! CloudFormation's `TemplateURL`: a template kept as an object in a Cairn bucket.
//!
//! The URL may be any form S3 documents (`https://<bucket>.s3.<region>.amazonaws.com/<key>`,
//! `https://s3.<region>.amazonaws.com/<bucket>/<key>`, the legacy `s3-<region>` and global
//! hosts), a virtual host under one of Cairn's S3 domains, or a path-style URL on any other
//! host: the form the AWS CLI builds from its endpoint (`aws cloudformation deploy
//! --s3-bucket`, `aws cloudformation package`). A `versionId` query names a version.
//!
//! CloudFormation reads the object with the caller's own permissions (the caller needs
//! `s3:GetObject` on it), so the read is an ordinary GetObject through the S3 handler: the
//! gate authorizes it as the caller and records it as a data event invoked by
//! `cloudformation.amazonaws.com`, in the bucket's region. Templates read this way may be up to 1 MB, where a
//! `TemplateBody` may be 51,200 bytes (the CloudFormation quotas page).

use cairn_core::{ApiError, ErrorKind};
use s3s::S3ErrorCode;
use s3s::dto::GetObjectInput;

use super::services::CLOUDFORMATION;
use crate::recording::CallInfo;
use crate::s3::CairnS3;
use crate::s3::access::CairnHost;

/// The largest template a `TemplateURL` may name (CloudFormation's quota, 1 MB).
pub const MAX_TEMPLATE_BYTES: usize = 1024 * 1024;

/// The object a `TemplateURL` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateObject {
    /// The bucket.
    pub bucket: String,
    /// The key, decoded.
    pub key: String,
    /// `versionId`, when the URL names one.
    pub version_id: Option<String>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    cairn_core::cloudformation::prepare::invalid(message)
}

fn unsupported() -> ApiError {
    invalid("TemplateURL must be a supported URL.")
}

fn no_access() -> ApiError {
    invalid("TemplateURL must reference a valid S3 object to which you have access.")
}

/// Where an AWS S3 host puts the bucket: `None` for a host that is not S3's, else
/// `Some(None)` (path style) or `Some(Some(bucket))`.
fn aws_s3_host(host: &str) -> Option<Option<String>> {
    let base = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let labels: Vec<&str> = base.split('.').collect();
    // The last `s3`/`s3-<region>` label is S3's: a bucket's own name may hold one
    // (`s3-templates.s3.amazonaws.com`).
    let at = labels
        .iter()
        .rposition(|l| *l == "s3" || (l.starts_with("s3-") && !l.starts_with("s3-website")))?;
    if labels.iter().any(|l| l.starts_with("s3-website")) {
        return None;
    }
    Some((at > 0).then(|| labels[..at].join(".")))
}

/// The object a `TemplateURL` names, or CloudFormation's refusal of the URL.
pub fn parse(url: &str, hosts: &CairnHost) -> Result<TemplateObject, ApiError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| unsupported())?;
    let host = parsed
        .host_str()
        .ok_or_else(unsupported)?
        .to_ascii_lowercase();
    let aws = aws_s3_host(&host);
    let https = parsed.scheme() == "https";
    // S3's own hosts only over https, as CloudFormation requires; a local endpoint is
    // often plain http.
    if !(https || (parsed.scheme() == "http" && aws.is_none())) {
        return Err(unsupported());
    }
    if host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn") {
        aws.as_ref().ok_or_else(unsupported)?;
    }
    let authority = match parsed.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    let virtual_bucket = match &aws {
        Some(b) => b.clone(),
        None => hosts.bucket(&authority).map(str::to_owned),
    };
    let path = parsed.path().strip_prefix('/').unwrap_or(parsed.path());
    let (bucket, raw_key): (String, &str) = match virtual_bucket {
        Some(b) => (b, path),
        None => {
            let (b, k) = path.split_once('/').ok_or_else(no_access)?;
            (b.to_owned(), k)
        }
    };
    let key = percent_encoding::percent_decode_str(raw_key)
        .decode_utf8()
        .map_err(|_| no_access())?
        .into_owned();
    if bucket.is_empty() || key.is_empty() {
        return Err(no_access());
    }
    let version_id = parsed
        .query_pairs()
        .find(|(k, _)| k == "versionId")
        .map(|(_, v)| v.into_owned());
    Ok(TemplateObject {
        bucket,
        key,
        version_id,
    })
}

/// What CloudFormation answers when S3 refused its read.
fn refusal(code: &S3ErrorCode) -> ApiError {
    match code {
        S3ErrorCode::AccessDenied => invalid(
            "S3 error: Access Denied\nFor more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html",
        ),
        S3ErrorCode::ServiceUnavailable | S3ErrorCode::SlowDown | S3ErrorCode::InternalError => {
            ApiError::new(ErrorKind::Internal, "the template could not be read")
        }
        _ => no_access(),
    }
}

/// Reads the template `url` names, as `info`'s caller.
pub async fn fetch(s3: &CairnS3, info: &CallInfo, url: &str) -> Result<String, ApiError> {
    use futures::StreamExt;
    let object = parse(url, s3.hosts())?;
    let mut read_as = info.clone();
    read_as.request_id = uuid::Uuid::new_v4().to_string();
    read_as.source_ip = CLOUDFORMATION.to_owned();
    read_as.user_agent = CLOUDFORMATION.to_owned();
    read_as.invoked_by = Some(CLOUDFORMATION.to_owned());
    read_as.console = None;
    read_as.signing = None;
    read_as.ctx.origin.source_ip = CLOUDFORMATION.to_owned();
    read_as.ctx.origin.user_agent = CLOUDFORMATION.to_owned();
    // The read is the bucket's region's data event, wherever the stack is.
    if let Some(region) = s3.bucket_region(&object.bucket).await {
        read_as.ctx.region = region;
    }
    let input = GetObjectInput {
        bucket: object.bucket,
        key: object.key,
        version_id: object.version_id,
        ..Default::default()
    };
    let out = s3
        .get_object_as(read_as, input, "s3.amazonaws.com", Default::default())
        .await
        .map_err(|e| refusal(e.code()))?
        .output;
    if out.content_length.unwrap_or(0) as u64 > MAX_TEMPLATE_BYTES as u64 {
        return Err(template_too_large());
    }
    let mut bytes = Vec::new();
    if let Some(mut body) = out.body {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::new(ErrorKind::Internal, "the template could not be read")
            })?;
            if bytes.len() + chunk.len() > MAX_TEMPLATE_BYTES {
                return Err(template_too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
    }
    String::from_utf8(bytes).map_err(|_| invalid("Template format error: unsupported structure."))
}

fn template_too_large() -> ApiError {
    invalid(format!(
        "Template may not exceed {MAX_TEMPLATE_BYTES} bytes in size."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(bucket: &str, key: &str) -> TemplateObject {
        TemplateObject {
            bucket: bucket.into(),
            key: key.into(),
            version_id: None,
        }
    }

    #[test]
    fn every_s3_url_form_names_its_object() {
        let h = CairnHost::default();
        let p = |u: &str| parse(u, &h);
        assert_eq!(
            p("https://b.s3.us-east-1.amazonaws.com/t/a.yaml").unwrap(),
            obj("b", "t/a.yaml")
        );
        assert_eq!(
            p("https://my.dotted.bucket.s3.amazonaws.com/a.json").unwrap(),
            obj("my.dotted.bucket", "a.json")
        );
        assert_eq!(
            p("https://s3.eu-west-1.amazonaws.com/b/dir/a%20b.yaml").unwrap(),
            obj("b", "dir/a b.yaml")
        );
        assert_eq!(
            p("https://s3-us-west-2.amazonaws.com/b/k").unwrap(),
            obj("b", "k")
        );
        assert_eq!(
            p("https://b.s3-external-1.amazonaws.com/k").unwrap(),
            obj("b", "k")
        );
        assert_eq!(p("https://s3.amazonaws.com/b/k").unwrap(), obj("b", "k"));
        assert_eq!(
            p("https://s3-templates.s3.amazonaws.com/other/x.yaml").unwrap(),
            obj("s3-templates", "other/x.yaml")
        );
        assert_eq!(
            p("https://my.s3.bucket.s3.us-east-1.amazonaws.com/k").unwrap(),
            obj("my.s3.bucket", "k")
        );
        assert_eq!(
            p("https://s3.dualstack.us-east-1.amazonaws.com/b/k").unwrap(),
            obj("b", "k")
        );
        assert_eq!(
            p("http://127.0.0.1:4566/b/k.template").unwrap(),
            obj("b", "k.template")
        );
        assert_eq!(p("http://b.localhost:4566/k").unwrap(), obj("b", "k"));
        let v = p("https://b.s3.amazonaws.com/k?versionId=3HL4kqtJ").unwrap();
        assert_eq!(v.version_id.as_deref(), Some("3HL4kqtJ"));
    }

    #[test]
    fn other_urls_are_refused_in_cloudformations_words() {
        let h = CairnHost::default();
        for bad in [
            "ftp://b.s3.amazonaws.com/k",
            "http://b.s3.amazonaws.com/k",
            "https://b.s3-website-us-east-1.amazonaws.com/k",
            "https://ec2.amazonaws.com/b/k",
            "not a url",
            "s3://b/k",
        ] {
            let e = parse(bad, &h).unwrap_err();
            assert_eq!(e.message, "TemplateURL must be a supported URL.", "{bad}");
        }
        for bad in [
            "https://s3.amazonaws.com/b",
            "http://127.0.0.1:1/b/",
            "http://127.0.0.1:1/",
        ] {
            let e = parse(bad, &h).unwrap_err();
            assert!(e.message.starts_with("TemplateURL must reference"), "{bad}");
        }
    }
}
