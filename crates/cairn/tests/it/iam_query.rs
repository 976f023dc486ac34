//! IAM and STS over the Query protocol against the real server: the ids it hands out embed
//! the account (and decode back to it), and a session token that is altered, missing, another
//! session's, or sent with a long-term key is refused with `InvalidClientTokenId`.

use cairn_core::iam::ids::decode_account;

use crate::harness::{ACCESS_KEY, SECRET, Server, Signed, sign};

const ACCOUNT: &str = "123456789012";

/// The text of the first `<name>` element.
fn tag(body: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = body
        .find(&open)
        .unwrap_or_else(|| panic!("no <{name}> in {body}"))
        + open.len();
    let end = body[start..]
        .find(&format!("</{name}>"))
        .expect("closing tag")
        + start;
    body[start..end].to_owned()
}

fn query(
    server: &Server,
    service: &str,
    key: (&str, &str),
    token: Option<&str>,
    form: &[(&str, &str)],
) -> Signed {
    let version = if service == "iam" {
        "2010-05-08"
    } else {
        "2011-06-15"
    };
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().copied())
        .append_pair("Version", version)
        .finish();
    let mut headers = vec![(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
    )];
    if let Some(t) = token {
        headers.push(("x-amz-security-token".to_owned(), t.to_owned()));
    }
    sign(
        &server.addr,
        "eu-west-1",
        service,
        key.0,
        key.1,
        "POST",
        "/",
        headers,
        body.into_bytes(),
        chrono::Utc::now(),
    )
}

async fn call(
    server: &Server,
    service: &str,
    key: (&str, &str),
    token: Option<&str>,
    form: &[(&str, &str)],
) -> (u16, String) {
    let (status, _, body) = server.send(query(server, service, key, token, form)).await;
    (status, String::from_utf8(body).expect("utf-8"))
}

const ROOT: (&str, &str) = (ACCESS_KEY, SECRET);

#[tokio::test]
async fn ids_embed_the_account() {
    let server = Server::start();
    let (s, user) = call(
        &server,
        "iam",
        ROOT,
        None,
        &[("Action", "CreateUser"), ("UserName", "ids")],
    )
    .await;
    assert_eq!(s, 200, "{user}");
    let (s, group) = call(
        &server,
        "iam",
        ROOT,
        None,
        &[("Action", "CreateGroup"), ("GroupName", "g")],
    )
    .await;
    assert_eq!(s, 200, "{group}");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/ids"},"Action":"sts:AssumeRole"}]}"#;
    let (s, role) = call(
        &server,
        "iam",
        ROOT,
        None,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", trust),
        ],
    )
    .await;
    assert_eq!(s, 200, "{role}");
    let (_, key) = call(
        &server,
        "iam",
        ROOT,
        None,
        &[("Action", "CreateAccessKey"), ("UserName", "ids")],
    )
    .await;
    let (key_id, secret) = (tag(&key, "AccessKeyId"), tag(&key, "SecretAccessKey"));
    let (s, assumed) = call(
        &server,
        "sts",
        (&key_id, &secret),
        None,
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", "arn:aws:iam::123456789012:role/r"),
            ("RoleSessionName", "s1"),
        ],
    )
    .await;
    assert_eq!(s, 200, "{assumed}");
    let ids = [
        ("AIDA", tag(&user, "UserId")),
        ("AGPA", tag(&group, "GroupId")),
        ("AROA", tag(&role, "RoleId")),
        ("AKIA", key_id.clone()),
        ("ASIA", tag(&assumed, "AccessKeyId")),
    ];
    for (prefix, id) in &ids {
        assert!(id.starts_with(prefix), "{id}");
        assert_eq!(decode_account(id).as_deref(), Some(ACCOUNT), "{id}");
        let (s, info) = call(
            &server,
            "sts",
            ROOT,
            None,
            &[("Action", "GetAccessKeyInfo"), ("AccessKeyId", id)],
        )
        .await;
        assert_eq!(
            (s, tag(&info, "Account")),
            (200, ACCOUNT.to_owned()),
            "{info}"
        );
    }
    let (_, policy) = call(
        &server,
        "iam",
        ROOT,
        None,
        &[
            ("Action", "CreatePolicy"),
            ("PolicyName", "p"),
            (
                "PolicyDocument",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#,
            ),
        ],
    )
    .await;
    assert_eq!(
        decode_account(&tag(&policy, "PolicyId")).as_deref(),
        Some(ACCOUNT)
    );
}

#[tokio::test]
async fn altered_missing_and_foreign_tokens_are_refused() {
    let server = Server::start();
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/t"},"Action":"sts:AssumeRole"}]}"#;
    call(
        &server,
        "iam",
        ROOT,
        None,
        &[("Action", "CreateUser"), ("UserName", "t")],
    )
    .await;
    call(
        &server,
        "iam",
        ROOT,
        None,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", trust),
        ],
    )
    .await;
    let (_, key) = call(
        &server,
        "iam",
        ROOT,
        None,
        &[("Action", "CreateAccessKey"), ("UserName", "t")],
    )
    .await;
    let user = (tag(&key, "AccessKeyId"), tag(&key, "SecretAccessKey"));
    let user_key = (user.0.as_str(), user.1.as_str());
    let assume = [
        ("Action", "AssumeRole"),
        ("RoleArn", "arn:aws:iam::123456789012:role/r"),
        ("RoleSessionName", "s1"),
    ];
    let (_, a) = call(&server, "sts", user_key, None, &assume).await;
    let (_, b) = call(&server, "sts", user_key, None, &assume).await;
    let (id, secret, token) = (
        tag(&a, "AccessKeyId"),
        tag(&a, "SecretAccessKey"),
        tag(&a, "SessionToken"),
    );
    let other_token = tag(&b, "SessionToken");
    let session = (id.as_str(), secret.as_str());
    let who = [("Action", "GetCallerIdentity")];
    let (s, ok) = call(&server, "sts", session, Some(&token), &who).await;
    assert_eq!(s, 200, "{ok}");
    assert_eq!(
        tag(&ok, "Arn"),
        "arn:aws:sts::123456789012:assumed-role/r/s1"
    );

    let mut altered: Vec<String> = Vec::new();
    for i in [0, token.len() / 2, token.len() - 3] {
        let mut bytes = token.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        altered.push(String::from_utf8(bytes).expect("ascii"));
    }
    altered.push(token[..token.len() - 4].to_owned());
    altered.push(format!("{token}AAAA"));
    altered.push(other_token);
    altered.push("not base64 at all".to_owned());
    for bad in &altered {
        let (s, body) = call(&server, "sts", session, Some(bad), &who).await;
        assert_eq!(s, 403, "{bad}: {body}");
        assert_eq!(tag(&body, "Code"), "InvalidClientTokenId", "{bad}");
        assert_eq!(
            tag(&body, "Message"),
            "The security token included in the request is invalid."
        );
    }
    // No token at all, a token with a long-term key, an unknown temporary key.
    let (s, body) = call(&server, "sts", session, None, &who).await;
    assert_eq!(
        (s, tag(&body, "Code")),
        (403, "InvalidClientTokenId".to_owned())
    );
    let (s, body) = call(&server, "sts", user_key, Some(&token), &who).await;
    assert_eq!(
        (s, tag(&body, "Code")),
        (403, "InvalidClientTokenId".to_owned())
    );
    let (s, body) = call(
        &server,
        "sts",
        ("ASIARZPUZDIKAAAAAAAA", "x"),
        Some(&token),
        &who,
    )
    .await;
    assert_eq!(
        (s, tag(&body, "Code")),
        (403, "InvalidClientTokenId".to_owned())
    );
    // The token is also accepted as a query parameter.
    let mut req = query(&server, "sts", session, None, &who);
    req.path_and_query = format!(
        "/?X-Amz-Security-Token={}",
        percent_encoding::utf8_percent_encode(&token, percent_encoding::NON_ALPHANUMERIC)
    );
    let resigned = sign(
        &server.addr,
        "eu-west-1",
        "sts",
        session.0,
        session.1,
        "POST",
        &req.path_and_query,
        vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        )],
        req.body.clone(),
        chrono::Utc::now(),
    );
    let (s, _, body) = server.send(resigned).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
}

#[tokio::test]
async fn arbitrary_parameters_get_client_errors_not_faults() {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let server = Server::start();
    let actions = [
        "CreateUser",
        "GetUser",
        "ListUsers",
        "DeleteUser",
        "TagUser",
        "CreateAccessKey",
        "UpdateAccessKey",
        "CreateGroup",
        "AddUserToGroup",
        "GetGroup",
        "CreateRole",
        "UpdateRole",
        "CreatePolicy",
        "CreatePolicyVersion",
        "GetPolicyVersion",
        "ListPolicies",
        "AttachUserPolicy",
        "PutUserPolicy",
        "GetUserPolicy",
        "ListEntitiesForPolicy",
        "GetAccountAuthorizationDetails",
        "SimulateCustomPolicy",
        "SimulatePrincipalPolicy",
    ];
    let names = [
        "UserName",
        "GroupName",
        "RoleName",
        "PolicyName",
        "PolicyArn",
        "PolicyDocument",
        "AssumeRolePolicyDocument",
        "Path",
        "PathPrefix",
        "MaxItems",
        "Marker",
        "VersionId",
        "AccessKeyId",
        "Status",
        "Tags.member.1.Key",
        "Tags.member.1.Value",
        "Scope",
        "ActionNames.member.1",
        "PolicyInputList.member.1",
        "Filter.member.1",
        "MaxSessionDuration",
    ];
    let strategy = (
        0..actions.len(),
        proptest::collection::vec((0..names.len(), "\\PC{0,40}"), 0..6),
    );
    let mut runner = TestRunner::deterministic();
    for _ in 0..48 {
        let (a, params) = strategy.new_tree(&mut runner).expect("tree").current();
        let mut form: Vec<(&str, &str)> = vec![("Action", actions[a])];
        form.extend(params.iter().map(|(n, v)| (names[*n], v.as_str())));
        for service in ["iam", "sts"] {
            let (status, body) = call(&server, service, ROOT, None, &form).await;
            assert!(status < 500, "{form:?} → {status} {body}");
        }
    }
}
