//! Sign-in, sign-out and the region switch. Every sign-in attempt is recorded as a
//! `ConsoleLogin` event shaped like AWS's (`signin.amazonaws.com`, `AwsConsoleSignIn`,
//! `responseElements.ConsoleLogin` Success/Failure, `additionalEventData.MFAUsed`), durably,
//! before the browser is answered.

use axum::response::Response;
use cairn_core::record::{PreparedEvent, append};
use cairn_core::sts;
use cairn_model::event::{EVENT_VERSION, EventRecord, format_event_time};
use cairn_model::{Principal, Region};
use cairn_store::console::{self as store, Session};
use http::StatusCode;
use serde_json::{Value, json};

use super::Incoming;
use super::session::{self, Signed};
use super::web::{self, Form};
use crate::server::AppState;
use cairn_console::pages::SignIn;

/// What AWS shows for a sign-in whose user does not exist.
const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";
/// The message a wrong secret gets.
pub const INVALID_CREDENTIALS: &str =
    "The access key ID or secret access key is not valid. Check your credentials and try again.";

/// The sign-in page with its double-submit CSRF cookie: the browser's own, when it has one,
/// so a sign-in page opened in another tab does not void this one's form.
pub fn page(notice: Option<&str>, headers: &http::HeaderMap) -> Response {
    let kept = session::cookie(headers, session::SIGNIN_COOKIE)
        .filter(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()));
    form_with(kept, None, notice, ("", "us-east-1"), StatusCode::OK)
}

fn form(
    error: Option<&str>,
    notice: Option<&str>,
    access_key_id: &str,
    region: &str,
    status: StatusCode,
) -> Response {
    form_with(None, error, notice, (access_key_id, region), status)
}

fn form_with(
    kept: Option<String>,
    error: Option<&str>,
    notice: Option<&str>,
    (access_key_id, region): (&str, &str),
    status: StatusCode,
) -> Response {
    let csrf = kept.unwrap_or_else(session::new_secret);
    let mut resp = web::page_with(
        status,
        &SignIn {
            error: error.map(str::to_owned),
            notice: notice.map(str::to_owned),
            access_key_id: access_key_id.to_owned(),
            csrf: csrf.clone(),
            regions: session::regions(),
            region: region.to_owned(),
        },
    );
    session::set_cookie(
        &mut resp,
        session::SIGNIN_COOKIE,
        &csrf,
        "/console/signin",
        3600,
    );
    resp
}

/// Handles the sign-in form.
pub async fn submit(state: &AppState, req: &Incoming<'_>) -> Response {
    let (headers, source_ip) = (req.headers, req.source_ip);
    let f = Form::parse(req.body);
    let token_ok = match (
        session::cookie(headers, session::SIGNIN_COOKIE),
        f.get("csrf"),
    ) {
        // Only a token of the form the sign-in page issues (64 hex digits): an empty or
        // planted one in both places passed the double-submit check (console8).
        (Some(c), Some(t)) => {
            c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()) && session::same(&c, t)
        }
        _ => false,
    };
    if !token_ok || !session::same_origin(headers, req.https, req.forwarded_host) {
        return form(
            Some("The sign-in form expired. Sign in again."),
            None,
            "",
            "us-east-1",
            StatusCode::FORBIDDEN,
        );
    }
    let key_id = f.str("access_key_id");
    let secret =
        f.0.iter()
            .find(|(k, _)| k == "secret_access_key")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
    let region = Region::parse(f.get("region").unwrap_or("us-east-1"))
        .unwrap_or_else(|_| Region::parse("us-east-1").expect("us-east-1 exists"));
    let user_agent = headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let token = f.str("session_token");
    let now = chrono::Utc::now().timestamp();
    let throttle = super::throttle::global();
    let wait = throttle.wait(source_ip, &key_id, now);
    // An attempt whose failure could not be recorded is not checked at all: past the bound on
    // unsigned recorded calls it is answered at once, unchecked and unrecorded, so no one can
    // guess secrets unseen (hostile17: 2,000 guesses from 400 addresses were each checked,
    // and 122 recorded). During a wait the secret is not checked either (below).
    if wait == 0 && !crate::unsigned_rate::allow(source_ip, state.now()) {
        tracing::debug!(%source_ip, "console sign-in past the bound on unsigned calls; not checked");
        return form(
            Some("Too many sign-in attempts right now. Wait a few seconds, then try again."),
            None,
            &key_id,
            region.as_str(),
            StatusCode::TOO_MANY_REQUESTS,
        );
    }
    // While a wait runs the key's owner is still looked up (the attempt is recorded as a
    // failed sign-in of that user, which monitoring counts), but the secret is not checked.
    let found = if key_id.is_empty() {
        None
    } else if !token.is_empty() || sts::is_temporary_key(&key_id) {
        // Temporary keys (AssumeRole, GetSessionToken) sign in with their session token.
        let token = (!token.is_empty()).then_some(token.as_str());
        state.credentials.resolve(&key_id, token, now).await.ok()
    } else {
        state.credentials.lookup(&key_id).await
    };
    // Compare against something even for an unknown key, so timing does not tell them apart.
    let (principal, secret_ok) = match &found {
        Some(k) if wait > 0 => (Some(k.principal.clone()), false),
        Some(k) => (Some(k.principal.clone()), session::same(&k.secret, &secret)),
        None => {
            let _ = session::same(&session::new_secret(), &secret);
            (None, false)
        }
    };
    let attempt = Attempt {
        account: state.settings.account.to_string(),
        region: region.to_string(),
        source_ip: source_ip.to_owned(),
        user_agent,
        login_to: login_to(state, req),
        at: now,
        mfa_used: match principal.as_ref().and_then(|p| p.session()) {
            Some(c) if c.mfa => "Yes",
            _ => "No",
        },
    };
    let outcome = match (&principal, secret_ok) {
        (Some(p), true) => LoginResult::Success(p),
        (Some(p), false) => LoginResult::WrongSecret(p),
        (None, _) => LoginResult::UnknownUser,
    };
    let event = login_event(&attempt, &outcome);
    if secret_ok {
        throttle.succeeded(source_ip, &key_id);
    } else if wait == 0 {
        throttle.failed(source_ip, &key_id, now);
    }
    let Some(p) = principal.filter(|_| secret_ok) else {
        // Within the bound on unsigned recorded calls too (hostile14: failures sent from a
        // thousand addresses were each recorded, 6,019 in 14 s).
        let recorded = wait == 0
            || (throttle.record_waiting(source_ip, &key_id, now)
                && crate::unsigned_rate::allow(source_ip, state.now()));
        if !recorded {
            tracing::debug!(%source_ip, "console sign-in refused during its wait; not recorded (one a minute is)");
        } else if let Err(e) = state
            .store
            .write(move |c| append(c, &event))
            .await
            .and_then(|r| r)
        {
            tracing::error!(error = %e, "could not record a failed console sign-in");
            return web::text(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sign-in is unavailable: the attempt could not be recorded.",
            );
        }
        if wait > 0 {
            let message =
                format!("Too many failed sign-in attempts. Wait {wait} seconds, then try again.");
            return form(
                Some(&message),
                None,
                &key_id,
                region.as_str(),
                StatusCode::TOO_MANY_REQUESTS,
            );
        }
        return form(
            Some(INVALID_CREDENTIALS),
            None,
            &key_id,
            region.as_str(),
            StatusCode::OK,
        );
    };
    // A console session never outlives the credentials it signed in with.
    let lifetime = p.session().map_or(session::LIFETIME_SECS, |c| {
        (c.expires - now).clamp(0, session::LIFETIME_SECS)
    });
    let id = session::new_secret();
    let row = Session {
        id_hash: session::hash(&id),
        access_key_id: p.access_key_id().to_owned(),
        region: region.to_string(),
        csrf: session::new_secret(),
        created: now as f64,
        expires: (now + lifetime) as f64,
    };
    // The session and its ConsoleLogin event commit together.
    let stored = state
        .store
        .write(move |c| {
            cairn_store::with_savepoint(c, |c| {
                store::delete_expired(c, now as f64)?;
                store::insert(c, &row)?;
                append(c, &event)
            })
        })
        .await
        .and_then(|r| r);
    if let Err(e) = stored {
        tracing::error!(error = %e, "could not store a console session");
        return web::text(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable: the session could not be stored.",
        );
    }
    let mut resp = web::redirect("/console/");
    session::set_cookie(&mut resp, session::COOKIE, &id, "/console", lifetime);
    session::set_cookie(&mut resp, session::SIGNIN_COOKIE, "", "/console/signin", 0);
    resp
}

/// `additionalEventData.LoginTo`: the console's address, as AWS records the console URL
/// signed in to (`https://console.aws.amazon.com/console/…`), from nothing the client
/// chooses: the host a trusted proxy forwarded ([`session::forwarded_host`]), else the
/// address Cairn listens on (`127.0.0.1` for an unspecified address), never the client's
/// own `Host` header.
fn login_to(state: &AppState, req: &Incoming<'_>) -> String {
    let scheme = if req.https { "https" } else { "http" };
    let host = match (req.forwarded_host, state.settings.listen_addr) {
        (Some(h), _) => h.to_owned(),
        (None, Some(a)) if a.ip().is_unspecified() => format!("127.0.0.1:{}", a.port()),
        (None, Some(a)) => a.to_string(),
        (None, None) => "127.0.0.1".to_owned(),
    };
    format!("{scheme}://{host}/console/")
}

/// Ends the session.
pub async fn sign_out(state: &AppState, signed: &Signed) -> Response {
    let id_hash = signed.session.id_hash.clone();
    if let Err(e) = state
        .store
        .write(move |c| store::delete(c, &id_hash))
        .await
        .and_then(|r| r)
    {
        tracing::error!(error = %e, "could not end a console session");
    }
    let mut resp = web::redirect("/console/signin?signed_out=1");
    session::set_cookie(&mut resp, session::COOKIE, "", "/console", 0);
    resp
}

/// Switches the console's region.
pub async fn switch_region(state: &AppState, signed: &Signed, f: &Form, back: &str) -> Response {
    if let Ok(region) = Region::parse(f.get("region").unwrap_or("")) {
        remember_region(state, signed, &region).await;
    }
    web::redirect(back)
}

/// Makes `region` the session's region (the pages it shows next).
pub async fn remember_region(state: &AppState, signed: &Signed, region: &Region) {
    let id_hash = signed.session.id_hash.clone();
    let r = region.to_string();
    if let Err(e) = state
        .store
        .write(move |c| store::set_region(c, &id_hash, &r))
        .await
        .and_then(|r| r)
    {
        tracing::error!(error = %e, "could not switch the console region");
    }
}

/// One sign-in attempt's facts.
pub struct Attempt {
    /// Account.
    pub account: String,
    /// Region chosen.
    pub region: String,
    /// Browser address.
    pub source_ip: String,
    /// Browser user agent.
    pub user_agent: String,
    /// `additionalEventData.LoginTo`.
    pub login_to: String,
    /// When.
    pub at: i64,
    /// `additionalEventData.MFAUsed`: "Yes" when the keys are a session's issued with MFA.
    pub mfa_used: &'static str,
}

/// How an attempt ended.
pub enum LoginResult<'a> {
    /// Signed in.
    Success(&'a Principal),
    /// The key exists but the secret is wrong.
    WrongSecret(&'a Principal),
    /// No active key with that id.
    UnknownUser,
}

/// The `ConsoleLogin` record of an attempt, as AWS writes it (no `requestID`; see
/// [`signin_identity`] for `accessKeyId`).
pub fn login_event(a: &Attempt, result: &LoginResult<'_>) -> PreparedEvent {
    let (identity, username, error, outcome) = match result {
        LoginResult::Success(p) => (
            signin_identity(p, true),
            p.lookup_username().to_owned(),
            None,
            "Success",
        ),
        LoginResult::WrongSecret(p) => (
            signin_identity(p, false),
            p.lookup_username().to_owned(),
            Some("Failed authentication"),
            "Failure",
        ),
        LoginResult::UnknownUser => (
            json!({"type": "IAMUser", "accountId": a.account, "accessKeyId": "", "userName": HIDDEN}),
            HIDDEN.to_owned(),
            Some("No username found in supplied account"),
            "Failure",
        ),
    };
    let record = EventRecord {
        event_version: EVENT_VERSION.to_owned(),
        user_identity: identity,
        event_time: format_event_time(a.at),
        event_source: "signin.amazonaws.com".to_owned(),
        event_name: "ConsoleLogin".to_owned(),
        aws_region: a.region.clone(),
        source_ip_address: a.source_ip.clone(),
        user_agent: a.user_agent.chars().take(1024).collect(),
        error_code: None,
        error_message: error.map(str::to_owned),
        request_parameters: Value::Null,
        response_elements: json!({"ConsoleLogin": outcome}),
        additional_event_data: Some(json!({
            "LoginTo": a.login_to,
            "MobileVersion": "No",
            "MFAUsed": a.mfa_used,
        })),
        request_id: String::new(),
        event_id: uuid::Uuid::new_v4().to_string(),
        read_only: false,
        resources: Vec::new(),
        event_type: "AwsConsoleSignIn".to_owned(),
        management_event: true,
        recipient_account_id: a.account.clone(),
        event_category: "Management".to_owned(),
    };
    // A ConsoleLogin record has no requestID.
    let mut canonical = record.to_canonical_json();
    if let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&canonical) {
        m.shift_remove("requestID");
        canonical = Value::Object(m).to_string();
    }
    PreparedEvent::with_canonical(&record, canonical, a.at, &username, Vec::new())
}

/// The principal as a ConsoleLogin record names it.
/// The sign-in's `userIdentity`. AWS's records (the CloudTrail and IAM user guides' examples,
/// 2014–2022, and a 2024 detonation log in the shared datasets) carry an empty `accessKeyId`
/// for the root user and for an IAM user's failed attempt, and none for an IAM user's
/// successful sign-in; an IAM user's failed attempt names no `arn` (the CloudTrail user
/// guide's failed sign-in example).
fn signin_identity(p: &Principal, success: bool) -> Value {
    let mut identity = p.user_identity();
    if let Some(m) = identity.as_object_mut() {
        let root = m.get("type").and_then(Value::as_str) == Some("Root");
        if root || !success {
            m.insert("accessKeyId".into(), json!(""));
        } else {
            m.shift_remove("accessKeyId");
        }
        if !root && !success {
            m.shift_remove("arn");
        }
    }
    identity
}
