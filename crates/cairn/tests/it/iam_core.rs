//! The IAM core over a real store: quotas with AWS's messages, and what the evaluator is
//! given (`principal_policies`, `role_trust_policy`) for users in groups and role sessions
//! with session policies.

use cairn_core::CallContext;
use cairn_core::iam::{
    EntityKind, attach, groups, inline, keys, managed, principal_policies, role_trust_policy,
    roles, users,
};
use cairn_core::sts::{self, AssumeRoleInput};
use cairn_model::{AccountId, Principal, Region};
use cairn_policy::PolicySource;
use cairn_store::{Connection, Store};

const ALLOW_S3: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;

fn account() -> AccountId {
    AccountId::parse("123456789012").unwrap()
}

fn admin() -> CallContext {
    CallContext {
        principal: Principal::Root {
            account: account(),
            access_key_id: "AKIDROOT".into(),
            session: None,
        },
        region: Region::parse("us-east-1").unwrap(),
        now: 1_800_000_000.0,
        origin: Default::default(),
    }
}

fn as_user(c: &Connection, name: &str) -> CallContext {
    let u = cairn_store::iam::users::get_user(c, "123456789012", name)
        .unwrap()
        .unwrap();
    CallContext {
        principal: Principal::IamUser {
            account: account(),
            user_name: u.name,
            user_id: u.user_id,
            path: u.path,
            access_key_id: "AKIAEXAMPLE".into(),
            session: None,
        },
        ..admin()
    }
}

fn with_store<T: Send + 'static>(f: impl FnOnce(&Connection) -> T + Send + 'static) -> T {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    store.write_blocking(f).unwrap()
}

#[test]
fn quotas_answer_limit_exceeded_with_aws_messages() {
    with_store(|c| {
        let ctx = admin();
        users::create_user(c, &ctx, "q", None, None, &[]).unwrap();
        for i in 0..10 {
            groups::create_group(c, &ctx, &format!("g{i}"), None).unwrap();
            groups::add_user_to_group(c, &ctx, &format!("g{i}"), "q").unwrap();
        }
        groups::create_group(c, &ctx, "g10", None).unwrap();
        let e = groups::add_user_to_group(c, &ctx, "g10", "q").unwrap_err();
        assert_eq!(e.message, "Cannot exceed quota for GroupsPerUser: 10");
        // Adding again is a no-op, not a quota hit.
        groups::add_user_to_group(c, &ctx, "G0", "Q").unwrap();

        let catalogue: Vec<&str> = cairn_policy::managed::all()
            .iter()
            .filter(|p| p.attachable)
            .map(|p| p.arn)
            .collect();
        for arn in &catalogue[..10] {
            attach::attach_policy(c, &ctx, EntityKind::User, "q", arn).unwrap();
        }
        let e = attach::attach_policy(c, &ctx, EntityKind::User, "q", catalogue[10]).unwrap_err();
        assert_eq!(e.message, "Cannot exceed quota for PoliciesPerUser: 10");

        keys::create_access_key(c, &ctx, Some("q")).unwrap();
        keys::create_access_key(c, &ctx, Some("q")).unwrap();
        let e = keys::create_access_key(c, &ctx, Some("q")).unwrap_err();
        assert_eq!(e.message, "Cannot exceed quota for AccessKeysPerUser: 2");

        let p = managed::create_policy(c, &ctx, "p", ALLOW_S3, None, None, &[]).unwrap();
        for _ in 0..4 {
            managed::create_policy_version(c, &ctx, &p.arn, ALLOW_S3, false).unwrap();
        }
        let e = managed::create_policy_version(c, &ctx, &p.arn, ALLOW_S3, false).unwrap_err();
        assert_eq!(e.kind, cairn_core::ErrorKind::LimitExceeded);
        let e = users::create_user(c, &ctx, "Q", None, None, &[]).unwrap_err();
        assert_eq!(e.message, "User with name Q already exists.");
    });
}

#[test]
fn principal_policies_gather_user_group_and_session_policies() {
    with_store(|c| {
        let ctx = admin();
        users::create_user(c, &ctx, "dave", None, None, &[]).unwrap();
        groups::create_group(c, &ctx, "Auditors", None).unwrap();
        groups::add_user_to_group(c, &ctx, "Auditors", "dave").unwrap();
        attach::attach_policy(
            c,
            &ctx,
            EntityKind::Group,
            "Auditors",
            "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess",
        )
        .unwrap();
        inline::put_inline(c, &ctx, EntityKind::User, "dave", "own", ALLOW_S3).unwrap();
        let custom = managed::create_policy(c, &ctx, "custom", ALLOW_S3, None, None, &[]).unwrap();
        managed::create_policy_version(c, &ctx, &custom.arn, r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#, true).unwrap();
        attach::attach_policy(c, &ctx, EntityKind::User, "dave", &custom.arn).unwrap();
        users::put_user_boundary(c, &ctx, "dave", &custom.arn).unwrap();

        let dave = as_user(c, "dave");
        let got = principal_policies(c, &dave.principal).unwrap();
        let summary: Vec<(PolicySource, &str, Option<&str>)> = got
            .identity
            .iter()
            .map(|d| (d.source, d.id.as_str(), d.owner.as_deref()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (PolicySource::UserInline, "own", Some("dave")),
                (PolicySource::CustomerManaged, custom.arn.as_str(), None),
                (
                    PolicySource::AwsManaged,
                    "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess",
                    None
                ),
            ]
        );
        // The default version's document (v2, the Deny).
        assert!(got.identity[1].document.contains("Deny"));
        assert_eq!(got.identity[1].version_id.as_deref(), Some("v2"));
        assert_eq!(
            got.boundary.as_ref().unwrap().source,
            PolicySource::PermissionsBoundary
        );
        assert!(got.session.is_none());

        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/dave"},"Action":"sts:AssumeRole"}]}"#;
        roles::create_role(
            c,
            &ctx,
            &roles::CreateRole {
                name: "ops",
                trust_policy: trust,
                path: Some("/team/"),
                ..Default::default()
            },
        )
        .unwrap();
        inline::put_inline(c, &ctx, EntityKind::Role, "ops", "role-inline", ALLOW_S3).unwrap();
        let found = role_trust_policy(c, "123456789012", "arn:aws:iam::123456789012:role/team/ops")
            .unwrap()
            .unwrap();
        // Stored bound to dave's unique id, so a later user of his name is not named.
        let dave_id = cairn_store::iam::users::get_user(c, "123456789012", "dave")
            .unwrap()
            .unwrap()
            .user_id;
        assert_eq!(
            found.document,
            trust.replace("arn:aws:iam::123456789012:user/dave", &dave_id)
        );
        assert!(
            role_trust_policy(c, "123456789012", "arn:aws:iam::123456789012:role/ops")
                .unwrap()
                .is_none()
        );

        // A trust policy naming dave still needs his boundary to allow sts:AssumeRole (IAM's
        // "Update a role trust policy"); his, a Deny only, allows nothing.
        let refused = sts::assume_role(
            c,
            &dave,
            &AssumeRoleInput {
                role_arn: found.role_arn.clone(),
                session_name: "s0".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(refused.kind, cairn_core::ErrorKind::AccessDenied);
        users::delete_user_boundary(c, &ctx, "dave").unwrap();
        let dave = as_user(c, "dave");
        let assumed = sts::assume_role(
            c,
            &dave,
            &AssumeRoleInput {
                role_arn: found.role_arn.clone(),
                session_name: "s1".into(),
                policy: Some(ALLOW_S3.into()),
                policy_arns: vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(assumed.packed_policy_size.map(|n| n > 0), Some(true));
        let session = match sts::load_session(
            c,
            &assumed.credentials.access_key_id,
            &assumed.credentials.session_token,
        )
        .unwrap()
        {
            sts::SessionLookup::Found(s) => s.principal,
            other => panic!("{other:?}"),
        };
        let got = principal_policies(c, &session).unwrap();
        assert_eq!(got.identity.len(), 1);
        assert_eq!(got.identity[0].source, PolicySource::RoleInline);
        let session_policies = got.session.expect("session policies");
        assert_eq!(session_policies.len(), 2);
        assert!(
            session_policies
                .iter()
                .all(|d| d.source == PolicySource::Session)
        );

        // A trust policy that does not name the caller refuses, with AWS's message.
        roles::update_assume_role_policy(c, &ctx, "ops", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#).unwrap();
        let e = sts::assume_role(
            c,
            &dave,
            &AssumeRoleInput {
                role_arn: found.role_arn.clone(),
                session_name: "s2".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "User: arn:aws:iam::123456789012:user/dave is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/team/ops"
        );
        // Naming the account delegates to identity policies: dave has no sts:AssumeRole.
        roles::update_assume_role_policy(c, &ctx, "ops", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}"#).unwrap();
        users::delete_user_boundary(c, &ctx, "dave").unwrap();
        attach::detach_policy(c, &ctx, EntityKind::User, "dave", &custom.arn).unwrap();
        let request = AssumeRoleInput {
            role_arn: found.role_arn.clone(),
            session_name: "s3".into(),
            ..Default::default()
        };
        assert!(sts::assume_role(c, &dave, &request).is_err());
        inline::put_inline(c, &ctx, EntityKind::User, "dave", "assume", r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::123456789012:role/team/*"}]}"#).unwrap();
        assert!(sts::assume_role(c, &dave, &request).is_ok());
    });
}
