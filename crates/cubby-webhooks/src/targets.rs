//! Where webhooks may be sent (SSRF): only to public addresses. A URL naming
//! an internal address is refused when the subscription is made; a host
//! name is resolved at every delivery, and the connection goes only to the
//! resolved addresses that are public, so a name that later resolves inward
//! (DNS rebinding) reaches nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which targets a server may deliver to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Targets {
    /// Also loopback addresses, over plain http: for tests and local
    /// development only, never in production (`CUBBY_WEBHOOKS_ALLOW_LOOPBACK=1`).
    pub allow_loopback: bool,
}

impl Targets {
    /// Public https targets only.
    pub const PUBLIC: Targets = Targets {
        allow_loopback: false,
    };
    /// Public targets and this machine (tests).
    pub const WITH_LOOPBACK: Targets = Targets {
        allow_loopback: true,
    };

    /// [`Targets::PUBLIC`] unless `CUBBY_WEBHOOKS_ALLOW_LOOPBACK` is `1`.
    pub fn from_env() -> Targets {
        Targets {
            allow_loopback: std::env::var("CUBBY_WEBHOOKS_ALLOW_LOOPBACK").is_ok_and(|v| v == "1"),
        }
    }

    /// Whether a connection to `ip` is allowed.
    pub fn allows(self, ip: IpAddr) -> bool {
        match internal(ip) {
            None => true,
            Some(Internal::Loopback) => self.allow_loopback,
            Some(Internal::Other) => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Internal {
    Loopback,
    /// Private, shared, link-local, unique-local, unspecified, multicast,
    /// broadcast or reserved.
    Other,
}

/// Why an address is not a public unicast address, if it is not.
pub(crate) fn internal(ip: IpAddr) -> Option<Internal> {
    match ip {
        IpAddr::V4(a) => internal_v4(a),
        IpAddr::V6(a) => internal_v6(a),
    }
}

fn internal_v4(a: Ipv4Addr) -> Option<Internal> {
    let [o1, o2, o3, _] = a.octets();
    if a.is_loopback() {
        return Some(Internal::Loopback);
    }
    let other = o1 == 0 // "this network"
        || a.is_private() // 10/8, 172.16/12, 192.168/16
        || (o1 == 100 && (o2 & 0xc0) == 64) // 100.64/10 shared (carrier-grade NAT)
        || a.is_link_local() // 169.254/16, cloud metadata
        || (o1 == 192 && o2 == 0 && o3 == 0) // 192.0.0/24 protocol assignments
        || (o1 == 198 && (o2 & 0xfe) == 18) // 198.18/15 benchmarking
        || a.is_multicast()
        || o1 >= 240; // reserved and broadcast
    other.then_some(Internal::Other)
}

fn internal_v6(a: Ipv6Addr) -> Option<Internal> {
    if let Some(v4) = embedded_v4(a) {
        return internal_v4(v4);
    }
    if a.is_loopback() {
        return Some(Internal::Loopback);
    }
    let s0 = a.segments()[0];
    let other = a.is_unspecified()
        || a.is_multicast()
        || (s0 & 0xffc0) == 0xfe80 // link-local
        || (s0 & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s0 & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s0 == 0x2001 && a.segments()[1] == 0x0db8); // documentation
    other.then_some(Internal::Other)
}

/// The IPv4 address an IPv6 address carries, where it carries one: mapped
/// (`::ffff:a.b.c.d`), translated (`::ffff:0:a.b.c.d`), compatible
/// (`::a.b.c.d`, not `::` or `::1`) or NAT64 (`64:ff9b::a.b.c.d`). Such an
/// address reaches that IPv4 host, so it is judged as that host.
fn embedded_v4(a: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = a.segments();
    let tail = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(tail),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(tail),
        [0, 0, 0, 0, 0, 0, hi, lo] if (hi, lo) != (0, 0) && (hi, lo) != (0, 1) => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(tail),
        _ => None,
    }
}

/// The resolver webhook clients use: the system's, with every internal
/// address dropped; a name with no public address fails to connect.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PublicOnly(pub Targets);

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let targets = self.0;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| targets.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(Refused(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

/// The name resolved only to internal addresses.
#[derive(Debug, thiserror::Error)]
#[error(
    "the endpoint's host does not resolve to a public address: webhooks are never sent to internal networks"
)]
pub(crate) struct Refused(String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ranges_are_refused_and_public_ones_allowed() {
        for refused in [
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "::ffff:0:a00:1",
            "::10.0.0.1",
        ] {
            let ip: IpAddr = refused.parse().expect("address");
            assert!(!Targets::WITH_LOOPBACK.allows(ip), "{refused} allowed");
            assert!(!Targets::PUBLIC.allows(ip), "{refused} allowed");
        }
        for loopback in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = loopback.parse().expect("address");
            assert!(!Targets::PUBLIC.allows(ip), "{loopback} allowed");
            assert!(Targets::WITH_LOOPBACK.allows(ip), "{loopback} refused");
        }
        for public in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "1.1.1.1",
        ] {
            let ip: IpAddr = public.parse().expect("address");
            assert!(Targets::PUBLIC.allows(ip), "{public} refused");
        }
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_dropped_unless_allowed() {
        let name: Name = "localhost".parse().expect("name");
        let refused = PublicOnly(Targets::PUBLIC).resolve(name).await;
        assert!(refused.is_err());
        let name: Name = "localhost".parse().expect("name");
        let allowed = PublicOnly(Targets::WITH_LOOPBACK)
            .resolve(name)
            .await
            .expect("resolves");
        assert!(allowed.into_iter().all(|a| a.ip().is_loopback()));
    }
}
