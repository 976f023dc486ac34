//! S3's XML namespace on answer documents s3s writes without one.

/// S3's namespace on a document's root element when s3s wrote none: every S3 answer
/// document carries `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`, and s3s leaves it off
/// a few (`OwnershipControls`, `ServerSideEncryptionConfiguration`,
/// `PublicAccessBlockConfiguration`), which a namespace-aware parser then does not match.
pub(super) fn with_namespace(doc: &str) -> Option<String> {
    const NS: &str = " xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"";
    let body_start = match doc.strip_prefix("<?xml") {
        Some(rest) => doc.len() - rest.len() + rest.find("?>")? + 2,
        None => 0,
    };
    let root = body_start + doc[body_start..].find('<')?;
    let tag_end = root + doc[root..].find('>')?;
    let tag = &doc[root..tag_end];
    let name_end = tag
        .find(|c: char| c.is_whitespace() || c == '/')
        .unwrap_or(tag.len());
    if tag.starts_with("<?") || tag.starts_with("<!") || tag.contains("xmlns") {
        return None;
    }
    let at = root + name_end;
    Some(format!("{}{NS}{}", &doc[..at], &doc[at..]))
}

#[cfg(test)]
mod tests {
    use super::with_namespace;

    #[test]
    fn a_root_without_a_namespace_gets_s3s() {
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><OwnershipControls><Rule/></OwnershipControls>";
        assert_eq!(
            with_namespace(doc).unwrap(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><OwnershipControls xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule/></OwnershipControls>"
        );
        assert_eq!(
            with_namespace("<A b=\"c\"/>").unwrap(),
            "<A xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\" b=\"c\"/>"
        );
    }

    #[test]
    fn a_namespaced_root_or_no_document_is_left_alone() {
        assert!(with_namespace("<ListBucketResult xmlns=\"x\"></ListBucketResult>").is_none());
        assert!(with_namespace("").is_none());
        assert!(with_namespace("<?xml version=\"1.0\"").is_none());
    }
}
