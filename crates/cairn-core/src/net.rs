//! Network address rules: CIDR blocks (for trusted proxies and the networks SNS may reach) and
//! the addresses an outbound HTTP subscription must never reach (the instance-metadata ranges
//! and Cairn's own listener), checked on every resolved address of an endpoint, in the form a
//! connection to it takes (IPv4-mapped and -compatible IPv6 as IPv4, unspecified as loopback).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
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

/// The address a connection to `ip` actually reaches, for the outbound checks: an
/// IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`) IPv6 address is its IPv4
/// address, and an unspecified address (`0.0.0.0`, `::`, and the rest of `0.0.0.0/8`) is this
/// host's loopback, which is where Linux connects it.
pub fn effective_destination(ip: IpAddr) -> IpAddr {
    let ip = match ip {
        IpAddr::V6(v6) if v6.is_loopback() || v6.is_unspecified() => {
            return IpAddr::V6(Ipv6Addr::LOCALHOST);
        }
        IpAddr::V6(v6) => v6.to_ipv4().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) if v4.octets()[0] == 0 => IpAddr::V4(Ipv4Addr::LOCALHOST),
        other => other,
    }
}

/// Whether `ip` is an address of this host: loopback, or an address a local socket can be
/// bound to (every address of every local interface, as interfaces are now).
pub fn is_local_address(ip: IpAddr) -> bool {
    ip.is_loopback() || std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_ok()
}

/// Why an outbound endpoint address is refused, or `None` when it may be reached.
/// `allowed` empty means any address but the forbidden ones; `own` is Cairn's listener.
/// `addr` is an address the endpoint resolved to, the one a connection is made to.
pub fn outbound_refusal(
    addr: SocketAddr,
    allowed: &[Cidr],
    own: Option<SocketAddr>,
) -> Option<String> {
    outbound_refusal_with(addr, allowed, own, &is_local_address)
}

/// [`outbound_refusal`] with the test of "an address of this host" given (the tests use a
/// fixed set). Every check is made on [`effective_destination`], so no spelling of an
/// address (mapped, compatible, unspecified) reaches what its plain form may not.
pub fn outbound_refusal_with(
    addr: SocketAddr,
    allowed: &[Cidr],
    own: Option<SocketAddr>,
    is_local: &dyn Fn(IpAddr) -> bool,
) -> Option<String> {
    let ip = effective_destination(addr.ip());
    if METADATA
        .iter()
        .filter_map(|c| c.parse::<Cidr>().ok())
        .any(|c| c.contains(ip))
    {
        return Some(format!("{} is in the instance-metadata range", addr.ip()));
    }
    if let Some(own) = own
        && own.port() == addr.port()
        && reaches_listener(ip, own.ip(), is_local)
    {
        return Some(format!("{addr} is this server's own listener"));
    }
    if !allowed.is_empty() && !allowed.iter().any(|c| c.contains(ip)) {
        return Some(format!(
            "{} is outside the networks subscriptions may reach",
            addr.ip()
        ));
    }
    None
}

/// Whether a connection to `ip` (an [`effective_destination`]) on the listener's port reaches
/// a listener bound to `listen`: the same address; any loopback address when the listener is
/// on loopback; any address of this host when it listens on every address.
fn reaches_listener(ip: IpAddr, listen: IpAddr, is_local: &dyn Fn(IpAddr) -> bool) -> bool {
    let listen = match listen {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(listen, IpAddr::V4),
        v4 => v4,
    };
    if listen.is_unspecified() {
        return is_local(ip);
    }
    ip == listen || (listen.is_loopback() && ip.is_loopback())
}

/// The client address of a request: the peer, or — when the peer is a trusted proxy — the
/// last `X-Forwarded-For` hop that is not itself a trusted proxy. Hops are read from the
/// right, as the proxies wrote them (an address, `ip:port` or `[ipv6]:port`); a hop that is
/// not an address (`unknown`) ends the walk at the last trusted hop, never skipping to the
/// hops before it, which the client wrote.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[Cidr]) -> IpAddr {
    // An IPv4 client of a dual-stack listener (`[::]:port`) arrives as `::ffff:a.b.c.d`: it
    // is that IPv4 address, as CloudTrail records it and as every per-source bound must
    // count it (recheck35: all IPv4 clients were one source, `::/64`).
    let peer = unmapped(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else {
        return peer;
    };
    let mut last_trusted = peer;
    for hop in chain.rsplit(',') {
        match hop_address(hop.trim()) {
            Some(ip) if is_trusted(unmapped(ip)) => last_trusted = unmapped(ip),
            Some(ip) => return unmapped(ip),
            None => return last_trusted,
        }
    }
    last_trusted
}

/// `ip`, with an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its IPv4 address.
pub fn unmapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// One `X-Forwarded-For` hop's address: `ip`, `ip:port`, `[ipv6]` or `[ipv6]:port`.
fn hop_address(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (ip, after) = rest.split_once(']')?;
        return (after.is_empty() || after.strip_prefix(':')?.parse::<u16>().is_ok())
            .then(|| ip.parse().ok())
            .flatten();
    }
    hop.parse::<SocketAddr>().ok().map(|s| s.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_hops_are_read_from_the_right_and_never_skipped() {
        let proxy: Cidr = "127.0.0.1".parse().unwrap();
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let ip = |chain: &str| client_ip(peer, Some(chain), std::slice::from_ref(&proxy));
        let real: IpAddr = "6.6.6.6".parse().unwrap();
        // The client's own line first, the proxy's line after it (joined by the caller).
        assert_eq!(ip("10.9.9.9,6.6.6.6"), real);
        assert_eq!(ip("10.9.9.9, 6.6.6.6:54321"), real);
        assert_eq!(
            ip("10.9.9.9, [2001:db8::6]:443"),
            "2001:db8::6".parse::<IpAddr>().unwrap()
        );
        assert_eq!(ip("10.9.9.9, unknown"), peer, "not the client's own hop");
        assert_eq!(ip("10.9.9.9, garbage, 127.0.0.1"), peer);
        assert_eq!(ip("6.6.6.6, 127.0.0.1"), real);
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
    fn every_spelling_of_a_forbidden_address_is_refused() {
        let own = Some(sa("127.0.0.1:4599"));
        for reached in [
            "0.0.0.0:4599",
            "0.1.2.3:4599",
            "[::]:4599",
            "[::1]:4599",
            "[::ffff:127.0.0.1]:4599",
            "[::ffff:127.0.0.2]:4599",
            "[::127.0.0.1]:4599",
        ] {
            let why = outbound_refusal(sa(reached), &[], own);
            assert!(
                why.as_deref().is_some_and(|w| w.contains("own listener")),
                "{reached}: {why:?}"
            );
        }
        for metadata in [
            "[::ffff:169.254.169.254]:80",
            "[::169.254.169.254]:80",
            "[::ffff:a9fe:a9fe]:80",
        ] {
            let why = outbound_refusal(sa(metadata), &[], None);
            assert!(
                why.as_deref().is_some_and(|w| w.contains("metadata")),
                "{metadata}: {why:?}"
            );
        }
        // Other ports of this host stay reachable unless the allowed networks say otherwise.
        assert!(outbound_refusal(sa("0.0.0.0:8080"), &[], own).is_none());
        assert!(outbound_refusal(sa("[::ffff:127.0.0.1]:8080"), &[], own).is_none());
        let loopback: Vec<Cidr> = vec!["127.0.0.0/8".parse().unwrap()];
        assert!(outbound_refusal(sa("0.0.0.0:8080"), &loopback, None).is_none());
        let lan: Vec<Cidr> = vec!["10.0.0.0/8".parse().unwrap()];
        assert!(outbound_refusal(sa("0.0.0.0:8080"), &lan, None).is_some());
        assert!(outbound_refusal(sa("[::ffff:10.1.1.1]:80"), &lan, None).is_none());
        assert!(outbound_refusal(sa("[::ffff:11.1.1.1]:80"), &lan, None).is_some());
    }

    #[test]
    fn a_listener_on_every_address_is_reached_by_every_local_address() {
        let local = |ip: IpAddr| ip.is_loopback() || ip == "192.0.2.10".parse::<IpAddr>().unwrap();
        for listen in ["0.0.0.0:4599", "[::]:4599", "[::ffff:0.0.0.0]:4599"] {
            let own = Some(sa(listen));
            for reached in [
                "192.0.2.10:4599",
                "[::ffff:192.0.2.10]:4599",
                "127.0.0.1:4599",
                "0.0.0.0:4599",
                "[::1]:4599",
            ] {
                assert!(
                    outbound_refusal_with(sa(reached), &[], own, &local).is_some(),
                    "{listen} reached by {reached}"
                );
            }
            // Another host's service on the same port is not this server.
            assert!(outbound_refusal_with(sa("192.0.2.11:4599"), &[], own, &local).is_none());
            assert!(outbound_refusal_with(sa("192.0.2.10:4600"), &[], own, &local).is_none());
        }
        // The real probe: loopback is local; a documentation address is not (unless the
        // host lets sockets bind any address).
        assert!(is_local_address("127.0.0.1".parse().unwrap()));
        let nonlocal_bind = std::fs::read_to_string("/proc/sys/net/ipv4/ip_nonlocal_bind")
            .is_ok_and(|v| v.trim() == "1");
        if !nonlocal_bind {
            assert!(!is_local_address("192.0.2.123".parse().unwrap()));
        }
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

    /// An IPv4 client of a dual-stack listener is its IPv4 address (recheck35).
    #[test]
    fn ipv4_mapped_peers_are_their_ipv4_address() {
        let mapped: IpAddr = "::ffff:127.0.0.2".parse().unwrap();
        let v4: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(client_ip(mapped, None, &[]), v4);
        let trusted: Vec<Cidr> = vec!["10.0.0.1".parse().unwrap()];
        let proxy: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(
            client_ip(proxy, Some("::ffff:198.51.100.4"), &trusted),
            "198.51.100.4".parse::<IpAddr>().unwrap()
        );
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(client_ip(v6, None, &[]), v6);
    }
}
