//! Guardrails on automated blocking: what a playbook may never block (the organisation's own
//! networks and domains from the asset inventory, its resolvers, configured ranges), how wide a
//! CIDR may be, and how many values a playbook may block per hour.

use std::net::IpAddr;

use ipnet::IpNet;
use rampart_model::{Indicator, IndicatorKind};
use serde::Deserialize;

/// The guardrails as configured (`[respond.guardrails]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuardrailSettings {
    /// Networks never blocked (resolvers, gateways, partners), besides the inventory's.
    #[serde(default)]
    pub never_block_networks: Vec<IpNet>,
    /// Domains never blocked, with their subdomains, besides the inventory's.
    #[serde(default)]
    pub never_block_domains: Vec<String>,
    /// Refuse IPv4 CIDRs wider than this prefix length (a /16 holds 65,536 addresses).
    #[serde(default = "default_ipv4_prefix")]
    pub min_ipv4_prefix: u8,
    /// Refuse IPv6 CIDRs wider than this prefix length.
    #[serde(default = "default_ipv6_prefix")]
    pub min_ipv6_prefix: u8,
    /// The most values all playbooks together may block per hour.
    #[serde(default = "default_blocks_per_hour")]
    pub max_blocks_per_hour: u32,
}

fn default_ipv4_prefix() -> u8 {
    24
}

fn default_ipv6_prefix() -> u8 {
    48
}

fn default_blocks_per_hour() -> u32 {
    1000
}

impl Default for GuardrailSettings {
    fn default() -> GuardrailSettings {
        GuardrailSettings {
            never_block_networks: Vec::new(),
            never_block_domains: Vec::new(),
            min_ipv4_prefix: default_ipv4_prefix(),
            min_ipv6_prefix: default_ipv6_prefix(),
            max_blocks_per_hour: default_blocks_per_hour(),
        }
    }
}

/// The guardrails in force: settings plus the protected values of the asset inventory.
#[derive(Debug, Clone, Default)]
pub struct Guardrails {
    settings: GuardrailSettings,
    networks: Vec<(IpNet, String)>,
    domains: Vec<(String, String)>,
}

impl Guardrails {
    pub fn new(settings: GuardrailSettings) -> Guardrails {
        let mut guardrails = Guardrails {
            networks: Vec::new(),
            domains: Vec::new(),
            settings: GuardrailSettings::default(),
        };
        for network in &settings.never_block_networks {
            guardrails
                .networks
                .push((*network, "a never-block network".to_owned()));
        }
        for domain in &settings.never_block_domains {
            guardrails
                .domains
                .push((normalise_domain(domain), "a never-block domain".to_owned()));
        }
        guardrails.settings = settings;
        guardrails
    }

    /// Protects an asset's networks (addresses or CIDRs), hostnames and domains.
    pub fn protect_asset(&mut self, asset: &str, networks: &[String], names: &[String]) {
        for network in networks {
            let parsed = network
                .parse::<IpNet>()
                .or_else(|_| network.parse::<IpAddr>().map(IpNet::from));
            if let Ok(network) = parsed {
                self.networks.push((network, format!("asset {asset}")));
            }
        }
        for name in names {
            self.domains
                .push((normalise_domain(name), format!("asset {asset}")));
        }
    }

    pub fn settings(&self) -> &GuardrailSettings {
        &self.settings
    }

    /// Why `indicator` must not be blocked, or `None` when it may be.
    pub fn refusal(&self, indicator: &Indicator) -> Option<String> {
        match indicator.kind() {
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => {
                let address: IpAddr = indicator.value().parse().ok()?;
                self.network_refusal(IpNet::from(address))
            }
            IndicatorKind::Cidr => {
                let network: IpNet = indicator.value().parse().ok()?;
                let (limit, family) = match network {
                    IpNet::V4(_) => (self.settings.min_ipv4_prefix, "IPv4"),
                    IpNet::V6(_) => (self.settings.min_ipv6_prefix, "IPv6"),
                };
                if network.prefix_len() < limit {
                    return Some(format!(
                        "{network} is wider than the widest {family} block allowed (/{limit})"
                    ));
                }
                self.network_refusal(network)
            }
            IndicatorKind::Domain | IndicatorKind::Url | IndicatorKind::Email => {
                let host = indicator.host()?;
                if let Ok(address) = host.parse::<IpAddr>() {
                    return self.network_refusal(IpNet::from(address));
                }
                self.domain_refusal(&normalise_domain(host))
            }
            _ => None,
        }
    }

    fn network_refusal(&self, candidate: IpNet) -> Option<String> {
        self.networks.iter().find_map(|(protected, why)| {
            let overlaps = protected.contains(&candidate.network())
                || candidate.contains(&protected.network());
            overlaps.then(|| format!("{candidate} overlaps {protected}, {why}"))
        })
    }

    /// A domain is refused when it is a protected domain, lies under one, or holds one
    /// (blocking `example.com` would take `mail.example.com` with it).
    fn domain_refusal(&self, candidate: &str) -> Option<String> {
        self.domains.iter().find_map(|(protected, why)| {
            let related = candidate == protected
                || is_subdomain(candidate, protected)
                || is_subdomain(protected, candidate);
            related.then(|| format!("{candidate} covers or is covered by {protected}, {why}"))
        })
    }
}

fn normalise_domain(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn is_subdomain(name: &str, parent: &str) -> bool {
    name.len() > parent.len()
        && name.ends_with(parent)
        && name.as_bytes()[name.len() - parent.len() - 1] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guardrails() -> Guardrails {
        let mut guardrails = Guardrails::new(GuardrailSettings {
            never_block_networks: vec!["9.9.9.9/32".parse().unwrap()],
            never_block_domains: vec!["Resolver.Example.".into()],
            ..GuardrailSettings::default()
        });
        guardrails.protect_asset(
            "mail gateway",
            &["198.51.100.0/28".into(), "2001:db8::25".into()],
            &["corp.example".into()],
        );
        guardrails
    }

    fn refused(kind: IndicatorKind, value: &str) -> bool {
        let indicator = Indicator::parse(kind, value).unwrap();
        guardrails().refusal(&indicator).is_some()
    }

    #[test]
    fn own_assets_resolvers_and_wide_networks_are_refused() {
        use IndicatorKind::*;
        let cases = [
            (Ipv4, "198.51.100.7", true),
            (Ipv4, "198.51.100.17", false),
            (Ipv4, "9.9.9.9", true),
            (Ipv6, "2001:db8::25", true),
            (Cidr, "198.51.100.0/24", true),
            (Cidr, "203.0.113.0/24", false),
            (Cidr, "10.0.0.0/8", true),
            (Cidr, "2001:db8:ffff::/32", true),
            (Domain, "corp.example", true),
            (Domain, "vpn.corp.example", true),
            (Domain, "example", true),
            (Domain, "notcorp.example", false),
            (Domain, "resolver.example", true),
            (Url, "https://login.corp.example/reset", true),
            (Url, "http://198.51.100.3/x", true),
            (Url, "https://corp-example.evil.test/", false),
            (Email, "ceo@corp.example", true),
            (Sha256, &"a".repeat(64), false),
        ];
        for (kind, value, expected) in cases {
            assert_eq!(refused(kind, value), expected, "{kind:?} {value}");
        }
    }
}
