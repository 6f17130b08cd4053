//! Are the device and the approving browser near each other? The cross-device security BCP
//! (RFC 10027 / BCP 247, formerly draft-ietf-oauth-cross-device-security) asks an authorization
//! server to assess the risk of a cross-device approval and SHOULD check the proximity of the
//! two devices. Device-code phishing is exactly a far-away approval: the attacker starts the
//! flow on their own machine and sends the code to the victim.
//!
//! The test here is the network: the same address, or the same IPv4 /24 or IPv6 /48 (both
//! configurable), counts as near. Anything else — including an address missing on either side,
//! or the two in different families — counts as remote (fail closed). IPv4-mapped IPv6
//! addresses (`::ffff:198.51.100.7`) are read as the IPv4 address they carry.
//!
//! What a remote approval then needs is the app client's [`RemoteApproval`] policy.

use std::net::IpAddr;

/// The prefix lengths under which two addresses count as one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkPrefixes {
    pub v4: u8,
    pub v6: u8,
}

impl Default for NetworkPrefixes {
    /// IPv4 /24, IPv6 /48: a home or office network, a cloud subnet, one site's allocation.
    fn default() -> Self {
        Self { v4: 24, v6: 48 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proximity {
    /// The same address or network: the page as usual.
    SameNetwork,
    /// Different networks, different families, or an address unknown on either side.
    Remote,
}

/// What an approval from another network than the device's gets, per app client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RemoteApproval {
    /// As if near: no warning, no confirmation.
    Allow,
    /// The page names both addresses and warns; Approve needs an explicit, server-checked
    /// confirmation that the person controls the remote machine.
    #[default]
    Confirm,
    /// Refused, with a page that says why.
    Deny,
}

impl RemoteApproval {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "allow" => Some(Self::Allow),
            "confirm" => Some(Self::Confirm),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Confirm => "confirm",
            Self::Deny => "deny",
        }
    }
}

/// Whether `device` and `browser` (addresses as the gateway saw them) are on one network.
pub fn proximity(
    device: Option<&str>,
    browser: Option<&str>,
    prefixes: NetworkPrefixes,
) -> Proximity {
    let (Some(device), Some(browser)) = (parse(device), parse(browser)) else {
        return Proximity::Remote;
    };
    let near = match (device, browser) {
        (IpAddr::V4(a), IpAddr::V4(b)) => same_prefix(&a.octets(), &b.octets(), prefixes.v4),
        (IpAddr::V6(a), IpAddr::V6(b)) => same_prefix(&a.octets(), &b.octets(), prefixes.v6),
        _ => false,
    };
    if near {
        Proximity::SameNetwork
    } else {
        Proximity::Remote
    }
}

fn parse(raw: Option<&str>) -> Option<IpAddr> {
    let ip: IpAddr = raw?.trim().parse().ok()?;
    Some(match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    })
}

/// The first `bits` bits of `a` and `b` are equal (`bits` past the length compares them all).
fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits).min(a.len() * 8);
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    a[whole] & mask == b[whole] & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use Proximity::*;

    fn near(a: &str, b: &str) -> Proximity {
        proximity(Some(a), Some(b), NetworkPrefixes::default())
    }

    #[test]
    fn the_same_address_or_network_is_near_anything_else_remote() {
        assert_eq!(near("198.51.100.7", "198.51.100.7"), SameNetwork);
        assert_eq!(near("198.51.100.7", "198.51.100.250"), SameNetwork, "/24");
        assert_eq!(near("198.51.100.7", "198.51.101.7"), Remote);
        assert_eq!(near("198.51.100.7", "203.0.113.9"), Remote);
        assert_eq!(
            near("2001:db8:1:2::1", "2001:db8:1:ffff::9"),
            SameNetwork,
            "/48"
        );
        assert_eq!(near("2001:db8:1::1", "2001:db8:2::1"), Remote);
        assert_eq!(
            near("::ffff:198.51.100.7", "198.51.100.9"),
            SameNetwork,
            "mapped"
        );
        assert_eq!(
            near("198.51.100.7", "2001:db8::1"),
            Remote,
            "families differ"
        );
    }

    #[test]
    fn a_missing_or_unreadable_address_is_remote() {
        let p = NetworkPrefixes::default();
        assert_eq!(proximity(None, Some("198.51.100.7"), p), Remote);
        assert_eq!(proximity(Some("198.51.100.7"), None, p), Remote);
        assert_eq!(proximity(None, None, p), Remote);
        assert_eq!(proximity(Some("unknown"), Some("unknown"), p), Remote);
    }

    #[test]
    fn prefixes_are_configurable_to_the_bit() {
        let exact = NetworkPrefixes { v4: 32, v6: 128 };
        assert_eq!(
            proximity(Some("198.51.100.7"), Some("198.51.100.8"), exact),
            Remote
        );
        assert_eq!(
            proximity(Some("2001:db8::1"), Some("2001:db8::1"), exact),
            SameNetwork
        );
        let wide = NetworkPrefixes { v4: 20, v6: 32 };
        assert_eq!(
            proximity(Some("198.51.96.1"), Some("198.51.111.1"), wide),
            SameNetwork
        );
        assert_eq!(
            proximity(Some("198.51.96.1"), Some("198.51.112.1"), wide),
            Remote
        );
        let everything = NetworkPrefixes { v4: 0, v6: 0 };
        assert_eq!(
            proximity(Some("10.0.0.1"), Some("203.0.113.1"), everything),
            SameNetwork
        );
    }

    #[test]
    fn policies_parse_by_name() {
        for p in [
            RemoteApproval::Allow,
            RemoteApproval::Confirm,
            RemoteApproval::Deny,
        ] {
            assert_eq!(RemoteApproval::parse(p.as_str()), Some(p));
        }
        assert_eq!(RemoteApproval::parse("Deny"), None);
        assert_eq!(RemoteApproval::default(), RemoteApproval::Confirm);
    }
}
