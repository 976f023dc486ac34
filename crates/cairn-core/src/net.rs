//! Network address rules: CIDR blocks (for trusted proxies and the networks SNS may reach) and
//! the addresses an outbound HTTP subscription must never reach (the instance-metadata ranges
//! and Cairn's own listener), checked on every resolved address of an endpoint.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// An address block: `10.0.0.0/8`, `fd00:ec2::/32`, or a bare address (`/32`, `/128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| format!("bad address {addr:?}"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("bad prefix length {p:?}"))?,
            None => max,
        };
        Ok(Self { network, prefix })
    }
}

impl Cidr {
    /// Whether `ip` lies in the block (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// Instance-metadata ranges no subscription may reach (EC2 IMDS over IPv4 and IPv6).
const METADATA: [&str; 2] = ["169.254.0.0/16", "fd00:ec2::/32"];

/// Why an outbound endpoint address is refused, or `None` when it may be reached.
/// `allowed` empty means any address but the forbidden ones; `own` is Cairn's listener.
pub fn outbound_refusal(
    addr: SocketAddr,
    allowed: &[Cidr],
    own: Option<SocketAddr>,
) -> Option<String> {
    let ip = addr.ip();
    if METADATA
        .iter()
        .any(|c| c.parse::<Cidr>().expect("constant CIDR").contains(ip))
    {
        return Some(format!("{ip} is in the instance-metadata range"));
    }
    if let Some(own) = own
        && own.port() == addr.port()
        && (own.ip() == ip
            || own.ip().is_unspecified()
            || (own.ip().is_loopback() && ip.is_loopback()))
    {
        return Some(format!("{addr} is this server's own listener"));
    }
    if !allowed.is_empty() && !allowed.iter().any(|c| c.contains(ip)) {
        return Some(format!(
            "{ip} is outside the networks subscriptions may reach"
        ));
    }
    None
}

/// The client address of a request: the peer, or — when the peer is a trusted proxy — the
/// last `X-Forwarded-For` hop that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[Cidr]) -> IpAddr {
    if !trusted.iter().any(|c| c.contains(peer)) {
        return peer;
    }
    let Some(chain) = forwarded_for else {
        return peer;
    };
    chain
        .split(',')
        .rev()
        .filter_map(|hop| hop.trim().parse::<IpAddr>().ok())
        .find(|ip| !trusted.iter().any(|c| c.contains(*ip)))
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidrs_parse_and_contain() {
        let c: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(c.contains("10.1.2.3".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(c.contains("::ffff:10.9.9.9".parse().unwrap()));
        let one: Cidr = "192.0.2.7".parse().unwrap();
        assert!(one.contains("192.0.2.7".parse().unwrap()));
        assert!(!one.contains("192.0.2.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nope".parse::<Cidr>().is_err());
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
    }

    #[test]
    fn metadata_and_own_listener_are_refused() {
        assert!(outbound_refusal(sa("169.254.169.254:80"), &[], None).is_some());
        assert!(outbound_refusal(sa("[fd00:ec2::254]:80"), &[], None).is_some());
        let own = Some(sa("127.0.0.1:4599"));
        assert!(outbound_refusal(sa("127.0.0.1:4599"), &[], own).is_some());
        assert!(outbound_refusal(sa("127.0.0.2:4599"), &[], own).is_some());
        assert!(outbound_refusal(sa("127.0.0.1:8080"), &[], own).is_none());
        let only: Vec<Cidr> = vec!["192.168.0.0/16".parse().unwrap()];
        assert!(outbound_refusal(sa("10.0.0.1:80"), &only, None).is_some());
        assert!(outbound_refusal(sa("192.168.1.1:80"), &only, None).is_none());
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted: Vec<Cidr> = vec!["10.0.0.1".parse().unwrap()];
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(
            client_ip(proxy, Some("198.51.100.4, 10.0.0.1"), &trusted),
            "198.51.100.4".parse::<IpAddr>().unwrap()
        );
        assert_eq!(
            client_ip(stranger, Some("198.51.100.4"), &trusted),
            stranger
        );
        assert_eq!(client_ip(proxy, Some("garbage"), &trusted), proxy);
    }
}
