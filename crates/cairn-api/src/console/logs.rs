//! A trail's log files: its bucket browsed folder by folder (ListObjectsV2 with `/`), log and
//! digest files downloaded (GetObject), both as the signed-in user. A download that fails is
//! the console's error page with the error's own status (403 for a denial, 404 for a missing
//! trail or key); a check range that is not a time is `InvalidTimeRangeException`, as on
//! Event history.

use axum::body::Body;
use axum::response::Response;
use cairn_console::pages::{ErrorPage, FileRow, Link, LogFiles};
use cairn_console::text::{display_size, display_time, input_time};
use cairn_core::error::ApiResult;
use cairn_core::{ApiError, ErrorKind};
use serde_json::{Value, json};

use super::calls::Caller;
use super::session::Signed;
use super::web::{self, Form, url};
use super::{describe_error, history};
use crate::server::AppState;

/// Entries per listing page.
const PAGE: usize = 200;
/// Largest file the console downloads.
pub const MAX_DOWNLOAD_BYTES: i64 = 64 * 1024 * 1024;

/// The trail's bucket and the folder its files start in (`prefix/AWSLogs/account/`).
pub async fn location(
    caller: &Caller<'_>,
    signed: &Signed,
    name: &str,
) -> ApiResult<(String, String, String)> {
    let trail = caller.cloudtrail("GetTrail", json!({"Name": name})).await?;
    let t = trail.get("Trail").cloned().unwrap_or(Value::Null);
    let bucket = t
        .get("S3BucketName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let prefix = t.get("S3KeyPrefix").and_then(Value::as_str).unwrap_or("");
    let root = if prefix.is_empty() {
        format!("AWSLogs/{}/", signed.principal.account())
    } else {
        format!("{prefix}/AWSLogs/{}/", signed.principal.account())
    };
    // The trail's digest file names begin so, whether the page names it by name or by ARN
    // (console8: a trail opened by its ARN found no digest).
    let text = |k: &str| t.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let digest_names = format!(
        "{}_CloudTrail-Digest_{}_{}_{}_",
        signed.principal.account(),
        signed.region,
        text("Name"),
        text("HomeRegion")
    );
    Ok((bucket, root, digest_names))
}

/// `GET /console/trails/{name}/logs?folder=…&after=…`.
pub async fn browse(state: &AppState, signed: &Signed, name: &str, query: &Form) -> Response {
    let now = chrono::Utc::now().timestamp();
    let range = (input_time(now - 86400), input_time(now));
    browse_with(state, signed, name, query, range, None).await
}

/// `POST /console/trails/{name}/logs/validate`: the integrity check for the posted range,
/// shown on the log files page.
pub async fn validate(state: &AppState, signed: &Signed, name: &str, f: &Form) -> Response {
    let now = chrono::Utc::now().timestamp();
    let typed = (f.str("start"), f.str("end"));
    let (start, end) = match (
        history::bound("start", &typed.0),
        history::bound("end", &typed.1),
    ) {
        (Ok(s), Ok(e)) => (s.unwrap_or(now - 86400), e.unwrap_or(now)),
        (Err(e), _) | (_, Err(e)) => {
            // Shown as Event history shows it; the form keeps what was typed.
            let error = describe_error(&ApiError::new(ErrorKind::InvalidTimeRange, e));
            return browse_with(
                state,
                signed,
                name,
                &Form::default(),
                typed,
                Some(Err(error)),
            )
            .await;
        }
    };
    let caller = Caller::new(state, signed);
    let result = match location(&caller, signed, name).await {
        Ok((bucket, root, digest_names)) => {
            super::validate::check(&caller, signed, (&bucket, &root), &digest_names, start, end)
                .await
        }
        Err(e) => Err(describe_error(&e)),
    };
    let range = (input_time(start), input_time(end));
    browse_with(state, signed, name, &Form::default(), range, Some(result)).await
}

async fn browse_with(
    state: &AppState,
    signed: &Signed,
    name: &str,
    query: &Form,
    (check_start, check_end): (String, String),
    check: Option<Result<super::validate::Report, String>>,
) -> Response {
    let caller = Caller::new(state, signed);
    let base = format!("/console/trails/{}", web::segment(name));
    let mut page = LogFiles {
        chrome: signed.chrome("trails"),
        trail: name.to_owned(),
        trail_href: base.clone(),
        check_start,
        check_end,
        ..Default::default()
    };
    match check {
        Some(Ok(report)) => {
            page.check = Some(report.rows);
            page.check_summary = Some(report.summary);
        }
        Some(Err(e)) => page.check_summary = Some(e),
        None => {}
    }
    let (bucket, root, _) = match location(&caller, signed, name).await {
        Ok(l) => l,
        Err(e) => {
            page.error = Some(describe_error(&e));
            return web::page_with(web::error_status(&e), &page);
        }
    };
    let folder = query
        .get("folder")
        .filter(|f| !f.is_empty())
        .unwrap_or(&root)
        .to_owned();
    page.bucket = bucket.clone();
    page.folder = folder.clone();
    let logs = format!("{base}/logs");
    let mut acc = String::new();
    page.crumbs.push(Link {
        text: bucket.clone(),
        href: url(&logs, &[("folder", "/")]),
    });
    for part in folder.split('/').filter(|p| !p.is_empty()) {
        acc.push_str(part);
        acc.push('/');
        page.crumbs.push(Link {
            text: part.to_owned(),
            href: url(&logs, &[("folder", &acc)]),
        });
    }
    let list_prefix = if folder == "/" { "" } else { folder.as_str() };
    match caller
        .list_objects(&bucket, list_prefix, &query.str("after"), PAGE)
        .await
    {
        Err(e) => page.error = Some(describe_error(&e)),
        Ok(listed) => {
            page.folders = listed
                .prefixes
                .iter()
                .map(|p| Link {
                    text: p[list_prefix.len()..].to_owned(),
                    href: url(&logs, &[("folder", p)]),
                })
                .collect();
            page.files = listed
                .objects
                .iter()
                .map(|(key, size, modified)| FileRow {
                    name: key[list_prefix.len()..].to_owned(),
                    href: url(&format!("{logs}/file"), &[("key", key)]),
                    key: key.clone(),
                    size: display_size(*size),
                    modified: display_time(*modified as i64),
                    kind: if key.contains("/CloudTrail-Digest/") {
                        "Digest file"
                    } else {
                        "Log file"
                    }
                    .to_owned(),
                })
                .collect();
            page.next_href = listed
                .next
                .map(|after| url(&logs, &[("folder", &folder), ("after", &after)]));
        }
    }
    web::page(&page)
}

/// `GET /console/trails/{name}/logs/file?key=…`.
pub async fn file(state: &AppState, signed: &Signed, name: &str, query: &Form) -> Response {
    let caller = Caller::new(state, signed);
    let (bucket, _, _) = match location(&caller, signed, name).await {
        Ok(l) => l,
        Err(e) => return file_error(signed, name, &e),
    };
    let key = query.str("key");
    match caller
        .get_object_stream(&bucket, &key, MAX_DOWNLOAD_BYTES)
        .await
    {
        Ok((stream, _)) => {
            let filename = key.rsplit('/').next().unwrap_or("log.json.gz");
            web::download(
                "application/octet-stream",
                filename,
                Body::from_stream(stream),
            )
        }
        Err(e) => file_error(signed, name, &e),
    }
}

/// The console's error page for a download that failed, with the error's status: 403 for a
/// denial, 404 for a missing trail or key, the API's status otherwise.
fn file_error(signed: &Signed, name: &str, e: &ApiError) -> Response {
    web::page_with(
        web::error_status(e),
        &ErrorPage {
            chrome: signed.chrome("trails"),
            title: format!("Log file of {name}"),
            message: describe_error(e),
        },
    )
}
