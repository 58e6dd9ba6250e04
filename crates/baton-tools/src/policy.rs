//! The outbound policy: which network targets server-side tools may reach.
//!
//! Tools run requests that a model (and so, indirectly, a user) chooses. Without a guard an agent
//! could be talked into reading the cloud metadata service or an internal admin port (SSRF), so
//! private, loopback, link-local and other special-purpose addresses are refused unless the
//! operator allows them.

use baton_core::handler::ToolError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Which outbound targets are allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    /// Allow loopback addresses (127.0.0.0/8, ::1).
    pub allow_loopback: bool,
    /// Allow private and link-local ranges (10/8, 172.16/12, 192.168/16, 169.254/16, fc00::/7, …).
    pub allow_private: bool,
    /// Host names or IP literals always allowed, whatever they resolve to.
    pub allowed_hosts: Vec<String>,
}

impl OutboundPolicy {
    /// A policy that allows every target (for embedding in trusted environments and tests).
    pub fn allow_all() -> Self {
        Self {
            allow_loopback: true,
            allow_private: true,
            allowed_hosts: Vec::new(),
        }
    }

    /// Whether requests to this host name skip the address checks.
    pub fn host_is_allowed(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Checks one resolved address; the error says why it is refused.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        let ip = match ip {
            IpAddr::V6(v6) => embedded_v4(v6).map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        let class = classify(ip);
        let allowed = match class {
            AddressClass::Public => true,
            AddressClass::Loopback => self.allow_loopback,
            AddressClass::Private => self.allow_private,
            AddressClass::Special => false,
        };
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "the outbound policy refuses {ip} ({}); allow it in baton.toml under [tools]",
                class.describe()
            ))
        }
    }

    /// Checks a host (name or literal) and port, resolving names; returns the allowed addresses.
    /// A refused address is [`ToolError::Denied`].
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, ToolError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            if !self.host_is_allowed(bare) {
                self.check_ip(ip).map_err(ToolError::Denied)?;
            }
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| ToolError::Upstream {
                message: format!("cannot resolve `{bare}`: {e}"),
                source: Some(Box::new(e)),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(ToolError::upstream(format!("`{bare}` has no address")));
        }
        if self.host_is_allowed(bare) {
            return Ok(addrs);
        }
        // Every address must pass: a name that mixes public and private answers is a rebinding trick.
        for addr in &addrs {
            self.check_ip(addr.ip()).map_err(ToolError::Denied)?;
        }
        Ok(addrs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddressClass {
    Public,
    Loopback,
    Private,
    Special,
}

impl AddressClass {
    fn describe(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Loopback => "loopback",
            Self::Private => "private or link-local",
            Self::Special => "reserved or special-purpose",
        }
    }
}

/// The IPv4 address an IPv6 address stands for, when it is a way of reaching an IPv4 host:
/// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::a.b.c.d`)
/// or 6to4 (`2002:AABB:CCDD::/48`). Such addresses are classed by that IPv4 address, or
/// `[::127.0.0.1]` and `[64:ff9b::7f00:1]` would pass as public.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if ip.is_loopback() || ip.is_unspecified() {
        // `::1` and `::` are IPv6's own loopback and unspecified addresses.
        return None;
    }
    let s = ip.segments();
    let low = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s {
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() || ip.is_link_local() || (a == 100 && (64..128).contains(&b)) {
        // 100.64.0.0/10 is carrier-grade NAT space: internal in practice.
        AddressClass::Private
    } else if ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
    {
        AddressClass::Special
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 {
        // fc00::/7 unique local, fe80::/10 link-local.
        AddressClass::Private
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || first == 0x2001 && ip.segments()[1] == 0xdb8
        // 64:ff9b:1::/48 is local-use NAT64 (RFC 8215): it reaches an operator's own IPv4 space.
        || (first == 0x64 && ip.segments()[1] == 0xff9b)
    {
        AddressClass::Special
    } else {
        AddressClass::Public
    }
}

/// A DNS resolver for reqwest that refuses names resolving to disallowed addresses, so the check
/// and the connection use the same answer (no window for DNS rebinding).
pub(crate) struct PolicyResolver(pub Arc<OutboundPolicy>);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl PolicyResolver {
    /// The allowed addresses of `host`, in the shape both reqwest versions' resolvers want.
    fn checked(
        &self,
        host: &str,
    ) -> impl std::future::Future<
        Output = Result<Box<dyn Iterator<Item = SocketAddr> + Send>, BoxError>,
    > + Send
           + 'static {
        let policy = self.0.clone();
        let host = host.to_owned();
        async move {
            let addrs = policy.resolve(&host, 0).await.map_err(BoxError::from)?;
            Ok(Box::new(addrs.into_iter()) as Box<dyn Iterator<Item = SocketAddr> + Send>)
        }
    }
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(self.checked(name.as_str()))
    }
}

/// The same resolver for the reqwest version inside rmcp's HTTP transport.
#[cfg(feature = "mcp")]
impl reqwest_mcp::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest_mcp::dns::Name) -> reqwest_mcp::dns::Resolving {
        Box::pin(self.checked(name.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn default_policy_refuses_internal_targets() {
        let policy = OutboundPolicy::default();
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
            // IPv6 forms that carry an internal IPv4 address.
            "::127.0.0.1",
            "::ffff:169.254.169.254",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::a00:1",
            "2002:7f00:1::",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(
                policy.check_ip(ip(refused)).is_err(),
                "{refused} must be refused"
            );
        }
        for allowed in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(
                policy.check_ip(ip(allowed)).is_ok(),
                "{allowed} must be allowed"
            );
        }
    }

    #[test]
    fn loopback_can_be_allowed_without_opening_private_ranges() {
        let policy = OutboundPolicy {
            allow_loopback: true,
            ..Default::default()
        };
        assert!(policy.check_ip(ip("127.0.0.1")).is_ok());
        assert!(policy.check_ip(ip("::1")).is_ok());
        assert!(policy.check_ip(ip("64:ff9b::7f00:1")).is_ok());
        assert!(policy.check_ip(ip("10.0.0.1")).is_err());
        assert!(policy.check_ip(ip("::10.0.0.1")).is_err());
        assert!(policy.check_ip(ip("169.254.169.254")).is_err());
    }

    #[tokio::test]
    async fn literal_hosts_are_checked_and_allow_list_wins() {
        let policy = OutboundPolicy {
            allowed_hosts: vec!["10.0.0.5".into()],
            ..Default::default()
        };
        assert!(policy.resolve("10.0.0.5", 80).await.is_ok());
        assert!(policy.resolve("10.0.0.6", 80).await.is_err());
        assert!(policy.resolve("localhost", 80).await.is_err());
        assert!(policy.resolve("[::127.0.0.1]", 80).await.is_err());
        assert!(policy.resolve("[64:ff9b::7f00:1]", 80).await.is_err());
    }
}
