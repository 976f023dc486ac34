//! Console sessions: random 256-bit ids kept only as SHA-256 hashes in the store, an
//! HttpOnly, SameSite=Strict cookie scoped to `/console`, a CSRF token per session checked in
//! constant time on every form, and the signed-in principal re-resolved from its access key
//! on every request (for temporary keys, from their STS session, which must not have expired).
//! A key seen inactive or deleted, or a temporary session that ended, ends all its sessions
//! for good (UpdateAccessKey to `Inactive` and DeleteAccessKey end them as well). Over
//! https ([`is_https`]: a trusted proxy's `X-Forwarded-Proto`) every cookie is `Secure`.

use axum::response::Response;
use std::net::IpAddr;

use cairn_core::net::Cidr;
use cairn_core::sts;
use cairn_model::{KNOWN_REGIONS, Principal, Region};
use cairn_store::console::{self as store, Session};
use http::{HeaderMap, HeaderValue, header};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::recording::{CallInfo, ConsoleMarks};
use crate::server::AppState;
use cairn_console::pages::Chrome;

/// The session cookie.
pub const COOKIE: &str = "cairn_console";
/// The sign-in form's double-submit CSRF cookie.
pub const SIGNIN_COOKIE: &str = "cairn_signin";
/// How long a session lasts (AWS console sessions of IAM users last up to 12 hours).
pub const LIFETIME_SECS: i64 = 12 * 3600;
/// The `userAgent` AWS records for calls the console makes.
pub const CONSOLE_USER_AGENT: &str = "console.amazonaws.com";

/// 256 random bits, hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps of a session id.
pub fn hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.as_bytes()))
}

/// Constant-time string equality.
pub fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    cookies(headers, name).into_iter().next()
}

/// Every value of cookie `name` the request carries, in order. A browser sends a cookie with
/// a longer `Path` first, so another application on the same host (any port) can plant one
/// named like Cairn's ahead of it: readers try each.
/// A cookie of another application whose value is not ASCII (`lang=français`) is skipped
/// alone: the header is split as bytes, so it cannot hide the others and lock the user out.
pub fn cookies(headers: &HeaderMap, name: &str) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .collect()
}

/// Most session cookies of one request looked up: a browser sends at most a few dozen
/// cookies for a host, each lookup is one indexed read, and the real one is among them.
const MAX_SESSION_COOKIES: usize = 32;

/// Sets cookie `name` (HttpOnly, SameSite=Strict) on `path` for `max_age` seconds; an empty
/// value with `max_age` 0 deletes it.
pub fn set_cookie(resp: &mut Response, name: &str, value: &str, path: &str, max_age: i64) {
    let cookie =
        format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Whether the request's peer is one of the `trusted` proxies.
pub fn is_trusted(peer: Option<IpAddr>, trusted: &[Cidr]) -> bool {
    peer.is_some_and(|p| trusted.iter().any(|c| c.contains(p)))
}

/// Whether the browser reached the console over https. Cairn itself listens in plain HTTP,
/// so only a TLS proxy can say so: `X-Forwarded-Proto: https` counts when the peer is one of
/// `trusted` proxies (the last value, the one that proxy set), never from anyone else.
pub fn is_https(headers: &HeaderMap, peer: Option<IpAddr>, trusted: &[Cidr]) -> bool {
    if !is_trusted(peer, trusted) {
        return false;
    }
    last_value(headers, "x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The last comma-separated value of header `name` (the one the nearest proxy set).
fn last_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .next_back()
        .map(|v| v.trim().to_owned())
}

/// Whether `host` is a plain `host[:port]` (letters, digits, `.`, `-`, `:` and IPv6
/// brackets): nothing else is put in a record.
fn plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
}

/// The host the browser addressed as a trusted proxy forwarded it (its last
/// `X-Forwarded-Host`, else the `Host` it sent), when the peer is a trusted proxy; `None`
/// from any other peer, whose headers are the client's own choice.
pub fn forwarded_host(headers: &HeaderMap, trusted: bool) -> Option<String> {
    if !trusted {
        return None;
    }
    last_value(headers, "x-forwarded-host")
        .filter(|h| !h.is_empty())
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|h| plain_host(h))
}

/// Adds `Secure` to every cookie `resp` sets (the request came over https).
pub fn secure_cookies(resp: &mut Response) {
    let cookies: Vec<HeaderValue> = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .cloned()
        .collect();
    resp.headers_mut().remove(header::SET_COOKIE);
    for c in cookies {
        let marked = match c.to_str() {
            Ok(text) if !text.contains("; Secure") => {
                HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(c)
            }
            _ => c,
        };
        resp.headers_mut().append(header::SET_COOKIE, marked);
    }
}

/// A host (`name`, `[v6]` or `name:port`) split into its lower-cased name and port; `None`
/// when the port is not a number.
fn host_port(host: &str) -> Option<(String, Option<u16>)> {
    let (name, port) = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => (&host[..i], Some(&host[i + 1..])),
        _ => (host, None),
    };
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok()?),
        None => None,
    };
    (!name.is_empty()).then(|| (name.to_ascii_lowercase(), port))
}

/// Whether a state-changing request comes from this console's own pages: a browser that
/// names the request's origin (`Origin`, `Sec-Fetch-Site`) must name this console's own
/// origin: the scheme the browser used (`https` only behind a trusted TLS proxy, see
/// [`is_https`]; compared case-insensitively, as URLs compare them), and the host and port
/// it addressed (`forwarded`, a trusted proxy's [`forwarded_host`], else `Host`), a missing
/// port being the scheme's default.
pub fn same_origin(headers: &HeaderMap, https: bool, forwarded: Option<&str>) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = forwarded.or_else(|| headers.get(header::HOST).and_then(|v| v.to_str().ok()));
    let Some((host, port)) = host.and_then(host_port) else {
        return false;
    };
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    let (want_scheme, default_port) = if https { ("https", 443) } else { ("http", 80) };
    if !scheme.eq_ignore_ascii_case(want_scheme) || rest.contains(['/', '?', '#', '@']) {
        return false;
    }
    let Some((origin_host, origin_port)) = host_port(rest) else {
        return false;
    };
    origin_host == host && origin_port.unwrap_or(default_port) == port.unwrap_or(default_port)
}

/// A signed-in user.
#[derive(Clone, Debug)]
pub struct Signed {
    /// The session.
    pub session: Session,
    /// Who.
    pub principal: Principal,
    /// The console's region.
    pub region: Region,
    /// Where the browser is.
    pub source_ip: String,
    /// Whether the browser came over https ([`is_https`]): `aws:SecureTransport`.
    pub https: bool,
}

/// The signed-in user of a request, or `None` (no cookie, unknown or expired session, or
/// the key it signed in with is no longer active).
pub async fn load(
    state: &AppState,
    headers: &HeaderMap,
    source_ip: &str,
    https: bool,
) -> Option<Signed> {
    let now = chrono::Utc::now().timestamp() as f64;
    let hashes: Vec<_> = cookies(headers, COOKIE)
        .iter()
        .filter(|id| id.len() == 64)
        .take(MAX_SESSION_COOKIES)
        .map(|id| hash(id))
        .collect();
    if hashes.is_empty() {
        return None;
    }
    let session = state
        .store
        .read(move |c| {
            for h in &hashes {
                if let Some(found) = store::get(c, h, now)? {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        })
        .await
        .ok()??;
    let principal = if sts::is_temporary_key(&session.access_key_id) {
        // Signed in with temporary keys: their token was verified at sign-in; the STS
        // session must still exist and not have expired.
        let key = session.access_key_id.clone();
        let found = state
            .store
            .read(move |c| sts::session::session_principal(c, &key))
            .await
            .ok()?;
        match found {
            Some((principal, expires)) if now < expires as f64 => principal,
            _ => return end_sessions(state, &session.access_key_id).await,
        }
    } else {
        match state.credentials.lookup(&session.access_key_id).await {
            Some(found) => found.principal.clone(),
            // Deactivated or deleted: its sessions end for good, so reactivating the key
            // does not bring them back.
            None => return end_sessions(state, &session.access_key_id).await,
        }
    };
    let region = Region::parse(&session.region).ok()?;
    Some(Signed {
        principal,
        session,
        region,
        source_ip: source_ip.to_owned(),
        https,
    })
}

/// Deletes every session of `access_key_id`; `None` (the request is signed out).
async fn end_sessions(state: &AppState, access_key_id: &str) -> Option<Signed> {
    let key = access_key_id.to_owned();
    let ended = state
        .store
        .write(move |c| store::delete_for_key(c, &key))
        .await;
    if let Err(e) = ended.and_then(|r| r) {
        tracing::warn!(error = %e, "ending console sessions failed");
    }
    None
}

impl Signed {
    /// The call facts of an operation the console makes for this user now.
    pub fn call_info(&self) -> CallInfo {
        let now = chrono::Utc::now();
        CallInfo {
            ctx: cairn_core::CallContext {
                principal: self.principal.clone(),
                region: self.region.clone(),
                now: now.timestamp_millis() as f64 / 1000.0,
                origin: cairn_core::context::Origin {
                    source_ip: self.source_ip.clone(),
                    user_agent: CONSOLE_USER_AGENT.to_owned(),
                    secure_transport: self.https,
                    sigv2: false,
                    console: true,
                },
            },
            request_id: uuid::Uuid::new_v4().to_string(),
            source_ip: self.source_ip.clone(),
            user_agent: CONSOLE_USER_AGENT.to_owned(),
            invoked_by: None,
            signing: None,
            owner_conditions: Vec::new(),
            started: std::time::Instant::now(),
            console: Some(ConsoleMarks {
                signed_in: self.session.created as i64,
            }),
        }
    }

    /// The signature a notice in an address carries (`done` and the trail `name` it names),
    /// so that only this session's own redirects show one: an HMAC-SHA256 keyed with the
    /// session's secret CSRF token.
    pub fn notice_sig(&self, done: &str, name: &str) -> String {
        let msg = format!("cairn-console-notice\0{done}\0{name}");
        hex::encode(hmac_sha256(self.session.csrf.as_bytes(), msg.as_bytes()))
    }

    /// Whether `sig` is this session's signature of the notice (`done`, `name`).
    pub fn notice_ok(&self, done: &str, name: &str, sig: Option<&str>) -> bool {
        sig.is_some_and(|s| same(s, &self.notice_sig(done, name)))
    }

    /// Whether `form` carries this session's CSRF token.
    pub fn csrf_ok(&self, token: Option<&str>) -> bool {
        token.is_some_and(|t| same(t, &self.session.csrf))
    }

    /// The page chrome for navigation entry `nav`.
    pub fn chrome(&self, nav: &'static str) -> Chrome {
        Chrome {
            principal: self.principal.arn(),
            account: self.principal.account().to_string(),
            region: self.region.to_string(),
            regions: regions(),
            csrf: self.session.csrf.clone(),
            nav,
        }
    }
}

/// HMAC-SHA256 (RFC 2104), by the `hmac` crate.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// The regions the pickers offer.
pub fn regions() -> Vec<String> {
    KNOWN_REGIONS.iter().map(|r| r.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bits_and_distinct() {
        let (a, b) = (new_secret(), new_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_ne!(hash(&a), a);
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; cairn_console=xyz; b=2"),
        );
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("xyz"));
        let mut two = HeaderMap::new();
        two.insert(
            header::COOKIE,
            HeaderValue::from_static("cairn_console=planted; cairn_console=real"),
        );
        assert_eq!(cookies(&two, COOKIE), ["planted", "real"]);
        // Another application's cookie with a non-ASCII value hides nothing.
        let mut foreign = HeaderMap::new();
        foreign.insert(
            header::COOKIE,
            HeaderValue::from_bytes("lang=fran\u{e7}ais; cairn_console=xyz; x=\u{ff}".as_bytes())
                .unwrap(),
        );
        assert_eq!(cookies(&foreign, COOKIE), ["xyz"]);
        let mut latin1 = HeaderMap::new();
        latin1.insert(
            header::COOKIE,
            HeaderValue::from_bytes(b"lang=fran\xe7ais; cairn_console=abc").unwrap(),
        );
        assert_eq!(cookies(&latin1, COOKIE), ["abc"]);
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_a_trusted_proxy_says_https() {
        let trusted: Vec<Cidr> = vec!["127.0.0.1/32".parse().unwrap()];
        let proxy = Some("127.0.0.1".parse().unwrap());
        let stranger = Some("192.0.2.9".parse().unwrap());
        let mut h = HeaderMap::new();
        assert!(!is_https(&h, proxy, &trusted));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(is_https(&h, proxy, &trusted));
        assert!(!is_https(&h, stranger, &trusted));
        assert!(!is_https(&h, proxy, &[]));
        assert!(!is_https(&h, None, &trusted));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https, http"));
        assert!(
            !is_https(&h, proxy, &trusted),
            "the proxy's own value is last"
        );
    }

    #[test]
    fn cross_site_posts_are_refused() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9000"));
        assert!(same_origin(&h, false, None));
        let origin = |h: &mut HeaderMap, o: &'static str| {
            h.insert(header::ORIGIN, HeaderValue::from_static(o));
        };
        origin(&mut h, "http://127.0.0.1:9000");
        assert!(same_origin(&h, false, None));
        origin(&mut h, "HTTP://127.0.0.1:9000");
        assert!(
            same_origin(&h, false, None),
            "schemes compare case-insensitively"
        );
        for other in [
            "http://evil.example",
            "https://127.0.0.1:9000",
            "HTTPS://127.0.0.1:9000",
            "http://127.0.0.1:9001",
            "http://127.0.0.1",
            "http://127.0.0.1:9000/",
            "http://127.0.0.1:9000.evil.com",
            "null",
        ] {
            origin(&mut h, other);
            assert!(!same_origin(&h, false, None), "{other}");
        }
        // Behind a TLS proxy: https, the forwarded host, default ports.
        h.insert(header::HOST, HeaderValue::from_static("cairn.example"));
        origin(&mut h, "https://cairn.example");
        assert!(same_origin(&h, true, Some("cairn.example")));
        assert!(same_origin(&h, true, Some("cairn.example:443")));
        assert!(
            !same_origin(&h, false, None),
            "https on a plain-http console"
        );
        origin(&mut h, "http://cairn.example");
        assert!(!same_origin(&h, true, Some("cairn.example")));
        assert!(same_origin(&h, false, None));
        origin(&mut h, "https://[::1]:8443");
        assert!(same_origin(&h, true, Some("[::1]:8443")));
        assert!(!same_origin(&h, true, Some("[::1]")));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h, false, None));
    }

    #[test]
    fn only_a_trusted_proxy_forwards_the_host() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("evil.example"));
        assert_eq!(forwarded_host(&h, false), None);
        assert_eq!(forwarded_host(&h, true).as_deref(), Some("evil.example"));
        h.insert(
            "x-forwarded-host",
            HeaderValue::from_static("spoof.example, cairn.example"),
        );
        assert_eq!(forwarded_host(&h, true).as_deref(), Some("cairn.example"));
        h.insert("x-forwarded-host", HeaderValue::from_static("a b/c"));
        assert_eq!(forwarded_host(&h, true), None, "not a host");
    }
}
