//! CloudFormation resource attributes that are secrets (`AWS::IAM::AccessKey`'s
//! `SecretAccessKey`), sealed at rest with the data dir's server key
//! ([`crate::iam::secrets::ServerKey`]) as IAM keeps the same secret: a copy of the database
//! alone does not reveal them. A sealed value is `{"sealed": "<hex>"}`, bound to its stack,
//! resource and attribute, so it cannot be moved to another. Schema version 27 seals the
//! values stored before.

use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::iam::secrets::ServerKey;
use crate::{StoreError, StoreResult};

/// The attributes sealed.
pub const SECRET_ATTRIBUTES: &[&str] = &["SecretAccessKey"];

fn context(stack_id: &str, logical_id: &str, attribute: &str) -> Vec<u8> {
    format!("cloudformation:{stack_id}:{logical_id}:{attribute}").into_bytes()
}

/// Seals `attributes`' secret values in place (those already sealed are left).
pub fn seal(
    conn: &Connection,
    stack_id: &str,
    logical_id: &str,
    attributes: &mut serde_json::Map<String, Value>,
) -> StoreResult<()> {
    for attribute in SECRET_ATTRIBUTES {
        if let Some(Value::String(plain)) = attributes.get(*attribute) {
            let key = ServerKey::for_connection(conn)?;
            let sealed = key.seal(plain.as_bytes(), &context(stack_id, logical_id, attribute))?;
            attributes.insert(
                (*attribute).to_owned(),
                json!({ "sealed": hex::encode(sealed) }),
            );
        }
    }
    Ok(())
}

/// Opens `attributes`' sealed values in place. One that does not open (the server key was
/// lost or replaced) is dropped with a warning, so the stack stays usable: only a
/// `Fn::GetAtt` of it fails.
pub fn open(
    conn: &Connection,
    stack_id: &str,
    logical_id: &str,
    attributes: &mut serde_json::Map<String, Value>,
) -> StoreResult<()> {
    for attribute in SECRET_ATTRIBUTES {
        let Some(text) = attributes
            .get(*attribute)
            .and_then(|v| v.get("sealed"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let opened = hex::decode(text)
            .map_err(|_| StoreError::Corrupt("sealed attribute is not hex".into()))
            .and_then(|sealed| {
                ServerKey::for_connection(conn)?
                    .open_string(&sealed, &context(stack_id, logical_id, attribute))
            });
        match opened {
            Ok(plain) => {
                attributes.insert((*attribute).to_owned(), Value::String(plain));
            }
            Err(e) => {
                tracing::warn!(stack = stack_id, resource = logical_id, attribute, error = %e,
                    "a sealed stack attribute does not open with this data dir's key; it is left out");
                attributes.remove(*attribute);
            }
        }
    }
    Ok(())
}

/// Schema version 27: seals the secret attributes stored before they were sealed; how many
/// resources it rewrote.
pub(crate) fn seal_stored(conn: &Connection) -> StoreResult<usize> {
    let rows: Vec<(String, String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT stack_id, logical_id, body FROM cfn_resources WHERE body LIKE '%SecretAccessKey%'",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<Result<_, _>>()?
    };
    let mut sealed = 0;
    for (stack_id, logical_id, body) in rows {
        let Ok(mut doc) = serde_json::from_str::<Value>(&body) else {
            continue;
        };
        let Some(attributes) = doc.get_mut("attributes").and_then(Value::as_object_mut) else {
            continue;
        };
        let before = attributes.clone();
        seal(conn, &stack_id, &logical_id, attributes)?;
        if *attributes != before {
            conn.execute(
                "UPDATE cfn_resources SET body = ?3 WHERE stack_id = ?1 AND logical_id = ?2",
                params![stack_id, logical_id, doc.to_string()],
            )?;
            sealed += 1;
        }
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_seals_opens_and_stays_bound_to_its_resource() {
        let (_dir, conn) = crate::iam::test_support::open();
        let mut attributes = serde_json::Map::new();
        attributes.insert("SecretAccessKey".into(), json!("s3cr3t"));
        attributes.insert("Other".into(), json!("plain"));
        seal(&conn, "stack-a", "Key", &mut attributes).unwrap();
        let stored = serde_json::to_string(&attributes).unwrap();
        assert!(!stored.contains("s3cr3t") && stored.contains("plain"));
        let mut same = attributes.clone();
        open(&conn, "stack-a", "Key", &mut same).unwrap();
        assert_eq!(same["SecretAccessKey"], json!("s3cr3t"));
        // Moved to another resource it does not open, and is left out rather than failing.
        let mut moved = attributes.clone();
        open(&conn, "stack-a", "OtherKey", &mut moved).unwrap();
        assert!(moved.get("SecretAccessKey").is_none() && moved["Other"] == json!("plain"));
    }

    #[test]
    fn after_version_27_no_database_file_holds_the_old_clear_secret() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("cairn.db")).unwrap();
        crate::schema::configure(&conn).unwrap();
        crate::schema::migrate_to(&conn, 26).unwrap();
        let secret = "CLEARTEXTSECRETCLEARTEXTSECRET0123456789";
        let body = json!({"logical_id": "Key", "attributes": {"SecretAccessKey": secret}});
        crate::cloudformation::put_resource(&conn, "stack-c", "Key", &body.to_string()).unwrap();
        crate::schema::migrate_to(&conn, 27).unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} still holds the secret",
                path.display()
            );
        }
    }

    #[test]
    fn version_27_seals_what_was_stored_in_the_clear() {
        let (_dir, conn) = crate::iam::test_support::open();
        let body = json!({"logical_id": "Key", "attributes": {"SecretAccessKey": "old-secret"}});
        crate::cloudformation::put_resource(&conn, "stack-b", "Key", &body.to_string()).unwrap();
        assert_eq!(seal_stored(&conn).unwrap(), 1);
        assert_eq!(seal_stored(&conn).unwrap(), 0, "sealed values are left");
        let (_, stored) = crate::cloudformation::resources(&conn, "stack-b")
            .unwrap()
            .remove(0);
        assert!(!stored.contains("old-secret"));
        let mut doc: Value = serde_json::from_str(&stored).unwrap();
        let attributes = doc["attributes"].as_object_mut().unwrap();
        open(&conn, "stack-b", "Key", attributes).unwrap();
        assert_eq!(attributes["SecretAccessKey"], json!("old-secret"));
    }
}
