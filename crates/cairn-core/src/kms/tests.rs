//! Unit tests of the KMS core over a real store in a temp dir.

use std::sync::Arc;

use cairn_model::{AccountId, Principal, Region};
use cairn_store::{Connection, Store};

use super::authz::{Actor, KeyAction, ServiceCall, key_permission, resolve_grants};
use super::*;
use crate::authz::{PolicyEvaluator, authorize_all};
use crate::context::{CallContext, Origin};
use crate::error::ErrorKind;

const ACCT: &str = "111122223333";

struct Env {
    _dir: tempfile::TempDir,
    store: Store,
    master: Arc<MasterKey>,
    evaluator: Arc<PolicyEvaluator>,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    Env {
        _dir: dir,
        store,
        master: Arc::new(MasterKey::generate().unwrap().0),
        evaluator: Arc::new(PolicyEvaluator::new()),
    }
}

impl Env {
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &MasterKey, &PolicyEvaluator) -> T + Send + 'static,
    ) -> T {
        let (m, e) = (self.master.clone(), self.evaluator.clone());
        self.store.write_blocking(move |c| f(c, &m, &e)).unwrap()
    }
}

fn root() -> CallContext {
    ctx(Principal::Root {
        account: AccountId::parse(ACCT).unwrap(),
        access_key_id: "AKIDROOT".into(),
        session: None,
    })
}

fn user(name: &str) -> CallContext {
    ctx(Principal::IamUser {
        account: AccountId::parse(ACCT).unwrap(),
        user_name: name.into(),
        user_id: format!("AIDA{}", name.to_uppercase()),
        path: "/".into(),
        access_key_id: "AKIDUSER".into(),
        session: None,
    })
}

fn ctx(principal: Principal) -> CallContext {
    CallContext {
        principal,
        region: Region::parse("us-east-1").unwrap(),
        now: 1_800_000_000.0,
        origin: Origin::default(),
    }
}

fn context(pairs: &[(&str, &str)]) -> EncryptionContext {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn new_key(c: &Connection, m: &MasterKey, e: &PolicyEvaluator, policy: Option<String>) -> Key {
    keys::create_key(
        c,
        m,
        e,
        &root(),
        &keys::CreateKeyInput {
            policy,
            ..Default::default()
        },
    )
    .unwrap()
}

/// Authorizes `action` on `key` for `who` as the API choke point would (grants included).
fn allowed(
    c: &Connection,
    e: &PolicyEvaluator,
    who: &CallContext,
    key: &Key,
    action: &str,
    ctx: &EncryptionContext,
) -> Result<(), crate::ApiError> {
    let op = action.strip_prefix("kms:").unwrap();
    let kp = key_permission(
        c,
        &Actor::Caller(who),
        key,
        KeyAction {
            action,
            context: Some(ctx),
            grant_operation: Some(op),
            ..Default::default()
        },
    )?;
    let perms = resolve_grants(c, e, who, vec![kp])?;
    authorize_all(e, c, who, &perms)
}

#[test]
fn round_trip_context_binding_and_rotation() {
    let env = env();
    env.run(|c, m, e| {
        let key = new_key(c, m, e, None);
        let ctx = context(&[("purpose", "test")]);
        let sealed = crypto::encrypt(c, m, &key, b"hello", &ctx).unwrap();
        assert_eq!(sealed.key_arn, key.arn);
        let found = crypto::blob_key(c, &Scope::of(&root()), &sealed.blob).unwrap();
        let opened = crypto::decrypt(c, m, &found, &sealed.blob, &ctx).unwrap();
        assert_eq!(opened.plaintext.expose(), b"hello");
        let wrong = crypto::decrypt(c, m, &found, &sealed.blob, &context(&[])).unwrap_err();
        assert_eq!(wrong.kind, ErrorKind::KmsInvalidCiphertext);
        assert_eq!(wrong.message, "");

        let generation = rotation::rotate_on_demand(c, m, &key, 1.0).unwrap();
        assert_eq!(generation, 2);
        let key = ids::key_in_scope(c, &Scope::of(&root()), &key.key_id).unwrap();
        let old = crypto::decrypt(c, m, &key, &sealed.blob, &ctx).unwrap();
        assert_eq!(
            old.plaintext.expose(),
            b"hello",
            "old ciphertexts still decrypt"
        );
        let newer = crypto::encrypt(c, m, &key, b"again", &ctx).unwrap();
        assert_eq!(cairn_crypto::blob::peek(&newer.blob).unwrap().generation, 2);
        assert_ne!(newer.key_material_id, sealed.key_material_id);
    });
}

#[test]
fn state_machine_and_deletion_sweep() {
    let env = env();
    env.run(|c, m, e| {
        let key = new_key(c, m, e, None);
        let scope = Scope::of(&root());
        let reload = |c: &Connection| ids::key_in_scope(c, &scope, &key.key_id).unwrap();
        keys::disable(c, &key).unwrap();
        let k = reload(c);
        assert_eq!(
            crypto::encrypt(c, m, &k, b"x", &context(&[]))
                .unwrap_err()
                .kind,
            ErrorKind::KmsDisabled
        );
        assert_eq!(
            keys::schedule_deletion(c, &k, Some(6), 0.0)
                .unwrap_err()
                .kind,
            ErrorKind::Validation
        );
        let (when, days) = keys::schedule_deletion(c, &k, None, 100.0).unwrap();
        assert_eq!((when, days), (100.0 + 30.0 * 86_400.0, 30));
        let k = reload(c);
        assert_eq!(
            keys::enable(c, &k).unwrap_err().kind,
            ErrorKind::KmsInvalidState
        );
        keys::cancel_deletion(c, &k).unwrap();
        assert_eq!(reload(c).state, DISABLED);
        keys::schedule_deletion(c, &reload(c), Some(7), 100.0).unwrap();
        let early = keys::sweep(c, Some(m), 100.0 + 7.0 * 86_400.0 - 1.0).unwrap();
        assert!(early.deleted.is_empty());
        let due = keys::sweep(c, Some(m), 100.0 + 7.0 * 86_400.0).unwrap();
        assert_eq!(due.deleted, vec![key.arn.clone()]);
        assert_eq!(
            ids::key_in_scope(c, &scope, &key.key_id).unwrap_err().kind,
            ErrorKind::KmsNotFound
        );
        let recorded = cairn_store::events::records(c, "Management", 0, 10).unwrap();
        assert!(recorded.iter().any(|(_, r)| r.contains("\"DeleteKey\"")));
    });
}

#[test]
fn lockout_check_and_explicit_deny_of_root() {
    let env = env();
    env.run(|c, m, e| {
        let who = root();
        let deny_decrypt = format!(
            r#"{{"Version":"2012-10-17","Statement":[
              {{"Sid":"all","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},
              {{"Sid":"no decrypt","Effect":"Deny","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:Decrypt","Resource":"*"}}]}}"#
        );
        let key = new_key(c, m, e, Some(deny_decrypt));
        let none = context(&[]);
        assert!(allowed(c, e, &who, &key, "kms:Encrypt", &none).is_ok());
        let denied = allowed(c, e, &who, &key, "kms:Decrypt", &none).unwrap_err();
        assert_eq!(denied.kind, ErrorKind::AccessDenied);
        assert!(denied.message.contains("explicit deny"), "{}", denied.message);

        let lockout = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:*","Resource":"*"}]}"#.to_owned();
        let refused = policy::put_policy(c, e, &who, &key, &lockout, false).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::KmsMalformedPolicyDocument);
        assert_eq!(refused.message, policy::LOCKOUT_MESSAGE);
        assert!(
            allowed(c, e, &who, &key, "kms:Encrypt", &none).is_ok(),
            "a refused policy is not stored"
        );
        policy::put_policy(c, e, &who, &key, &lockout, true).unwrap();
        let denied = allowed(c, e, &who, &key, "kms:Encrypt", &none).unwrap_err();
        assert!(denied.message.contains("resource-based"), "{}", denied.message);
        let reset = admin::reset_key_policy(c, &key.arn, 5.0).unwrap();
        assert!(reset.policy.contains("key-default-1"));
        assert!(allowed(c, e, &who, &reset, "kms:Encrypt", &none).is_ok());
    });
}

#[test]
fn grants_let_a_user_without_policies_decrypt() {
    let env = env();
    env.run(|c, m, e| {
        let key = new_key(c, m, e, None);
        let bob = user("bob");
        let ctx = context(&[("dept", "it")]);
        let denied = allowed(c, e, &bob, &key, "kms:Decrypt", &ctx).unwrap_err();
        assert!(
            denied.message.contains("identity-based"),
            "{}",
            denied.message
        );
        // A grant names an existing user (by its unique id).
        cairn_store::iam::users::create_user(
            c,
            &cairn_store::iam::users::User {
                account: ACCT.into(),
                name: "bob".into(),
                user_id: "AIDABOB".into(),
                path: "/".into(),
                created: 1.0,
                boundary: None,
            },
        )
        .unwrap();
        let grant = grants::create_grant(
            c,
            m,
            &Scope::of(&root()),
            &key,
            &grants::CreateGrantInput {
                grantee: bob.principal.arn(),
                operations: vec!["Decrypt".into()],
                constraints: Some(cairn_store::kms::GrantConstraints {
                    subset: Some(context(&[("dept", "it")])),
                    equals: None,
                }),
                ..Default::default()
            },
            1.0,
        )
        .unwrap();
        assert_eq!(grant.grant_id.len(), 64);
        assert!(allowed(c, e, &bob, &key, "kms:Decrypt", &ctx).is_ok());
        assert!(allowed(c, e, &bob, &key, "kms:Decrypt", &context(&[])).is_err());
        assert!(allowed(c, e, &bob, &key, "kms:Encrypt", &ctx).is_err());
        let g = grants::grant_of_token(c, m, &grant.token).unwrap();
        grants::delete(c, &g).unwrap();
        assert!(allowed(c, e, &bob, &key, "kms:Decrypt", &ctx).is_err());
    });
}

#[test]
fn service_principal_generates_data_keys_under_the_cloudtrail_policy() {
    let env = env();
    env.run(|c, m, e| {
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[
              {{"Sid":"Enable IAM user permissions","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCT}:root"}},"Action":"kms:*","Resource":"*"}},
              {{"Sid":"Allow CloudTrail to encrypt logs","Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"kms:GenerateDataKey*","Resource":"*",
                "Condition":{{"StringLike":{{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:{ACCT}:trail/*"}}}}}}]}}"#
        );
        let key = new_key(c, m, e, Some(policy));
        let call = ServiceCall {
            service: "cloudtrail.amazonaws.com".into(),
            account: AccountId::parse(ACCT).unwrap(),
            region: Region::parse("us-east-1").unwrap(),
            now: 10.0,
            source_arn: Some(format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t")),
            source_account: Some(ACCT.into()),
        };
        let actor = Actor::Service(&call);
        let good = context(&[(
            "aws:cloudtrail:arn",
            &format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t"),
        )]);
        let dk = internal::generate_data_key(c, m, e, &actor, &key.arn, &good, 32).unwrap();
        assert_eq!(dk.plaintext.len(), 32);
        let bad = context(&[("aws:cloudtrail:arn", "arn:aws:cloudtrail:us-east-1:999:trail/x")]);
        let denied = internal::generate_data_key(c, m, e, &actor, &key.arn, &bad, 32).unwrap_err();
        assert_eq!(denied.kind, ErrorKind::AccessDenied);
        // CloudTrail may not decrypt; the account (root) may, via its own call.
        let no = internal::decrypt(c, m, e, &actor, &dk.ciphertext, &good, None).unwrap_err();
        assert_eq!(no.kind, ErrorKind::AccessDenied);
        let who = root();
        let back =
            internal::decrypt(c, m, e, &Actor::Caller(&who), &dk.ciphertext, &good, None).unwrap();
        assert_eq!(back.plaintext.expose(), dk.plaintext.expose());
        let event = internal::internal_event(
            &actor,
            &internal::InternalCall {
                event_name: "GenerateDataKey",
                key_id: Some(&key.arn),
                key_arn: Some(&key.arn),
                context: Some(&good),
                key_spec: Some("AES_256"),
                ..Default::default()
            },
        );
        assert!(event.canonical().contains(r#""invokedBy":"cloudtrail.amazonaws.com""#));
        assert!(event.canonical().contains(r#""readOnly":true"#));
        assert!(!event.canonical().contains(&hex::encode(dk.plaintext.expose())));
    });
}

#[test]
fn aws_managed_key_is_created_once_and_usable_only_via_its_service() {
    let env = env();
    env.run(|c, m, e| {
        let who = root();
        let a = aws_managed_key(c, m, &who, "s3").unwrap();
        let b = aws_managed_key(c, m, &who, "s3").unwrap();
        assert_eq!(a.key_id, b.key_id);
        assert_eq!(a.key_manager, AWS_MANAGED);
        let ctx = context(&[("aws:s3:arn", "arn:aws:s3:::b/k")]);
        let via = Actor::Via {
            ctx: &who,
            service: "s3",
        };
        let dk = internal::generate_data_key(c, m, e, &via, "alias/aws/s3", &ctx, 32).unwrap();
        let direct =
            internal::generate_data_key(c, m, e, &Actor::Caller(&who), "alias/aws/s3", &ctx, 32)
                .unwrap_err();
        assert_eq!(direct.kind, ErrorKind::AccessDenied);
        let back = internal::decrypt(c, m, e, &via, &dk.ciphertext, &ctx, None).unwrap();
        assert_eq!(back.plaintext.expose(), dk.plaintext.expose());
    });
}

#[test]
fn master_key_rotation_rewraps_everything_and_nothing_is_stored_in_the_clear() {
    let env = env();
    let (new_master, _) = MasterKey::generate().unwrap();
    let new_master = Arc::new(new_master);
    let nm = new_master.clone();
    let (blob, backing) = env.run(|c, m, e| {
        admin::adopt_master(c, m).unwrap();
        let key = new_key(c, m, e, None);
        let sealed = crypto::encrypt(c, m, &key, b"secret", &context(&[])).unwrap();
        let wrapped = cairn_store::kms::wrapped_material(c, &key.key_id, 1)
            .unwrap()
            .unwrap();
        let backing = m
            .unwrap(&wrapped, &cairn_crypto::backing_key_aad(&key.arn, 1))
            .unwrap();
        (sealed.blob, backing.expose().to_vec())
    });
    // The backing key appears nowhere in the data dir's files.
    for entry in std::fs::read_dir(env._dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(32).any(|w| w == backing.as_slice()));
    }
    let n = env.run(move |c, m, _| {
        assert_eq!(
            admin::check_master(c, &nm).unwrap(),
            admin::MasterStatus::Mismatch
        );
        admin::rotate_master_key(c, m, &nm).unwrap()
    });
    assert_eq!(n.backing_keys, 1);
    assert_eq!(n.object_keys, 0);
    let nm = new_master.clone();
    env.run(move |c, m, _| {
        assert_eq!(
            admin::check_master(c, &nm).unwrap(),
            admin::MasterStatus::Matches
        );
        assert_eq!(
            admin::check_master(c, m).unwrap(),
            admin::MasterStatus::Mismatch
        );
        let key = crypto::blob_key(c, &Scope::of(&root()), &blob).unwrap();
        let opened = crypto::decrypt(c, &nm, &key, &blob, &context(&[])).unwrap();
        assert_eq!(opened.plaintext.expose(), b"secret");
    });
}

#[test]
fn a_key_holds_at_most_its_quota_of_grants() {
    // hostile11: a user allowed kms:CreateGrant made grants without end.
    let env = env();
    env.run(|c, m, e| {
        let key = new_key(c, m, e, None);
        c.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST(?2 AS INTEGER))
             INSERT INTO kms_grants (grant_id, key_id, created, grantee, issuing_account, operations)
             SELECT printf('%064d', i), ?1, 1.0, 'arn:aws:iam::111122223333:root', '111122223333',
                    '[\"Decrypt\"]' FROM n",
            [key.key_id.clone(), super::MAX_GRANTS_PER_KEY.to_string()],
        )
        .unwrap();
        let input = grants::CreateGrantInput {
            grantee: root().principal.arn(),
            operations: vec!["Decrypt".into()],
            ..Default::default()
        };
        let refused = grants::create_grant(c, m, &Scope::of(&root()), &key, &input, 1.0);
        assert_eq!(refused.err().unwrap().kind, ErrorKind::KmsLimitExceeded);
    });
}
