use super::*;

fn conn() -> Connection {
    let c = Connection::open_in_memory().unwrap();
    crate::schema::migrate(&c).unwrap();
    c
}

fn key(id: &str) -> KeyRow {
    KeyRow {
        key_id: id.into(),
        arn: format!("arn:aws:kms:us-east-1:111122223333:key/{id}"),
        account: "111122223333".into(),
        region: "us-east-1".into(),
        created: 1.0,
        description: String::new(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        origin: "AWS_KMS".into(),
        key_manager: "CUSTOMER".into(),
        state: "Enabled".into(),
        deletion_date: None,
        pending_window: None,
        policy: "{}".into(),
        rotation_enabled: false,
        rotation_period: None,
        next_rotation: None,
        current_generation: 0,
        multi_region: false,
    }
}

#[test]
fn keys_material_and_deletion() {
    let c = conn();
    insert_key(&c, &key("b")).unwrap();
    insert_key(&c, &key("a")).unwrap();
    add_material(&c, "a", 1, b"w1", 1.0, None).unwrap();
    add_material(&c, "a", 2, b"w2", 2.0, Some("ON_DEMAND")).unwrap();
    assert_eq!(get_key(&c, "a").unwrap().unwrap().current_generation, 2);
    assert_eq!(wrapped_material(&c, "a", 1).unwrap().unwrap(), b"w1");
    assert_eq!(materials(&c, "a").unwrap().len(), 2);
    let listed = list_keys(&c, "111122223333", "us-east-1", "", 10).unwrap();
    assert_eq!(listed[0].0, "a");
    assert_eq!(
        list_keys(&c, "111122223333", "us-east-1", "a", 10)
            .unwrap()
            .len(),
        1
    );
    set_state(&c, "a", "PendingDeletion", Some(100.0), Some(7)).unwrap();
    assert!(due_deletions(&c, 99.0).unwrap().is_empty());
    assert_eq!(due_deletions(&c, 100.0).unwrap().len(), 1);
    insert_alias(
        &c,
        &Alias {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            name: "alias/x".into(),
            target_key_id: "a".into(),
            created: 1.0,
            updated: 1.0,
        },
    )
    .unwrap();
    put_tag(&c, "a", "k", "v").unwrap();
    delete_key(&c, "a").unwrap();
    assert!(get_key(&c, "a").unwrap().is_none());
    assert!(wrapped_material(&c, "a", 1).unwrap().is_none());
    assert!(
        get_alias(&c, "111122223333", "us-east-1", "alias/x")
            .unwrap()
            .is_none()
    );
    assert_eq!(count_tags(&c, "a").unwrap(), 0);
}

#[test]
fn grants_round_trip_with_constraints() {
    let c = conn();
    let mut subset = std::collections::BTreeMap::new();
    subset.insert("Dept".to_owned(), "IT".to_owned());
    let g = Grant {
        seq: 0,
        grant_id: "g1".into(),
        key_id: "a".into(),
        name: Some("n".into()),
        created: 1.0,
        grantee: "arn:aws:iam::111122223333:user/bob".into(),
        retiring: Some("arn:aws:iam::111122223333:user/carol".into()),
        issuing_account: "arn:aws:iam::111122223333:root".into(),
        operations: vec!["Decrypt".into()],
        constraints: Some(GrantConstraints {
            subset: Some(subset),
            equals: None,
        }),
    };
    let seq = insert_grant(&c, &g).unwrap();
    let back = get_grant(&c, "g1").unwrap().unwrap();
    assert_eq!(back.seq, seq);
    assert_eq!(back.constraints, g.constraints);
    assert_eq!(back.operations, g.operations);
    assert_eq!(
        list_retirable_grants(&c, "arn:aws:iam::111122223333:user/carol", 0, 10)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(find_named_grant(&c, "a", "n").unwrap().len(), 1);
    delete_grant(&c, "g1").unwrap();
    assert!(grants_for_key(&c, "a").unwrap().is_empty());
}
