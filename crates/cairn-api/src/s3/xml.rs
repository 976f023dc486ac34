//! S3 XML bodies for bucket-level calls.

use cairn_core::{ApiError, CallContext, ErrorKind};
use cairn_store::buckets::Bucket;
use quick_xml::Reader;
use quick_xml::events::Event;

use crate::errors::xml_escape;

const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

fn iso(epoch: f64) -> String {
    chrono::DateTime::from_timestamp_millis((epoch * 1000.0) as i64)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// `ListAllMyBucketsResult`.
pub fn list_buckets(ctx: &CallContext, buckets: &[Bucket]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListAllMyBucketsResult xmlns=\"{XMLNS}\"><Owner><ID>{}</ID><DisplayName>{}</DisplayName></Owner><Buckets>",
        ctx.account(),
        ctx.account()
    );
    for b in buckets {
        out.push_str(&format!(
            "<Bucket><Name>{}</Name><CreationDate>{}</CreationDate><BucketRegion>{}</BucketRegion></Bucket>",
            xml_escape(&b.name),
            iso(b.created),
            b.region
        ));
    }
    out.push_str("</Buckets></ListAllMyBucketsResult>");
    out
}

/// `LocationConstraint` (empty for us-east-1, as S3 answers).
pub fn location(region: &str) -> String {
    let value = if region == "us-east-1" { "" } else { region };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{XMLNS}\">{value}</LocationConstraint>"
    )
}

/// Reads `CreateBucketConfiguration/LocationConstraint` from a CreateBucket body.
pub fn parse_location_constraint(body: &[u8]) -> Result<Option<String>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let malformed = || {
        ApiError::new(
            ErrorKind::S3MalformedXml,
            "The XML you provided was not well-formed or did not validate against our published schema.",
        )
    };
    let mut reader = Reader::from_reader(body);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut found = None;
    let mut saw_root = false;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if path.is_empty() {
                    if name != "CreateBucketConfiguration" {
                        return Err(malformed());
                    }
                    saw_root = true;
                }
                path.push(name);
            }
            Ok(Event::Empty(e)) => {
                if path.is_empty() {
                    if e.local_name().as_ref() != b"CreateBucketConfiguration" {
                        return Err(malformed());
                    }
                    saw_root = true;
                }
            }
            Ok(Event::Text(t)) => {
                if path.last().map(String::as_str) == Some("LocationConstraint") {
                    let text = t.decode().map_err(|_| malformed())?.into_owned();
                    found = Some(text.trim().to_owned());
                }
            }
            Ok(Event::End(_)) => {
                path.pop();
            }
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(_) => return Err(malformed()),
        }
        buf.clear();
    }
    if !saw_root || !path.is_empty() {
        return Err(malformed());
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_constraint_parses() {
        let body = br#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"#;
        assert_eq!(
            parse_location_constraint(body).unwrap().as_deref(),
            Some("eu-west-1")
        );
        assert_eq!(parse_location_constraint(b"").unwrap(), None);
        assert!(parse_location_constraint(b"<Nope/>").is_err());
        assert!(parse_location_constraint(b"<CreateBucketConfiguration>").is_err());
    }
}
