//! Outbound HTTP(S) to SNS subscribers, guarded: an endpoint is resolved once, every address
//! is checked against the forbidden ranges (instance metadata, Cairn's own listener) and the
//! operator's allowed networks, and the request is pinned to the checked addresses (no second
//! DNS lookup that could rebind), with connect and request timeouts.

use std::net::SocketAddr;
use std::time::Duration;

use cairn_core::net::{Cidr, outbound_refusal};

/// Where subscriptions may post.
#[derive(Clone, Debug, Default)]
pub struct OutboundRules {
    /// Networks that may be reached (empty: any but the forbidden ranges).
    pub allowed: Vec<Cidr>,
    /// Cairn's own listener.
    pub own: Option<SocketAddr>,
}

/// A vetted endpoint: the URL and a client pinned to its checked addresses.
pub struct Vetted {
    /// The endpoint URL.
    pub url: reqwest::Url,
    /// A client that connects only to the checked addresses.
    pub client: reqwest::Client,
}

/// Resolves and checks `endpoint`; the error says why it may not be used.
pub async fn vet(endpoint: &str, rules: &OutboundRules) -> Result<Vetted, String> {
    let url = reqwest::Url::parse(endpoint).map_err(|_| "not a valid URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the protocol must be http or https".to_owned());
    }
    let host = url.host_str().ok_or("the URL has no host")?.to_owned();
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let lookup_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addrs: Vec<SocketAddr> = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((lookup_host.as_str(), port)),
    )
    .await
    .map_err(|_| "the host name did not resolve in time".to_owned())?
    .map_err(|_| "the host name does not resolve".to_owned())?
    .collect();
    if addrs.is_empty() {
        return Err("the host name does not resolve".to_owned());
    }
    for a in &addrs {
        if let Some(why) = outbound_refusal(*a, &rules.allowed, rules.own) {
            return Err(why);
        }
    }
    let client = reqwest::Client::builder()
        .resolve_to_addrs(&lookup_host, &addrs)
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build a client: {e}"))?;
    Ok(Vetted { url, client })
}
