//! Console sessions end for good with their key: a deactivated or deleted access key ends
//! every session signed in with it, used since or not, and reactivating the key does not
//! bring an old session cookie back.

use crate::console::{Browser, iam};
use crate::harness::Server;

async fn signed_in(b: &mut Browser) -> bool {
    let (status, _, _) = b.get("/console/").await;
    status == 200
}

#[tokio::test]
async fn a_deactivated_key_ends_its_sessions_and_reactivating_it_does_not_revive_them() {
    let server = Server::start();
    server.admin_iam(&["create-user", "dave"]);
    let key = server.admin_iam(&["create-access-key", "dave"]);
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let (mut used, mut idle) = (Browser::new(&server), Browser::new(&server));
    for b in [&mut used, &mut idle] {
        let (status, _, _) = b.sign_in(&id, &secret).await;
        assert_eq!(status, 303);
        assert!(signed_in(b).await);
    }
    let status = |s: &'static str| {
        [
            ("Action", "UpdateAccessKey"),
            ("UserName", "dave"),
            ("AccessKeyId", id.as_str()),
            ("Status", s),
        ]
    };
    iam(&server, &status("Inactive")).await;
    assert!(!signed_in(&mut used).await, "seen inactive: signed out");
    iam(&server, &status("Active")).await;
    assert!(!signed_in(&mut used).await, "not revived by reactivation");
    assert!(
        !signed_in(&mut idle).await,
        "a session not used while the key was inactive ended too"
    );

    // Deleting the key ends the sessions signed in since.
    let (status, _, _) = used.sign_in(&id, &secret).await;
    assert_eq!(status, 303);
    assert!(signed_in(&mut used).await);
    iam(
        &server,
        &[
            ("Action", "DeleteAccessKey"),
            ("UserName", "dave"),
            ("AccessKeyId", id.as_str()),
        ],
    )
    .await;
    assert!(!signed_in(&mut used).await);
}
