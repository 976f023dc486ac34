//! Temporary credentials expire: a request signed at or after a session's expiry is refused
//! with `ExpiredToken`, one signed just before is accepted. Driven through the real store,
//! credential cache and SigV4 authenticator with a controlled clock (the request's signing
//! time and the server's "now"), since AWS's shortest session lasts 15 minutes.

use cairn_api::auth::{AuthFailure, Incoming, RootCredentials, authenticate};
use cairn_api::credentials::CredentialCache;
use cairn_core::CallContext;
use cairn_core::iam::{keys, roles, users};
use cairn_core::sts::{self, AssumeRoleInput};
use cairn_model::{AccountId, Principal, Region};
use cairn_store::Store;
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

use crate::harness::sign;

fn ctx(principal: Principal, now: DateTime<Utc>) -> CallContext {
    CallContext {
        principal,
        region: Region::parse("eu-west-1").unwrap(),
        now: now.timestamp() as f64,
        origin: Default::default(),
    }
}

async fn check(
    cache: &CredentialCache,
    creds: &sts::Credentials,
    token: &str,
    at: DateTime<Utc>,
) -> Result<Principal, AuthFailure> {
    let addr = "127.0.0.1:4599".parse().unwrap();
    let body = b"Action=GetCallerIdentity&Version=2011-06-15".to_vec();
    let signed = sign(
        &addr,
        "eu-west-1",
        "sts",
        &creds.access_key_id,
        &creds.secret_access_key,
        "POST",
        "/",
        vec![
            (
                "content-type".into(),
                "application/x-www-form-urlencoded".into(),
            ),
            ("x-amz-security-token".into(), token.to_owned()),
        ],
        body.clone(),
        at,
    );
    let sha = hex::encode(Sha256::digest(&body));
    let incoming = Incoming {
        method: "POST",
        raw_path: "/",
        raw_query: "",
        headers: &signed.headers,
        body_sha256: &sha,
    };
    authenticate(cache, &incoming, at)
        .await
        .map(|a| a.principal)
}

#[tokio::test]
async fn sessions_expire_at_their_expiration() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    let account = AccountId::parse("123456789012").unwrap();
    let root = Principal::Root {
        account: account.clone(),
        access_key_id: "AKIDROOT".into(),
        session: None,
    };
    let t0 = Utc::now();
    let (creds, user_creds) = store
        .write({
            let root = root.clone();
            move |c| {
                let admin = ctx(root, t0);
                let u = users::create_user(c, &admin, "alice", None, None, &[]).unwrap().user;
                let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/alice"},"Action":"sts:AssumeRole"}]}"#;
                roles::create_role(
                    c,
                    &admin,
                    &roles::CreateRole {
                        name: "ops",
                        trust_policy: trust,
                        ..Default::default()
                    },
                )
                .unwrap();
                let key = keys::create_access_key(c, &admin, Some("alice")).unwrap().key;
                let alice = ctx(
                    Principal::IamUser {
                        account: AccountId::parse("123456789012").unwrap(),
                        user_name: u.name,
                        user_id: u.user_id,
                        path: u.path,
                        access_key_id: key.access_key_id.clone(),
                        session: None,
                    },
                    t0,
                );
                let assumed = sts::assume_role(
                    c,
                    &alice,
                    &AssumeRoleInput {
                        role_arn: "arn:aws:iam::123456789012:role/ops".into(),
                        session_name: "s1".into(),
                        duration: Some(900),
                        ..Default::default()
                    },
                )
                .unwrap();
                let user_session = sts::get_session_token(c, &alice, Some(900), None, None).unwrap();
                (assumed.credentials, user_session)
            }
        })
        .await
        .unwrap();
    let cache = CredentialCache::new(
        store.clone(),
        account,
        &RootCredentials {
            access_key_id: "AKIDROOT".into(),
            secret_access_key: "secret".into(),
        },
    );
    let expires = DateTime::from_timestamp(creds.expiration, 0).unwrap();
    assert_eq!(creds.expiration, t0.timestamp() + 900);

    let p = check(
        &cache,
        &creds,
        &creds.session_token,
        expires - Duration::seconds(1),
    )
    .await
    .expect("valid one second before expiry");
    assert_eq!(p.arn(), "arn:aws:sts::123456789012:assumed-role/ops/s1");
    assert_eq!(
        check(&cache, &creds, &creds.session_token, expires).await,
        Err(AuthFailure::ExpiredToken)
    );
    assert_eq!(
        check(
            &cache,
            &creds,
            &creds.session_token,
            expires + Duration::hours(2)
        )
        .await,
        Err(AuthFailure::ExpiredToken)
    );
    // Expiry does not hide tampering, and a fresh cache (after a restart) agrees.
    let fresh = CredentialCache::new(
        store.clone(),
        AccountId::parse("123456789012").unwrap(),
        &RootCredentials {
            access_key_id: "AKIDROOT".into(),
            secret_access_key: "secret".into(),
        },
    );
    let mut altered = creds.session_token.clone();
    altered.insert(5, 'A');
    assert_eq!(
        check(&fresh, &creds, &altered, expires - Duration::seconds(10)).await,
        Err(AuthFailure::InvalidToken)
    );
    assert_eq!(
        check(&fresh, &creds, &creds.session_token, expires).await,
        Err(AuthFailure::ExpiredToken)
    );

    // GetSessionToken credentials act as the user, with a session context, until expiry.
    let user_expires = DateTime::from_timestamp(user_creds.expiration, 0).unwrap();
    let p = check(
        &cache,
        &user_creds,
        &user_creds.session_token,
        user_expires - Duration::seconds(5),
    )
    .await
    .expect("valid");
    assert!(
        matches!(&p, Principal::IamUser { user_name, session: Some(_), .. } if user_name == "alice")
    );
    assert_eq!(
        check(&cache, &user_creds, &user_creds.session_token, user_expires).await,
        Err(AuthFailure::ExpiredToken)
    );
}
