//! The check of a new SNS subscription's HTTP(S) endpoint: every address its host resolves
//! to (an address literal resolves to itself) is checked, as a connection to it lands
//! (`cairn_core::net::effective_destination`), against the forbidden ranges (instance
//! metadata, Cairn's own listener) and the operator's allowed networks. Deliveries check again, and pin their request to the
//! checked addresses (`cairn_delivery::notify`).

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

/// Checks a new HTTP(S) subscription's `endpoint`; the error says why it may not be used.
/// A host that resolves must not resolve into a forbidden range. A host that does not
/// resolve (yet) is accepted, as SNS accepts it: the subscription stays pending until a
/// confirmation reaches it, and every delivery resolves and checks the host again.
pub async fn check_endpoint(endpoint: &str, rules: &OutboundRules) -> Result<(), String> {
    let url = reqwest::Url::parse(endpoint).map_err(|_| "not a valid URL".to_owned())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("the protocol must be http or https".to_owned());
    }
    let host = url.host_str().ok_or("the URL has no host")?.to_owned();
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    let lookup_host = host.trim_start_matches('[').trim_end_matches(']');
    let resolved = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::lookup_host((lookup_host, port)),
    )
    .await;
    let Ok(Ok(addrs)) = resolved else {
        tracing::debug!(
            endpoint = %cairn_core::sns_subscription_checks::masked_endpoint(endpoint),
            "the subscription's host does not resolve yet"
        );
        return Ok(());
    };
    for a in addrs {
        if let Some(why) = outbound_refusal(a, &rules.allowed, rules.own) {
            return Err(why);
        }
    }
    Ok(())
}
