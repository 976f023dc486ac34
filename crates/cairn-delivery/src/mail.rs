//! Email for `email` and `email-json` subscriptions, written to a maildir instead of sent:
//! each message is one RFC 5322 file, written to `<maildir>/tmp/`, synced, then renamed into
//! `<maildir>/new/` (the maildir protocol), so a reader (`mutt -f`, a test, a forwarding
//! script) never sees a partial mail. The recipient is the `To:` header.

use std::io::Write;
use std::path::Path;

use base64::Engine;

use crate::notify::Notification;

/// `Subject:` as RFC 2047 when it is not plain ASCII.
fn header_text(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        s.to_owned()
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s.replace(['\r', '\n'], " "))
        )
    }
}

/// The mail file of `n`.
pub fn render(n: &Notification, date: chrono::DateTime<chrono::Utc>) -> String {
    let subject = header_text(n.subject.as_deref().unwrap_or("AWS Notification Message"));
    let to: String = n
        .endpoint
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .collect();
    let content_type = if n.protocol == "email-json" {
        "application/json"
    } else {
        "text/plain"
    };
    let body = n.body.replace("\r\n", "\n").replace('\n', "\r\n");
    // The topic's display name is the sender's, as SNS sends it (quoted; RFC 2047 when it
    // is not plain ASCII; never a line break or a quote of its own).
    let from = match n.sender.as_deref().map(|d| {
        d.chars()
            .filter(|c| !c.is_control() && !matches!(c, '"' | '\\'))
            .collect::<String>()
    }) {
        Some(d) if !d.trim().is_empty() && d.is_ascii() => format!("\"{d}\""),
        Some(d) if !d.trim().is_empty() => header_text(&d),
        _ => "AWS Notifications".to_owned(),
    };
    format!(
        "From: {from} <no-reply@sns.cairn.local>\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: <{}@sns.cairn.local>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\nX-Amz-Sns-Message-Type: {}\r\nX-Amz-Sns-Topic-Arn: {}\r\nX-Amz-Sns-Subscription-Arn: {}\r\n\r\n{body}",
        date.to_rfc2822(),
        n.message_id,
        n.message_type.as_str(),
        n.topic_arn,
        n.subscription_arn,
    )
}

fn write_blocking(dir: &Path, text: &str) -> std::io::Result<()> {
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let name = format!(
        "{}.{}.cairn",
        chrono::Utc::now().timestamp(),
        uuid::Uuid::new_v4().simple()
    );
    let tmp = dir.join("tmp").join(&name);
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join("new").join(&name))?;
    std::fs::File::open(dir.join("new"))?.sync_all()
}

/// Writes `n` to the maildir.
pub async fn write(maildir: Option<&Path>, n: &Notification) -> Result<(), String> {
    let dir = maildir
        .ok_or("no maildir is configured for email subscriptions")?
        .to_owned();
    let text = render(n, chrono::Utc::now());
    tokio::task::spawn_blocking(move || write_blocking(&dir, &text))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An email notification to `ops@example.com` with `subject` and `body`.
    fn mail(subject: Option<&str>, body: &str) -> Notification {
        Notification {
            subscription_arn: "arn:aws:sns:us-east-1:1:t:u".into(),
            endpoint: "ops@example.com".into(),
            topic_arn: "arn:aws:sns:us-east-1:1:t".into(),
            protocol: "email".into(),
            message_type: crate::sns_message::MessageType::Notification,
            message_id: "id".into(),
            raw: false,
            subject: subject.map(str::to_owned),
            sender: None,
            body: body.into(),
            content_type: None,
        }
    }

    #[tokio::test]
    async fn mail_lands_in_new() {
        let dir = tempfile::tempdir().unwrap();
        let n = mail(Some("Alarm ü"), "line1\nline2");
        write(Some(dir.path()), &n).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("new")).unwrap().collect();
        assert_eq!(files.len(), 1);
        let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
        assert!(text.contains("To: ops@example.com\r\n"));
        assert!(text.contains("Subject: =?UTF-8?B?"));
        assert!(text.ends_with("\r\n\r\nline1\r\nline2"));
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        assert!(write(None, &n).await.is_err());
    }

    #[test]
    fn the_topics_display_name_is_the_sender() {
        let mut n = mail(None, "b");
        n.sender = Some("Billing \"Alerts\"\r\nBcc: x@y".into());
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let text = render(&n, at);
        assert!(
            text.starts_with("From: \"Billing AlertsBcc: x@y\" <no-reply@sns.cairn.local>\r\n"),
            "{text}"
        );
        n.sender = Some("Alertes été".into());
        assert!(render(&n, at).starts_with("From: =?UTF-8?B?"));
        n.sender = None;
        assert!(render(&n, at).starts_with("From: AWS Notifications <"));
    }
}
