//! STS, IAM and KMS with the AWS SDK for Rust: who the caller is, a new IAM user whose own
//! access key signs calls that are denied until a policy allows them, and KMS encryption.

use aws_sdk_cloudtrail::error::ProvideErrorMetadata;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use aws_sdk_kms::operation::decrypt::DecryptError;
use aws_sdk_kms::operation::encrypt::EncryptError;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{DataKeySpec, KeyState, KeyUsageType};
use aws_sdk_sns::operation::create_topic::CreateTopicError;

use crate::cairn::{ACCOUNT, Cairn};

const USER: &str = "rust-sdk-user";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iam_user_key_is_denied_until_a_policy_allows() {
    let cairn = Cairn::start();
    let root = cairn.config().await;
    let sts = aws_sdk_sts::Client::new(&root);
    let me = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity as root");
    assert_eq!(me.account(), Some(ACCOUNT));
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::{ACCOUNT}:root").as_str())
    );

    let iam = aws_sdk_iam::Client::new(&root);
    let user = iam
        .create_user()
        .user_name(USER)
        .send()
        .await
        .expect("CreateUser");
    let user_arn = format!("arn:aws:iam::{ACCOUNT}:user/{USER}");
    assert_eq!(user.user().map(|u| u.arn()), Some(user_arn.as_str()));
    let key = iam
        .create_access_key()
        .user_name(USER)
        .send()
        .await
        .expect("CreateAccessKey");
    let key = key.access_key().expect("the new AccessKey");
    assert_eq!(key.user_name(), USER);
    assert!(
        key.access_key_id().starts_with("AKIA"),
        "an AKIA key id: {}",
        key.access_key_id()
    );
    let listed = iam
        .list_access_keys()
        .user_name(USER)
        .send()
        .await
        .expect("ListAccessKeys");
    let ids: Vec<_> = listed
        .access_key_metadata()
        .iter()
        .filter_map(|k| k.access_key_id())
        .collect();
    assert_eq!(ids, [key.access_key_id()]);

    // Calls signed with the user's key: who it is answers, everything else is denied.
    let as_user = cairn
        .config_with(key.access_key_id(), key.secret_access_key())
        .await;
    let who = aws_sdk_sts::Client::new(&as_user)
        .get_caller_identity()
        .send()
        .await;
    let who = who.expect("GetCallerIdentity needs no permission");
    assert_eq!(who.arn(), Some(user_arn.as_str()));
    assert!(
        who.user_id().is_some_and(|id| id.starts_with("AIDA")),
        "a user id: {who:?}"
    );

    let ct_user = aws_sdk_cloudtrail::Client::new(&as_user);
    let err = ct_user
        .describe_trails()
        .send()
        .await
        .expect_err("no policy allows it");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("AccessDeniedException"));
    let message = err.message().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "User: {user_arn} is not authorized to perform: cloudtrail:DescribeTrails"
        )),
        "AWS's message: {message}"
    );

    let err = aws_sdk_iam::Client::new(&as_user)
        .list_users()
        .send()
        .await
        .expect_err("denied");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    assert_eq!(err.into_service_error().code(), Some("AccessDenied"));

    // SNS models its denial: a typed AuthorizationErrorException.
    let sns_user = aws_sdk_sns::Client::new(&as_user);
    let err = sns_user
        .create_topic()
        .name("denied")
        .send()
        .await
        .expect_err("denied");
    let err = err.into_service_error();
    assert!(
        matches!(err, CreateTopicError::AuthorizationErrorException(_)),
        "AuthorizationErrorException, got {err:?}"
    );

    // An inline policy allows DescribeTrails, at once.
    let policy = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudtrail:DescribeTrails", "Resource": "*"}]}"#;
    iam.put_user_policy()
        .user_name(USER)
        .policy_name("describe-trails")
        .policy_document(policy)
        .send()
        .await
        .expect("PutUserPolicy");
    let trails = ct_user.describe_trails().send().await.expect("now allowed");
    assert!(trails.trail_list().is_empty());

    // The denied call is in event history with its error code and the user's identity.
    let ct = aws_sdk_cloudtrail::Client::new(&root);
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::Username)
        .attribute_value(USER)
        .build()
        .unwrap();
    let history = ct
        .lookup_events()
        .lookup_attributes(attribute)
        .send()
        .await
        .expect("Lookup");
    let records: Vec<serde_json::Value> = history
        .events()
        .iter()
        .filter(|e| e.event_name() == Some("DescribeTrails"))
        .map(|e| serde_json::from_str(e.cloud_trail_event().unwrap()).unwrap())
        .collect();
    assert_eq!(
        records.len(),
        2,
        "the denied and the allowed call: {records:?}"
    );
    let codes: Vec<_> = records.iter().map(|r| r["errorCode"].as_str()).collect();
    assert!(
        codes.contains(&Some("AccessDenied")) && codes.contains(&None),
        "{codes:?}"
    );
    assert!(
        records
            .iter()
            .all(|r| r["userIdentity"]["arn"] == user_arn.as_str())
    );

    drop((sts, iam, ct, ct_user, sns_user));
    cairn.stop_and_verify();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_keys_encrypt_decrypt_and_data_keys() {
    let cairn = Cairn::start();
    let kms = aws_sdk_kms::Client::new(&cairn.config().await);

    let created = kms
        .create_key()
        .description("rust sdk key")
        .send()
        .await
        .expect("CreateKey");
    let meta = created.key_metadata().expect("KeyMetadata");
    let key_arn = meta.arn().expect("the key's ARN").to_string();
    assert_eq!(
        key_arn,
        format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/{}", meta.key_id())
    );
    assert_eq!(meta.key_state(), Some(&KeyState::Enabled));
    assert_eq!(meta.key_usage(), Some(&KeyUsageType::EncryptDecrypt));
    assert_eq!(meta.description(), Some("rust sdk key"));
    kms.create_alias()
        .alias_name("alias/rust-sdk")
        .target_key_id(meta.key_id())
        .send()
        .await
        .expect("CreateAlias");

    let secret = b"the launch codes";
    let encrypted = kms
        .encrypt()
        .key_id("alias/rust-sdk")
        .plaintext(Blob::new(secret.to_vec()))
        .encryption_context("purpose", "compat")
        .send()
        .await
        .expect("Encrypt");
    assert_eq!(encrypted.key_id(), Some(key_arn.as_str()));
    let ciphertext = encrypted.ciphertext_blob().expect("CiphertextBlob").clone();
    assert!(
        !ciphertext
            .as_ref()
            .windows(secret.len())
            .any(|w| w == secret),
        "not in the clear"
    );

    let decrypted = kms
        .decrypt()
        .ciphertext_blob(ciphertext.clone())
        .encryption_context("purpose", "compat")
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(decrypted.plaintext().map(|b| b.as_ref()), Some(&secret[..]));
    assert_eq!(decrypted.key_id(), Some(key_arn.as_str()));

    // The wrong encryption context: AWS's typed InvalidCiphertextException.
    let err = kms
        .decrypt()
        .ciphertext_blob(ciphertext)
        .encryption_context("purpose", "other")
        .send()
        .await
        .expect_err("the context is part of the ciphertext");
    let err = err.into_service_error();
    assert!(
        matches!(err, DecryptError::InvalidCiphertextException(_)),
        "got {err:?}"
    );

    let err = kms
        .encrypt()
        .key_id("alias/no-such-alias")
        .plaintext(Blob::new(b"x".to_vec()))
        .send()
        .await
        .expect_err("unknown alias");
    let err = err.into_service_error();
    assert!(
        matches!(err, EncryptError::NotFoundException(_)),
        "got {err:?}"
    );

    let data_key = kms
        .generate_data_key()
        .key_id(&key_arn)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect("GenerateDataKey");
    let plaintext = data_key
        .plaintext()
        .expect("the plaintext data key")
        .clone();
    assert_eq!(plaintext.as_ref().len(), 32);
    let wrapped = data_key
        .ciphertext_blob()
        .expect("the wrapped data key")
        .clone();
    let unwrapped = kms
        .decrypt()
        .ciphertext_blob(wrapped)
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(unwrapped.plaintext(), Some(&plaintext));

    drop(kms);
    cairn.stop_and_verify();
}
