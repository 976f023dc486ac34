//! The two S3 calls the validator makes, ListObjectsV2 and GetObject, signed with SigV4
//! over one pooled HTTP/1.1 client (kept-alive connections, no Nagle delay). Bodies are
//! streamed to the caller so log files are inflated and hashed as they arrive.
//!
//! With an endpoint (Cairn, MinIO, …) requests are path-style to it (signed for the bucket's
//! region once the endpoint has named it in an `AuthorizationHeaderMalformed`). Without one
//! they go to AWS S3 in the bucket's region, found once per bucket with GetBucketLocation,
//! as the stock tool does.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, bail};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use quick_xml::events::Event;

use crate::client::{Credentials, EMPTY_SHA256, Unsigned, amz_now, host_of, sign_at};

/// Everything but RFC 3986 unreserved characters is encoded in query values.
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// Keys keep their `/`.
const PATH: &AsciiSet = &QUERY.remove(b'/');

/// How many times a call is tried when the connection fails or S3 answers 5xx.
const ATTEMPTS: u32 = 4;

/// An S3 error answer.
#[derive(Debug)]
pub struct S3Error {
    /// Operation.
    pub op: &'static str,
    /// `<Code>`, or the status when the body has none.
    pub code: String,
    /// `<Message>`.
    pub message: String,
    /// `<Region>`: the bucket's region, when the request was signed for another.
    pub region: Option<String>,
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "An error occurred ({}) when calling the {} operation: {}",
            self.code, self.op, self.message
        )
    }
}

impl std::error::Error for S3Error {}

/// One page of a listing.
#[derive(Debug, Default, PartialEq)]
pub struct Page {
    /// Keys, in key order.
    pub keys: Vec<String>,
    /// What the listing said of each key.
    pub listed: Vec<Listed>,
    /// The token of the next page, when the listing is truncated.
    pub next: Option<String>,
}

/// What a listing says of one key, as far as it said it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Listed {
    /// `LastModified`, epoch seconds, fractions kept.
    pub modified: Option<f64>,
    /// `ETag`, as listed (quoted).
    pub etag: Option<String>,
    /// `Size`, in bytes.
    pub size: Option<u64>,
}

/// An S3 endpoint with credentials.
pub struct S3 {
    http: reqwest::Client,
    endpoint: Option<String>,
    region: String,
    credentials: Credentials,
    bucket_regions: Mutex<HashMap<String, String>>,
}

impl S3 {
    /// A client for `endpoint` (None: AWS S3), signing for `region`.
    pub fn new(
        http: reqwest::Client,
        endpoint: Option<String>,
        region: &str,
        credentials: Credentials,
    ) -> Self {
        Self {
            http,
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_owned()),
            region: region.to_owned(),
            credentials,
            bucket_regions: Mutex::new(HashMap::new()),
        }
    }

    /// (base URL, region to sign for) of a bucket.
    async fn place(&self, bucket: &str) -> anyhow::Result<(String, String)> {
        let known = self
            .bucket_regions
            .lock()
            .map_err(|_| anyhow::anyhow!("bucket region cache poisoned"))?
            .get(bucket)
            .cloned();
        if let Some(e) = &self.endpoint {
            return Ok((e.clone(), known.unwrap_or_else(|| self.region.clone())));
        }
        let region = match known {
            Some(r) => r,
            None => {
                let base = format!("https://s3.{}.amazonaws.com", self.region);
                let resp = self
                    .send(
                        "GetBucketLocation",
                        &base,
                        &self.region,
                        bucket,
                        "",
                        "location=",
                    )
                    .await?;
                let text = resp.text().await.context("reading GetBucketLocation")?;
                let region = match element_text(&text, "LocationConstraint").as_deref() {
                    None | Some("") => "us-east-1".to_owned(),
                    Some("EU") => "eu-west-1".to_owned(),
                    Some(r) => r.to_owned(),
                };
                self.bucket_regions
                    .lock()
                    .map_err(|_| anyhow::anyhow!("bucket region cache poisoned"))?
                    .insert(bucket.to_owned(), region.clone());
                region
            }
        };
        Ok((format!("https://s3.{region}.amazonaws.com"), region))
    }

    /// Sends `op` to where `bucket` is. An endpoint that says the bucket lives in another
    /// region than the one signed for (`AuthorizationHeaderMalformed` with `<Region>`, as
    /// AWS and Cairn answer) gets the request again signed for that region, which is kept.
    async fn send_placed(
        &self,
        op: &'static str,
        bucket: &str,
        key: &str,
        query: &str,
    ) -> anyhow::Result<reqwest::Response> {
        let (base, region) = self.place(bucket).await?;
        let sent = self.send(op, &base, &region, bucket, key, query).await;
        let redirect = match &sent {
            Err(e) if self.endpoint.is_some() => e
                .downcast_ref::<S3Error>()
                .filter(|s| s.code == "AuthorizationHeaderMalformed")
                .and_then(|s| s.region.clone())
                .filter(|r| *r != region),
            _ => None,
        };
        let Some(region) = redirect else {
            return sent;
        };
        self.bucket_regions
            .lock()
            .map_err(|_| anyhow::anyhow!("bucket region cache poisoned"))?
            .insert(bucket.to_owned(), region.clone());
        self.send(op, &base, &region, bucket, key, query).await
    }

    /// Sends a signed GET for `/{bucket}/{key}?{query}` (path style), retrying transient
    /// failures. Answers other than 2xx become an [`S3Error`].
    async fn send(
        &self,
        op: &'static str,
        base: &str,
        region: &str,
        bucket: &str,
        key: &str,
        query: &str,
    ) -> anyhow::Result<reqwest::Response> {
        let raw_path = format!("/{bucket}/{}", utf8_percent_encode(key, PATH));
        let raw_path = if key.is_empty() {
            format!("/{bucket}")
        } else {
            raw_path
        };
        let url = if query.is_empty() {
            format!("{base}{raw_path}")
        } else {
            format!("{base}{raw_path}?{query}")
        };
        let host = host_of(base)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let headers = sign_at(
                Unsigned {
                    method: "GET",
                    host,
                    raw_path: &raw_path,
                    raw_query: query,
                    service: "s3",
                    region,
                    headers: vec![("x-amz-content-sha256".into(), EMPTY_SHA256.into())],
                    payload_hash: EMPTY_SHA256,
                },
                &self.credentials,
                &amz_now(),
            );
            let mut req = self.http.get(&url);
            for (n, v) in headers {
                req = req.header(n, v);
            }
            let transient = match req.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) if resp.status().is_server_error() && attempt < ATTEMPTS => {
                    format!("{}", resp.status())
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.text().await.unwrap_or_default();
                    bail!(S3Error {
                        op,
                        code: element_text(&body, "Code").unwrap_or_else(|| status.to_string()),
                        message: element_text(&body, "Message").unwrap_or_default(),
                        region: element_text(&body, "Region"),
                    });
                }
                Err(e) if attempt < ATTEMPTS && (e.is_connect() || e.is_request()) => e.to_string(),
                Err(e) => return Err(e).with_context(|| format!("calling {op} at {url}")),
            };
            tracing::debug!(op, attempt, transient, "retrying");
            tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
        }
    }

    /// One ListObjectsV2 page of `prefix`, after `start_after` or from `token`.
    pub async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        token: Option<&str>,
    ) -> anyhow::Result<Page> {
        let mut query = vec![("list-type", "2"), ("prefix", prefix)];
        if let Some(t) = token {
            query.push(("continuation-token", t));
        } else if let Some(s) = start_after {
            query.push(("start-after", s));
        }
        query.sort();
        let query = query
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, QUERY)))
            .collect::<Vec<_>>()
            .join("&");
        let resp = self
            .send_placed("ListObjectsV2", bucket, "", &query)
            .await?;
        let text = resp.text().await.context("reading ListObjectsV2")?;
        parse_list(&text)
    }

    /// Lists `prefix` after `start_after`, page by page, until `enough` says a page's keys
    /// reach past what is wanted.
    /// The keys of a day-foldered `dir` (`…/YYYY/MM/DD/…`) from the folder of `from` (epoch
    /// seconds) to that of `to`, listed in key order and stopped past `to`'s day.
    pub async fn list_days(
        &self,
        bucket: &str,
        dir: &str,
        from: i64,
        to: i64,
    ) -> anyhow::Result<Vec<String>> {
        let stop = super::layout::day(to);
        self.list(
            bucket,
            dir,
            Some(&format!("{dir}{}", super::layout::day(from))),
            |page| {
                page.last()
                    .and_then(|k| super::layout::Layout::day_of(k, dir))
                    .is_some_and(|d| d > stop.as_str())
            },
        )
        .await
    }

    pub async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        enough: impl Fn(&[String]) -> bool,
    ) -> anyhow::Result<Vec<String>> {
        let listed = self.list_timed(bucket, prefix, start_after, enough).await?;
        Ok(listed.into_iter().map(|(k, _)| k).collect())
    }

    /// [`S3::list`], with what the listing said of each key.
    pub async fn list_timed(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        enough: impl Fn(&[String]) -> bool,
    ) -> anyhow::Result<Vec<(String, Listed)>> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .list_page(bucket, prefix, start_after, token.as_deref())
                .await?;
            let stop = enough(&page.keys);
            keys.extend(page.keys.into_iter().zip(page.listed));
            match page.next {
                Some(t) if !stop => token = Some(t),
                _ => return Ok(keys),
            }
        }
    }

    /// GetObject: the response (headers read, body not yet), or None for `NoSuchKey`.
    pub async fn get(&self, bucket: &str, key: &str) -> anyhow::Result<Option<reqwest::Response>> {
        match self.send_placed("GetObject", bucket, key, "").await {
            Ok(resp) => Ok(Some(resp)),
            Err(e) => match e.downcast_ref::<S3Error>() {
                Some(s) if s.code == "NoSuchKey" => Ok(None),
                _ => Err(e),
            },
        }
    }
}

/// The text of the first `<name>` element of an XML document.
fn element_text(xml: &str, name: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if e.local_name().as_ref() == name.as_bytes() => inside = true,
            Event::End(e) if inside && e.local_name().as_ref() == name.as_bytes() => {
                return Some(text);
            }
            Event::Empty(e) if e.local_name().as_ref() == name.as_bytes() => {
                return Some(String::new());
            }
            Event::Text(t) if inside => text.push_str(&t.decode().ok()?),
            Event::GeneralRef(r) if inside => {
                let name = r.decode().ok()?;
                text.push_str(&quick_xml::escape::unescape(&format!("&{name};")).ok()?);
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Parses a ListObjectsV2 answer.
fn parse_list(xml: &str) -> anyhow::Result<Page> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut page = Page::default();
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut text = String::new();
    let mut truncated = false;
    let mut listed = Listed::default();
    loop {
        match reader
            .read_event()
            .context("ListObjectsV2 answered malformed XML")?
        {
            Event::Start(e) => {
                path.push(e.local_name().as_ref().to_vec());
                text.clear();
            }
            Event::Text(t) => text.push_str(&t.decode().context("ListObjectsV2 text")?),
            Event::GeneralRef(r) => {
                let name = r.decode().context("ListObjectsV2 entity")?;
                text.push_str(
                    &quick_xml::escape::unescape(&format!("&{name};"))
                        .context("ListObjectsV2 entity")?,
                );
            }
            Event::End(_) => {
                let parts: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
                match parts.as_slice() {
                    [_, b"Contents", b"Key"] => page.keys.push(std::mem::take(&mut text)),
                    [_, b"Contents", b"LastModified"] => {
                        listed.modified = chrono::DateTime::parse_from_rfc3339(text.trim())
                            .ok()
                            .map(|t| t.timestamp_millis() as f64 / 1000.0);
                    }
                    [_, b"Contents", b"ETag"] => listed.etag = Some(std::mem::take(&mut text)),
                    [_, b"Contents", b"Size"] => listed.size = text.trim().parse().ok(),
                    [_, b"Contents"] => {
                        page.listed
                            .resize(page.keys.len().saturating_sub(1), Listed::default());
                        page.listed.push(std::mem::take(&mut listed));
                    }
                    [_, b"IsTruncated"] => truncated = text == "true",
                    [_, b"NextContinuationToken"] => page.next = Some(std::mem::take(&mut text)),
                    _ => {}
                }
                path.pop();
                text.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !truncated {
        page.next = None;
    } else if page.next.is_none() {
        bail!("ListObjectsV2 answered a truncated page without NextContinuationToken");
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_parse_with_escapes_and_tokens() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>AWSLogs/</Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys>
  <IsTruncated>true</IsTruncated><NextContinuationToken>tok&amp;en</NextContinuationToken>
  <Contents><Key>AWSLogs/a&amp;b.json.gz</Key><LastModified>2026-12-01T18:13:28.500Z</LastModified><ETag>&quot;e1&quot;</ETag><Size>1</Size></Contents>
  <Contents><Key>AWSLogs/c&#x20;d.json.gz</Key><Size>2</Size></Contents>
</ListBucketResult>"#;
        assert_eq!(
            parse_list(xml).unwrap(),
            Page {
                keys: vec!["AWSLogs/a&b.json.gz".into(), "AWSLogs/c d.json.gz".into()],
                listed: vec![
                    Listed {
                        modified: Some(1_796_148_808.5),
                        etag: Some("\"e1\"".into()),
                        size: Some(1)
                    },
                    Listed {
                        size: Some(2),
                        ..Listed::default()
                    }
                ],
                next: Some("tok&en".into())
            }
        );
        let last = xml.replace("<IsTruncated>true", "<IsTruncated>false");
        assert_eq!(parse_list(&last).unwrap().next, None);
        let broken = xml.replace(
            "<NextContinuationToken>tok&amp;en</NextContinuationToken>",
            "",
        );
        assert!(parse_list(&broken).is_err());
    }

    #[test]
    fn error_codes_are_read_from_error_bodies() {
        let xml = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>";
        assert_eq!(element_text(xml, "Code").as_deref(), Some("NoSuchKey"));
        assert_eq!(
            element_text("<LocationConstraint/>", "LocationConstraint").as_deref(),
            Some("")
        );
        assert_eq!(element_text("not xml", "Code"), None);
    }

    proptest::proptest! {
        #[test]
        fn xml_readers_never_panic(s in "[<>/a-zA-Z&;#x0-9 ]{0,120}") {
            let _ = parse_list(&s);
            let _ = element_text(&s, "Code");
        }
    }
}
