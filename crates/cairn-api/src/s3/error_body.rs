//! Completes the S3 error bodies `s3s` writes on its own (authentication, presigned-URL and
//! protocol errors raised before our handlers run): every error carries AWS's message for its
//! code and our request id, so clients print more than "Unknown".

use quick_xml::Reader;
use quick_xml::events::Event;

/// AWS's message for S3 error codes `s3s` may raise without one (or with its own wording).
fn aws_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "SignatureDoesNotMatch" => {
            "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        }
        "InvalidAccessKeyId" => "The AWS Access Key Id you provided does not exist in our records.",
        "RequestTimeTooSkewed" => {
            "The difference between the request time and the current time is too large."
        }
        "AccessDenied" => "Access Denied",
        "AuthorizationHeaderMalformed" => "The authorization header you provided is invalid.",
        "MissingSecurityHeader" => "Your request was missing a required header.",
        "NotImplemented" => "A header you provided implies functionality that is not implemented.",
        "MethodNotAllowed" => "The specified method is not allowed against this resource.",
        "InvalidArgument" => "Invalid Argument",
        "InvalidRequest" => "Invalid Request",
        "MalformedXML" => {
            "The XML you provided was not well-formed or did not validate against our published schema."
        }
        "IncompleteBody" => {
            "You did not provide the number of bytes specified by the Content-Length HTTP header."
        }
        "XAmzContentSHA256Mismatch" => {
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        }
        "InvalidBucketName" => "The specified bucket is not valid.",
        "NoSuchBucket" => "The specified bucket does not exist",
        "NoSuchKey" => "The specified key does not exist.",
        "NoSuchUpload" => {
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
        }
        "KeyTooLongError" => "Your key is too long",
        "InvalidURI" => "Couldn't parse the specified URI.",
        "MissingContentLength" => "You must provide the Content-Length HTTP header.",
        "InvalidDigest" => "The Content-MD5 you specified was invalid.",
        "BadDigest" => "The Content-MD5 you specified did not match what we received.",
        "EntityTooLarge" => "Your proposed upload exceeds the maximum allowed size",
        "EntityTooSmall" => "Your proposed upload is smaller than the minimum allowed object size.",
        "InvalidRange" => "The requested range is not satisfiable",
        "InvalidPart" => {
            "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag."
        }
        "InvalidPartOrder" => {
            "The list of parts was not in ascending order. Parts must be ordered by part number."
        }
        "PreconditionFailed" => "At least one of the pre-conditions you specified did not hold",
        "MalformedTrailerError" => {
            "The request contained trailing data that was not well-formed or did not conform to our published schema."
        }
        "MissingRequestBodyError" => "Request Body is empty",
        "UnexpectedContent" => "This request does not support content",
        "InvalidStorageClass" => "The storage class you specified is not valid",
        "InvalidEncryptionAlgorithmError" => {
            "The encryption request you specified is not valid. The valid value is AES256."
        }
        "RequestTimeout" => {
            "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed."
        }
        "SlowDown" => "Please reduce your request rate.",
        "ServiceUnavailable" => "Please reduce your request rate.",
        "InternalError" => "We encountered an internal error. Please try again.",
        _ => return None,
    })
}

/// Texts `s3s` uses that are not AWS's; they are replaced by AWS's message for the code.
const S3S_WORDING: &[&str] = &[
    "request time is too far from server time",
    "request date is later than server time too much",
    "credential scope date does not match x-amz-date",
    "invalid header: x-amz-content-sha256",
];

/// The `Code` and `Message` of an S3 XML error body.
pub fn parse(body: &[u8]) -> Option<(String, String)> {
    let mut reader = Reader::from_reader(body);
    let (mut code, mut message) = (None, String::new());
    let mut current: Option<Vec<u8>> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => current = Some(e.name().as_ref().to_vec()),
            // A text is split at each entity (`&apos;`, `&#39;`): the pieces are appended.
            Event::Text(t) => push_text(&mut code, &mut message, &current, &t.decode().ok()?),
            Event::GeneralRef(r) => push_text(&mut code, &mut message, &current, &ref_text(&r)?),
            Event::End(_) => current = None,
            Event::Eof => break,
            _ => {}
        }
    }
    code.map(|c| (c, message))
}

fn push_text(code: &mut Option<String>, message: &mut String, at: &Option<Vec<u8>>, text: &str) {
    match at.as_deref() {
        Some(b"Code") => code.get_or_insert_with(String::new).push_str(text),
        Some(b"Message") => message.push_str(text),
        _ => {}
    }
}

/// The text an XML entity or character reference (`&apos;`, `&#39;`) stands for.
pub(crate) fn ref_text(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.decode().ok()?;
    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned)
}

/// The message an error with `code` and `message` should carry.
pub fn complete_message(code: &str, message: &str) -> String {
    let generic = message.trim().is_empty() || S3S_WORDING.contains(&message.trim());
    match aws_message(code) {
        Some(aws) if generic => aws.to_owned(),
        _ if message.trim().is_empty() => code.to_owned(),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Quotes and apostrophes in a message survive (the XML reader splits text at them).
    #[test]
    fn messages_keep_their_escaped_characters() {
        let body = b"<Error><Code>InvalidArgument</Code><Message>&apos;Days&apos; for Expiration &amp; the part&#39;s &quot;tag&quot;</Message></Error>";
        let (code, message) = parse(body).unwrap();
        assert_eq!(code, "InvalidArgument");
        assert_eq!(message, "'Days' for Expiration & the part's \"tag\"");
    }

    #[test]
    fn empty_and_s3s_messages_become_aws_messages() {
        let body = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code></Error>";
        let (code, message) = parse(body).unwrap();
        assert_eq!(code, "SignatureDoesNotMatch");
        assert!(
            complete_message(&code, &message).starts_with("The request signature we calculated")
        );
        assert_eq!(
            complete_message(
                "RequestTimeTooSkewed",
                "request time is too far from server time"
            ),
            "The difference between the request time and the current time is too large."
        );
        assert_eq!(
            complete_message("AccessDenied", "Request has expired"),
            "Request has expired"
        );
        assert_eq!(complete_message("Weird", ""), "Weird");
        assert_eq!(
            complete_message("InvalidBucketName", ""),
            "The specified bucket is not valid."
        );
    }
}
