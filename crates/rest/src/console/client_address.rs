//! Which address a console request comes from, for throttling its sign-ins.
//!
//! By default the TCP peer's: `X-Forwarded-For` is sent by anyone, so it is believed only when
//! the peer is one of the reverse proxies named in `ANTAEUS_TRUSTED_PROXIES`. Then the client
//! is the right-most address of the header that is not a trusted proxy (each proxy appends the
//! address it saw, so entries left of that one may be forged). A missing or malformed header
//! leaves the peer's address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use actix_web::HttpRequest;

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses or CIDR blocks. `Debug`
/// lists them as configured (`[10.0.0.0/8, 192.0.2.5]`, `[none]`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Block>);

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("[none]");
        }
        let blocks: Vec<String> = self
            .0
            .iter()
            .map(|b| {
                if b.prefix == bits(b.addr) {
                    b.addr.to_string()
                } else {
                    format!("{}/{}", b.addr, b.prefix)
                }
            })
            .collect();
        write!(f, "[{}]", blocks.join(", "))
    }
}

/// An address block: `addr/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Block {
    addr: IpAddr,
    prefix: u32,
}

/// Why a list of trusted proxies is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not an IP address or CIDR block (e.g. 10.0.0.7, 10.0.0.0/8, fd00::/8); separate entries with commas"
)]
pub struct NotAProxy(pub String);

impl TrustedProxies {
    /// Parses comma-separated addresses and CIDR blocks (spaces around entries allowed).
    pub fn parse(list: &str) -> Result<Self, NotAProxy> {
        list.split(',')
            .map(|entry| Block::parse(entry.trim()).ok_or_else(|| NotAProxy(entry.trim().into())))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether no proxy is trusted (the default).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(ip))
    }
}

impl Block {
    fn parse(entry: &str) -> Option<Self> {
        let (addr, prefix) = match entry.split_once('/') {
            Some((addr, prefix)) => (addr.parse().ok()?, Some(prefix.parse().ok()?)),
            None => (entry.parse().ok()?, None),
        };
        let bits = bits(addr);
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let (a, b) = match (self.addr, canonical(ip)) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                (u128::from(a.to_bits()) << 96, u128::from(b.to_bits()) << 96)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits()),
            _ => return false,
        };
        let mask = u128::MAX.checked_shl(128 - self.prefix).unwrap_or(0);
        a & mask == b & mask
    }
}

/// 32 for IPv4, 128 for IPv6.
fn bits(addr: IpAddr) -> u32 {
    if addr.is_ipv4() { 32 } else { 128 }
}

/// An IPv4 address mapped into IPv6 as the IPv4 address it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The address `req` comes from, believing `X-Forwarded-For` only from `trusted` proxies.
pub fn client_address(req: &HttpRequest, trusted: &TrustedProxies) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |peer| {
            canonical(peer.ip())
        });
    if trusted.is_empty() || !trusted.contains(peer) {
        return peer;
    }
    // From the right: each trusted proxy appended the address it saw. The first entry that is
    // not a trusted proxy is the client; entries left of it are the client's to invent, so an
    // entry that does not parse ends the walk only where it stands, never the whole header.
    let entries: Vec<String> = req
        .headers()
        .get_all("x-forwarded-for")
        .flat_map(|value| {
            value
                .to_str()
                .unwrap_or("?")
                .split(',')
                .map(|entry| entry.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    for entry in entries.iter().rev() {
        match entry.parse::<IpAddr>().map(canonical) {
            Ok(ip) if trusted.contains(ip) => continue,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use actix_web::test::TestRequest;

    use super::*;

    fn from(peer: &str, forwarded: &[&str], trusted: &str) -> String {
        let mut req = TestRequest::get().peer_addr(peer.parse::<SocketAddr>().unwrap());
        for value in forwarded {
            req = req.append_header(("x-forwarded-for", *value));
        }
        let trusted = if trusted.is_empty() {
            TrustedProxies::default()
        } else {
            TrustedProxies::parse(trusted).unwrap()
        };
        client_address(&req.to_http_request(), &trusted).to_string()
    }

    #[test]
    fn by_default_the_header_is_ignored_and_the_peer_counts() {
        assert_eq!(from("10.0.0.7:5000", &["198.51.100.1"], ""), "10.0.0.7");
    }

    #[test]
    fn from_a_trusted_proxy_the_right_most_untrusted_entry_counts() {
        let trusted = "10.0.0.0/8, 192.0.2.5";
        assert_eq!(
            from("10.0.0.7:5000", &["198.51.100.1"], trusted),
            "198.51.100.1"
        );
        assert_eq!(
            from(
                "10.0.0.7:5000",
                &["6.6.6.6, 198.51.100.1, 192.0.2.5"],
                trusted
            ),
            "198.51.100.1",
            "a forged left-most entry is not believed"
        );
        assert_eq!(
            from("10.0.0.7:5000", &["6.6.6.6", "198.51.100.1"], trusted),
            "198.51.100.1",
            "several header lines read as one list"
        );
        assert_eq!(from("10.0.0.7:5000", &[], trusted), "10.0.0.7");
        assert_eq!(from("10.0.0.7:5000", &["not-an-ip"], trusted), "10.0.0.7");
        // What a client invents left of the address its proxy appended never hides that address
        // (else one bad entry would count every client as the proxy, and lock them all out).
        assert_eq!(
            from("10.0.0.7:5000", &["unknown, 198.51.100.1"], trusted),
            "198.51.100.1"
        );
        assert_eq!(
            from("10.0.0.7:5000", &["1.2.3.4:5678", "198.51.100.1"], trusted),
            "198.51.100.1"
        );
        assert_eq!(from("10.0.0.7:5000", &["10.1.1.1"], trusted), "10.0.0.7");
        assert_eq!(
            from("203.0.113.9:5000", &["198.51.100.1"], trusted),
            "203.0.113.9",
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            from("[::ffff:10.0.0.7]:5000", &["2001:db8::1"], trusted),
            "2001:db8::1"
        );
    }

    #[test]
    fn entries_are_addresses_or_cidr_blocks() {
        let parsed = TrustedProxies::parse("10.0.0.1, fd00::/8,0.0.0.0/0").unwrap();
        assert_eq!(format!("{parsed:?}"), "[10.0.0.1, fd00::/8, 0.0.0.0/0]");
        assert_eq!(format!("{:?}", TrustedProxies::default()), "[none]");
        for bad in [
            "",
            "10.0.0.1,",
            "proxy.internal",
            "10.0.0.0/33",
            "fd00::/129",
            "10.0.0.0/x",
        ] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad:?}");
        }
    }
}
