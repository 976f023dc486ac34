//! The create-trail wizard's new SNS topic (console5): made as the signed-in user with SNS's
//! default statement and CloudTrail's, limited to the trail, so the trail can notify it; a
//! "new" topic whose name is taken (CreateTopic would answer that topic, whose policy the
//! console must not replace) is refused on its field with nothing made.

use serde_json::{Value, json};

use crate::console::Browser;
use crate::console_wizard::create;
use crate::harness::{ACCESS_KEY, SECRET, Server};

const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:wizard-news";

async fn topic_policy(server: &Server, arn: &str) -> Option<Value> {
    let (s, body) = server
        .query(
            "sns",
            &format!("Action=GetTopicAttributes&Version=2010-03-31&TopicArn={arn}"),
        )
        .await;
    if s != 200 {
        return None;
    }
    let start = body.find("<key>Policy</key><value>")? + "<key>Policy</key><value>".len();
    let end = start + body[start..].find("</value>")?;
    let text = body[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    serde_json::from_str(&text).ok()
}

#[tokio::test]
async fn the_wizard_makes_a_topic_the_trail_may_notify() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, page) = b.get("/console/trails/create").await;
    assert!(
        page.contains("name=\"sns_new_topic\""),
        "step 1 offers a new topic"
    );
    let (status, _, body) = create(
        &mut b,
        "notified",
        "notified-logs",
        &[
            ("sns", "on"),
            ("sns_mode", "new"),
            ("sns_new_topic", "wizard-news"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    let (_, trail) = server.ct("GetTrail", json!({"Name": "notified"})).await;
    assert_eq!(trail["Trail"]["SnsTopicARN"], TOPIC, "{trail}");
    let policy = topic_policy(&server, TOPIC)
        .await
        .expect("the topic exists");
    let statements = policy["Statement"].as_array().unwrap();
    let cloudtrail = statements
        .iter()
        .find(|s| s["Principal"]["Service"] == "cloudtrail.amazonaws.com")
        .expect("CloudTrail's statement");
    assert_eq!(cloudtrail["Action"], "SNS:Publish");
    assert_eq!(
        cloudtrail["Condition"]["StringEquals"]["AWS:SourceArn"],
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/notified"
    );
    assert!(
        statements
            .iter()
            .any(|s| s["Sid"] == "__default_statement_ID"),
        "the owner keeps SNS's default statement"
    );

    // A second "new" topic of the same name is refused before anything is made, and the
    // first topic's policy is left as it was.
    let (status, _, body) = create(
        &mut b,
        "again",
        "again-logs",
        &[
            ("sns", "on"),
            ("sns_mode", "new"),
            ("sns_new_topic", "wizard-news"),
        ],
    )
    .await;
    assert_eq!(status, 200, "shown again");
    assert!(body.contains("id=\"sns-error\""), "{body}");
    assert!(body.contains("already exists"), "{body}");
    assert_eq!(topic_policy(&server, TOPIC).await, Some(policy));
    assert_eq!(
        server.s3("HEAD", "/again-logs", b"").await.0,
        404,
        "no bucket made"
    );

    // A bad name is shown on its field.
    let (status, _, body) = create(
        &mut b,
        "badly",
        "badly-logs",
        &[
            ("sns", "on"),
            ("sns_mode", "new"),
            ("sns_new_topic", "no spaces"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"sns-error\""), "{body}");
}
