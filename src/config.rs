//! The configuration file (TOML). Unknown keys and bad values are errors
//! that name the key.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use crate::answer::cookie::{CookiePolicy, CookieSecret};
use crate::rrl::RrlConfig;
use crate::tsig::{Algorithm, TsigKey};
use crate::wire::Name;
use crate::wire::name::parse_name_text;
use crate::xfr::TransferSettings;
use crate::xfr::catalog::{CatalogConfig, MemberTemplate};
use crate::xfr::notify_out::NotifyTargets;
use crate::xfr::secondary::SecondaryZone;
use crate::xfr::stream::Limits;
use crate::xfr::timers::TimerPolicy;
use crate::zone::transfer_acl::TransferAcl;
use crate::zone::zonemd::ZonemdPolicy;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub server: ServerSection,
    #[serde(default, rename = "zone")]
    pub zones: Vec<ZoneSection>,
    #[serde(default, rename = "key")]
    pub keys: Vec<KeySection>,
    #[serde(default)]
    pub transfer: TransferSection,
    #[serde(default, rename = "catalog")]
    pub catalogs: Vec<CatalogSection>,
    #[serde(default, rename = "template")]
    pub templates: Vec<TemplateSection>,
    #[serde(default)]
    pub cookies: CookiesSection,
    #[serde(default)]
    pub rrl: RrlSection,
}

/// `[rrl]`: response rate limiting (the BIND and NSD model).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RrlSection {
    /// Off by default.
    #[serde(default)]
    pub enabled: bool,
    /// Answers per second to one client prefix for one kind of answer.
    #[serde(default = "default_rrl_rate")]
    pub responses_per_second: u32,
    /// Every `slip`th limited answer goes out empty with TC set (the
    /// client retries over TCP); the others are dropped. 0: all dropped.
    #[serde(default = "default_rrl_slip")]
    pub slip: u32,
    #[serde(default = "default_rrl_ipv4_prefix")]
    pub ipv4_prefix: u8,
    #[serde(default = "default_rrl_ipv6_prefix")]
    pub ipv6_prefix: u8,
    /// Buckets (a power of two, 1024 to 2^26); 8 octets each.
    #[serde(default = "default_rrl_table_size")]
    pub table_size: usize,
    /// Count and log what would be limited, limit nothing.
    #[serde(default)]
    pub log_only: bool,
}

fn default_rrl_rate() -> u32 {
    RrlConfig::default().responses_per_second
}
fn default_rrl_slip() -> u32 {
    RrlConfig::default().slip
}
fn default_rrl_ipv4_prefix() -> u8 {
    RrlConfig::default().ipv4_prefix
}
fn default_rrl_ipv6_prefix() -> u8 {
    RrlConfig::default().ipv6_prefix
}
fn default_rrl_table_size() -> usize {
    RrlConfig::default().table_size
}

impl Default for RrlSection {
    fn default() -> Self {
        let d = RrlConfig::default();
        RrlSection {
            enabled: false,
            responses_per_second: d.responses_per_second,
            slip: d.slip,
            ipv4_prefix: d.ipv4_prefix,
            ipv6_prefix: d.ipv6_prefix,
            table_size: d.table_size,
            log_only: false,
        }
    }
}

/// The limiter's settings of `[rrl]`, checked.
fn rrl_config(r: &RrlSection) -> Result<Option<RrlConfig>, String> {
    if !r.enabled {
        return Ok(None);
    }
    if r.responses_per_second == 0 || r.responses_per_second > 1_000_000 {
        return Err(format!(
            "rrl.responses_per_second: {} is not between 1 and 1000000",
            r.responses_per_second
        ));
    }
    if r.ipv4_prefix > 32 || r.ipv6_prefix > 128 {
        return Err("rrl.ipv4_prefix is at most 32, rrl.ipv6_prefix at most 128".into());
    }
    if !r.table_size.is_power_of_two() || !(1 << 10..=1 << 26).contains(&r.table_size) {
        return Err(format!(
            "rrl.table_size: {} is not a power of two from 1024 to 67108864",
            r.table_size
        ));
    }
    Ok(Some(RrlConfig {
        responses_per_second: r.responses_per_second,
        slip: r.slip,
        ipv4_prefix: r.ipv4_prefix,
        ipv6_prefix: r.ipv6_prefix,
        table_size: r.table_size,
        log_only: r.log_only,
    }))
}

/// `[cookies]`: DNS cookies (RFC 7873, server cookies as RFC 9018).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CookiesSection {
    /// Answer client cookies with server cookies.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// 32 hexadecimal digits, the same on every anycast node (a client
    /// may reach any of them); a random one per start when absent.
    pub secret: Option<String>,
    /// The secret before a rotation: accepted, never issued.
    pub previous_secret: Option<String>,
    /// BADCOOKIE over UDP for a client cookie without a valid server
    /// cookie (RFC 7873 §5.2.3); otherwise such queries are answered.
    #[serde(default)]
    pub badcookie: bool,
}

fn default_true() -> bool {
    true
}

impl Default for CookiesSection {
    fn default() -> Self {
        CookiesSection {
            enabled: true,
            secret: None,
            previous_secret: None,
            badcookie: false,
        }
    }
}

/// The secrets never appear in debug output (nor in logs).
impl std::fmt::Debug for CookiesSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookiesSection")
            .field("enabled", &self.enabled)
            .field("secret", &self.secret.as_ref().map(|_| ".."))
            .field(
                "previous_secret",
                &self.previous_secret.as_ref().map(|_| ".."),
            )
            .field("badcookie", &self.badcookie)
            .finish()
    }
}

/// The cookie policy of `[cookies]`.
fn cookie_policy(c: &CookiesSection) -> Result<Option<CookiePolicy>, String> {
    if !c.enabled {
        return Ok(None);
    }
    let parse = |key: &str, v: &str| {
        CookieSecret::from_hex(v)
            .ok_or_else(|| format!("cookies.{key}: not 32 hexadecimal digits (16 octets)"))
    };
    let secret = match &c.secret {
        Some(s) => parse("secret", s)?,
        None => random_secret()
            .map_err(|e| format!("cookies: no secret given, and none can be drawn: {e}"))?,
    };
    let previous = match &c.previous_secret {
        Some(s) => Some(parse("previous_secret", s)?),
        None => None,
    };
    Ok(Some(CookiePolicy {
        secret,
        previous,
        badcookie: c.badcookie,
    }))
}

fn random_secret() -> std::io::Result<CookieSecret> {
    use std::io::Read;
    let mut key = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    Ok(CookieSecret::new(key))
}

/// `[[catalog]]`: a catalog zone (RFC 9432) whose members this node
/// serves as secondary zones.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSection {
    pub name: String,
    /// Where the catalog's own copy is kept.
    pub file: PathBuf,
    pub primaries: Vec<String>,
    pub tsig_key: Option<String>,
    pub transfer_source: Option<String>,
    /// `[[template]]` names for the members: the first is the default,
    /// a member's `group` property picks another by name. None: members
    /// come from the catalog's primaries, with its key, and their copies
    /// go in a directory named `members` beside the catalog's file.
    #[serde(default)]
    pub templates: Vec<String>,
}

/// `[[template]]`: how member zones of a catalog are made.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSection {
    pub name: String,
    /// Where members' copies are kept, one file per zone.
    pub directory: PathBuf,
    /// The catalog's own primaries (and key, and source) when left out.
    pub primaries: Option<Vec<String>>,
    pub tsig_key: Option<String>,
    pub transfer_source: Option<String>,
    /// The members' ZONEMD policy ("off", "verify", "require").
    pub zonemd: Option<String>,
}

/// `[[key]]`: a TSIG key (RFC 8945).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySection {
    pub name: String,
    pub algorithm: String,
    /// Base64.
    pub secret: String,
}

/// `[transfer]`: how secondary zones are kept in sync.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TransferSection {
    /// Transfers running at once, in all.
    pub max_concurrent: usize,
    /// Transfers running at once from one primary.
    pub max_per_primary: usize,
    /// Refreshes of zones with a copy (SOA queries) started per second.
    pub soa_query_rate: u32,
    pub refresh_min_s: u32,
    pub refresh_max_s: u32,
    pub retry_min_s: u32,
    pub retry_max_s: u32,
    pub expire_min_s: u32,
    pub expire_max_s: u32,
    /// Up to this fraction of REFRESH early, fixed per zone (0 to 0.5).
    pub refresh_jitter: f64,
    /// At most one NOTIFY-triggered refresh per zone this often.
    pub notify_min_interval_ms: u64,
    /// Largest zone accepted by a transfer, in records.
    pub max_records: usize,
    /// Largest transfer, in octets of messages.
    pub max_bytes: usize,
    /// Most messages in one transfer.
    pub max_messages: usize,
    /// Longest one refresh (SOA check and transfer) may take.
    pub max_duration_s: u64,
    pub connect_timeout_ms: u64,
    /// Longest time one whole message from a primary may take, from the
    /// end of the one before (not per read: an octet at a time does not
    /// keep a transfer alive).
    pub io_timeout_ms: u64,
    /// Most NSEC3 iterations a transferred zone may name (RFC 9276).
    pub nsec3_max_iterations: u16,
    /// Changes applied by IXFR that each zone keeps for IXFR out, at most
    /// (Knot's `journal-max-depth`); 0 keeps none.
    pub journal_max_depth: usize,
    /// Octets of those changes each zone keeps, at most (Knot's
    /// `journal-max-usage`, NSD's `ixfr-size`).
    pub journal_max_usage: usize,
    /// A connection to a primary is kept open this long after a refresh,
    /// for the next zone's (as Knot's `remote-pool-timeout`); 0: a new
    /// connection per refresh.
    pub connection_keep_ms: u64,
}

impl Default for TransferSection {
    fn default() -> Self {
        let p = TimerPolicy::default();
        TransferSection {
            max_concurrent: 8,
            max_per_primary: 2,
            soa_query_rate: 100,
            refresh_min_s: p.refresh_min_s,
            refresh_max_s: p.refresh_max_s,
            retry_min_s: p.retry_min_s,
            retry_max_s: p.retry_max_s,
            expire_min_s: p.expire_min_s,
            expire_max_s: p.expire_max_s,
            refresh_jitter: p.jitter,
            notify_min_interval_ms: p.notify_min_interval_ms,
            max_records: 10_000_000,
            max_bytes: 2 << 30,
            max_messages: 1_000_000,
            max_duration_s: 900,
            connect_timeout_ms: 3_000,
            io_timeout_ms: 5_000,
            nsec3_max_iterations: 150,
            journal_max_depth: 20,
            journal_max_usage: 1 << 20,
            connection_keep_ms: 2_000,
        }
    }
}

fn default_listen() -> Vec<String> {
    vec!["127.0.0.1:53".into(), "[::1]:53".into()]
}
fn default_version() -> String {
    "zonecast".into()
}
fn default_udp_payload() -> u16 {
    1232
}
fn default_tcp_max_connections() -> usize {
    512
}
fn default_tcp_max_connections_total() -> usize {
    4096
}
fn default_transfers_out() -> usize {
    64
}
fn default_transfers_out_per_client() -> usize {
    16
}
fn default_tcp_idle_timeout_ms() -> u64 {
    10_000
}
fn default_tcp_io_timeout_ms() -> u64 {
    2_000
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Addresses to serve on, UDP and TCP on each.
    #[serde(default = "default_listen")]
    pub listen: Vec<String>,
    /// Worker threads; 0 means one per available core.
    #[serde(default)]
    pub workers: usize,
    /// Answered to `id.server`, `hostname.bind` and NSID; the host name by
    /// default.
    pub identity: Option<String>,
    /// Answered to `version.bind`; "" refuses it.
    #[serde(default = "default_version")]
    pub version: String,
    /// Largest UDP response (and the EDNS payload size advertised).
    #[serde(default = "default_udp_payload")]
    pub udp_payload: u16,
    /// Open TCP connections per worker; more are closed at once.
    #[serde(default = "default_tcp_max_connections")]
    pub tcp_max_connections: usize,
    /// Open TCP connections over all workers; more are closed at once.
    #[serde(default = "default_tcp_max_connections_total")]
    pub tcp_max_connections_total: usize,
    /// A TCP connection with nothing to do is closed after this long.
    #[serde(default = "default_tcp_idle_timeout_ms")]
    pub tcp_idle_timeout_ms: u64,
    /// A query started on TCP must arrive whole, and a reply must be taken
    /// whole, within this long (a slow sender cannot hold a slot).
    #[serde(default = "default_tcp_io_timeout_ms")]
    pub tcp_io_timeout_ms: u64,
    /// Outbound transfers running at once over all workers (BIND's
    /// `transfers-out`), and to one client; more get REFUSED.
    #[serde(default = "default_transfers_out")]
    pub transfers_out: usize,
    #[serde(default = "default_transfers_out_per_client")]
    pub transfers_out_per_client: usize,
    /// Local address for SOA queries and transfers of every secondary
    /// zone, unless the zone sets its own.
    pub transfer_source: Option<String>,
    /// Started as root, zonecast becomes this user once its ports are
    /// bound.
    pub user: Option<String>,
    /// The control socket of `zonecast ctl` (relative to this file).
    pub control: Option<PathBuf>,
    /// Its permissions (owned by `user` when set).
    #[serde(default = "default_control_mode")]
    pub control_mode: u32,
    /// `zonecast ctl health` fails for a secondary zone not refreshed
    /// for longer than this.
    pub health_max_stale_s: Option<u64>,
    /// The share of zones (0 to 1) that may be bad (not loaded, expired,
    /// stale) while the node stays healthy; 0: not one.
    #[serde(default)]
    pub health_max_bad_share: f64,
    /// Prometheus metrics (`GET /metrics`) and `GET /health` on this
    /// address; none when absent.
    pub metrics: Option<String>,
    /// Per-zone series are written while the zones number at most this
    /// (a scrape of 100,000 zones is megabytes); raise it to opt in.
    #[serde(default = "default_metrics_zone_series_max")]
    pub metrics_zone_series_max: usize,
    /// Interfaces whose UDP to the listen port is answered over AF_XDP
    /// (one worker per receive queue); the kernel keeps the rest.
    #[serde(default)]
    pub xdp: Vec<String>,
}

fn default_metrics_zone_series_max() -> usize {
    1000
}

fn default_control_mode() -> u32 {
    0o600
}

impl Default for ServerSection {
    fn default() -> Self {
        ServerSection {
            listen: default_listen(),
            workers: 0,
            identity: None,
            version: default_version(),
            udp_payload: default_udp_payload(),
            tcp_max_connections: default_tcp_max_connections(),
            tcp_max_connections_total: default_tcp_max_connections_total(),
            tcp_idle_timeout_ms: default_tcp_idle_timeout_ms(),
            tcp_io_timeout_ms: default_tcp_io_timeout_ms(),
            transfers_out: default_transfers_out(),
            transfers_out_per_client: default_transfers_out_per_client(),
            transfer_source: None,
            user: None,
            control: None,
            control_mode: default_control_mode(),
            health_max_stale_s: None,
            health_max_bad_share: 0.0,
            metrics: None,
            metrics_zone_series_max: default_metrics_zone_series_max(),
            xdp: Vec::new(),
        }
    }
}

/// `[[zone]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSection {
    pub name: String,
    pub file: PathBuf,
    /// Present: a secondary zone, copied from these primaries (tried in
    /// order); `host:port` or `host` (port 53).
    pub primaries: Option<Vec<String>>,
    /// A `[[key]]` name: transfers and NOTIFY must be signed with it.
    pub tsig_key: Option<String>,
    /// Local address for this zone's SOA queries and transfers.
    pub transfer_source: Option<String>,
    /// Who may transfer the zone from this server: addresses or
    /// prefixes (RFC 5936 §5); nobody when absent.
    pub allow_transfer: Option<Vec<String>>,
    /// A `[[key]]` name: requests to transfer the zone from this server
    /// must be signed with it (and come from `allow_transfer`).
    pub transfer_key: Option<String>,
    /// Secondaries told of each new version by NOTIFY (RFC 1996):
    /// `host:port` or `host` (port 53). Explicit: on anycast the NS names
    /// resolve to the anycast address.
    pub notify: Option<Vec<String>>,
    /// A secondary zone's ZONEMD (RFC 8976): "off", "verify" (when the
    /// version has one; the default) or "require".
    pub zonemd: Option<String>,
}

/// The configuration, checked and with paths resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: Vec<SocketAddr>,
    pub workers: usize,
    pub identity: String,
    pub version: String,
    pub udp_payload: u16,
    pub tcp_max_connections: usize,
    pub tcp_max_connections_total: usize,
    pub transfers_out: usize,
    pub transfers_out_per_client: usize,
    /// Whom to become once the ports are bound.
    pub user: Option<String>,
    /// The control socket, and its permissions.
    pub control: Option<PathBuf>,
    pub control_mode: u32,
    pub health_max_stale_s: Option<u64>,
    pub health_max_bad_share: f64,
    /// Where metrics and `/health` are served over HTTP.
    pub metrics: Option<SocketAddr>,
    pub metrics_zone_series_max: usize,
    /// Interfaces served over AF_XDP, for UDP to the first listen
    /// address's port.
    pub xdp: Vec<String>,
    pub tcp_idle_timeout: Duration,
    pub tcp_io_timeout: Duration,
    pub zones: Vec<ZoneConfig>,
    pub catalogs: Vec<CatalogConfig>,
    pub transfer: TransferSettings,
    /// DNS cookies; none when `[cookies] enabled = false`.
    pub cookies: Option<CookiePolicy>,
    /// The cookie secret was drawn at random, not configured.
    pub cookie_secret_drawn: bool,
    /// Response rate limiting; none unless `[rrl] enabled = true`.
    pub rrl: Option<RrlConfig>,
}

#[derive(Debug, Clone)]
pub struct ZoneConfig {
    pub name: Name,
    /// Relative paths are taken from the configuration file's directory.
    pub file: PathBuf,
    /// Set for a secondary zone.
    pub secondary: Option<SecondaryConfig>,
    /// Who may transfer the zone out; nobody when `None`.
    pub allow_transfer: Option<Arc<TransferAcl>>,
    /// Where NOTIFYs of its new versions go, if anywhere.
    pub notify: Option<Arc<NotifyTargets>>,
}

/// Where a secondary zone comes from.
#[derive(Debug, Clone)]
pub struct SecondaryConfig {
    /// One list shared by every zone that names the same primaries.
    pub primaries: Arc<[SocketAddr]>,
    pub key: Option<Arc<TsigKey>>,
    /// On anycast nodes transfers must leave from the node's own unicast
    /// address, or the primary's answer may reach another node.
    pub source: Option<IpAddr>,
    /// What to do with each version's ZONEMD (RFC 8976).
    pub zonemd: ZonemdPolicy,
}

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::from_text(&text, base).map_err(|message| ConfigError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Parses configuration text; relative zone files are taken from `base`.
    pub fn from_text(text: &str, base: &Path) -> Result<Config, String> {
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        let s = file.server;
        let mut listen = Vec::new();
        for a in &s.listen {
            listen.push(
                a.parse::<SocketAddr>()
                    .map_err(|_| format!("server.listen: '{a}' is not an address with a port, like 127.0.0.1:53 or [::1]:53"))?,
            );
        }
        if listen.is_empty() {
            return Err("server.listen: at least one address is needed".into());
        }
        if s.udp_payload < 512 {
            return Err(format!(
                "server.udp_payload: {} is below 512",
                s.udp_payload
            ));
        }
        if s.workers > 1024 {
            return Err(format!("server.workers: {} is more than 1024", s.workers));
        }
        if s.transfers_out == 0 || s.transfers_out_per_client == 0 {
            return Err(
                "server.transfers_out and server.transfers_out_per_client must be at least 1"
                    .into(),
            );
        }
        if s.tcp_max_connections == 0 || s.tcp_max_connections_total == 0 {
            return Err(
                "server.tcp_max_connections and server.tcp_max_connections_total must be at least 1"
                    .into(),
            );
        }
        if s.tcp_io_timeout_ms == 0 || s.tcp_idle_timeout_ms == 0 {
            return Err(
                "server.tcp_io_timeout_ms and server.tcp_idle_timeout_ms must be above 0".into(),
            );
        }
        if !(0.0..=1.0).contains(&s.health_max_bad_share) {
            return Err(format!(
                "server.health_max_bad_share: {} is not a share between 0 and 1",
                s.health_max_bad_share
            ));
        }
        for (i, name) in s.xdp.iter().enumerate() {
            // IFNAMSIZ is 16 with its NUL.
            if name.is_empty() || name.len() > 15 || name.contains(['/', ' ', '\0']) {
                return Err(format!("server.xdp: '{name}' is not an interface name"));
            }
            if s.xdp[..i].contains(name) {
                return Err(format!("server.xdp: '{name}' is named twice"));
            }
        }
        if !s.xdp.is_empty() && listen.iter().any(|a| a.port() != listen[0].port()) {
            return Err(
                "server.xdp: the listen addresses have different ports; XDP answers one port"
                    .into(),
            );
        }
        let metrics = match &s.metrics {
            None => None,
            Some(a) => Some(a.parse::<SocketAddr>().map_err(|_| {
                format!("server.metrics: '{a}' is not an address and port like 127.0.0.1:9153")
            })?),
        };
        let keys = parse_keys(&file.keys)?;
        let server_source = match &s.transfer_source {
            Some(a) => Some(
                a.parse::<IpAddr>()
                    .map_err(|_| format!("server.transfer_source: '{a}' is not an IP address"))?,
            ),
            None => None,
        };
        let transfer = transfer_settings(&file.transfer)?;
        let mut zones: Vec<ZoneConfig> = Vec::with_capacity(file.zones.len());
        // A set, not a scan per zone: a node may name 100,000 zones.
        let mut names = std::collections::HashSet::with_capacity(file.zones.len());
        let mut lists: std::collections::HashSet<Arc<[SocketAddr]>> = Default::default();
        for (i, z) in file.zones.iter().enumerate() {
            // Without the trailing dot the name is absolute all the same,
            // as Knot and NSD read zone names.
            let name = parse_name_text(&z.name, Some(&Name::root()))
                .map_err(|e| format!("zone[{i}].name: '{}': {e}", z.name))?
                .to_lowercase();
            if !names.insert(name.clone()) {
                return Err(format!("zone[{i}].name: {name} is configured twice"));
            }
            let mut secondary = secondary_config(
                &format!("zone[{i}]"),
                z.primaries.as_deref(),
                z.tsig_key.as_deref(),
                z.transfer_source.as_deref(),
                &keys,
                server_source,
            )?;
            let zonemd = zonemd_policy(&format!("zone[{i}]"), z.zonemd.as_deref())?;
            match secondary.as_mut() {
                Some(s) => s.zonemd = zonemd,
                None if z.zonemd.is_some() => {
                    return Err(format!(
                        "zone[{i}].zonemd: only for a secondary zone (one with primaries)"
                    ));
                }
                None => {}
            }
            // One list for all the zones of the same primaries (a node of
            // 100,000 zones has a handful of lists).
            if let Some(s) = secondary.as_mut() {
                match lists.get(&s.primaries) {
                    Some(l) => s.primaries = Arc::clone(l),
                    None => {
                        lists.insert(Arc::clone(&s.primaries));
                    }
                }
            }
            let transfer_key = match &z.transfer_key {
                None => None,
                Some(k) => Some(find_key(&format!("zone[{i}].transfer_key"), k, &keys)?),
            };
            let notify = match &z.notify {
                None => None,
                Some(list) => {
                    let mut addrs = Vec::with_capacity(list.len());
                    for a in list {
                        addrs.push(parse_primary(a).ok_or_else(|| {
                            format!("zone[{i}].notify: '{a}' is not an address like 192.0.2.1, 192.0.2.1:53 or [2001:db8::1]:53")
                        })?);
                    }
                    Some(Arc::new(NotifyTargets {
                        addrs: addrs.into(),
                        key: transfer_key.clone(),
                        source: secondary.as_ref().and_then(|s| s.source).or(server_source),
                    }))
                }
            };
            let allow_transfer = match &z.allow_transfer {
                None if transfer_key.is_some() => {
                    return Err(format!(
                        "zone {name}: transfer_key without allow_transfer: name the clients too \
                         (all of them: [\"0.0.0.0/0\", \"::/0\"])"
                    ));
                }
                None => None,
                Some(list) => Some(Arc::new(
                    TransferAcl::parse(list.iter().map(String::as_str))
                        .map_err(|e| format!("zone {name}: allow_transfer: {e}"))?
                        .with_key(transfer_key),
                )),
            };
            zones.push(ZoneConfig {
                name,
                file: base.join(&z.file),
                secondary,
                allow_transfer,
                notify,
            });
        }
        let catalogs = catalog_configs(
            &file.catalogs,
            &file.templates,
            base,
            &keys,
            server_source,
            &mut names,
        )?;
        Ok(Config {
            listen,
            workers: if s.workers == 0 {
                available_cores()
            } else {
                s.workers
            },
            identity: s.identity.unwrap_or_else(host_name),
            version: s.version,
            udp_payload: s.udp_payload,
            tcp_max_connections: s.tcp_max_connections,
            tcp_max_connections_total: s.tcp_max_connections_total,
            transfers_out: s.transfers_out,
            transfers_out_per_client: s.transfers_out_per_client,
            user: s.user,
            control: s.control.map(|p| base.join(p)),
            control_mode: s.control_mode,
            health_max_stale_s: s.health_max_stale_s,
            health_max_bad_share: s.health_max_bad_share,
            metrics,
            metrics_zone_series_max: s.metrics_zone_series_max,
            xdp: s.xdp,
            tcp_idle_timeout: Duration::from_millis(s.tcp_idle_timeout_ms),
            tcp_io_timeout: Duration::from_millis(s.tcp_io_timeout_ms),
            zones,
            catalogs,
            transfer,
            cookies: cookie_policy(&file.cookies)?,
            cookie_secret_drawn: file.cookies.enabled && file.cookies.secret.is_none(),
            rrl: rrl_config(&file.rrl)?,
        })
    }
}

/// The `[[key]]` named `name`, for the setting `at`.
fn find_key(at: &str, name: &str, keys: &[Arc<TsigKey>]) -> Result<Arc<TsigKey>, String> {
    let wanted = parse_name_text(name, Some(&Name::root()))
        .map_err(|e| format!("{at}: '{name}': {e}"))?
        .to_lowercase();
    keys.iter()
        .find(|key| key.name == wanted)
        .cloned()
        .ok_or_else(|| format!("{at}: no [[key]] is named '{name}'"))
}

fn parse_keys(sections: &[KeySection]) -> Result<Vec<Arc<TsigKey>>, String> {
    let mut keys: Vec<Arc<TsigKey>> = Vec::new();
    for (i, k) in sections.iter().enumerate() {
        let name = parse_name_text(&k.name, Some(&Name::root()))
            .map_err(|e| format!("key[{i}].name: '{}': {e}", k.name))?;
        let algorithm = Algorithm::from_name(&k.algorithm).ok_or_else(|| {
            format!(
                "key[{i}].algorithm: '{}' is not one of hmac-sha1, hmac-sha224, hmac-sha256, hmac-sha384, hmac-sha512",
                k.algorithm
            )
        })?;
        let secret = data_encoding::BASE64
            .decode(k.secret.trim().as_bytes())
            .map_err(|_| format!("key[{i}].secret: not valid base64"))?;
        if secret.is_empty() {
            return Err(format!("key[{i}].secret: empty"));
        }
        if keys.iter().any(|o| o.name == name.to_lowercase()) {
            return Err(format!("key[{i}].name: {} is defined twice", k.name));
        }
        keys.push(Arc::new(TsigKey::new(name, algorithm, secret)));
    }
    Ok(keys)
}

/// `host:port`, `[v6]:port`, or an address alone (port 53).
fn parse_primary(s: &str) -> Option<SocketAddr> {
    s.parse::<SocketAddr>()
        .ok()
        .or_else(|| s.parse::<IpAddr>().ok().map(|ip| SocketAddr::new(ip, 53)))
}

/// The primaries, key and source of a section named `at` (`zone[3]`).
fn secondary_config(
    at: &str,
    primaries: Option<&[String]>,
    tsig_key: Option<&str>,
    transfer_source: Option<&str>,
    keys: &[Arc<TsigKey>],
    server_source: Option<IpAddr>,
) -> Result<Option<SecondaryConfig>, String> {
    let Some(list) = primaries else {
        if tsig_key.is_some() || transfer_source.is_some() {
            return Err(format!("{at}: tsig_key and transfer_source need primaries"));
        }
        return Ok(None);
    };
    if list.is_empty() {
        return Err(format!(
            "{at}.primaries: empty; leave it out for a zone served from its file"
        ));
    }
    let mut primaries = Vec::new();
    for p in list {
        primaries.push(parse_primary(p).ok_or_else(|| {
            format!("{at}.primaries: '{p}' is not an address like 192.0.2.1, 192.0.2.1:53 or [2001:db8::1]:53")
        })?);
    }
    let key = match tsig_key {
        Some(k) => Some(find_key(&format!("{at}.tsig_key"), k, keys)?),
        None => None,
    };
    let source = match transfer_source {
        Some(a) => Some(
            a.parse::<IpAddr>()
                .map_err(|_| format!("{at}.transfer_source: '{a}' is not an IP address"))?,
        ),
        None => server_source,
    };
    if let Some(src) = source
        && let Some(p) = primaries.iter().find(|p| p.is_ipv4() != src.is_ipv4())
    {
        return Err(format!(
            "{at}.transfer_source: {src} cannot reach primary {p} (different address family)"
        ));
    }
    Ok(Some(SecondaryConfig {
        primaries: primaries.into(),
        key,
        source,
        zonemd: ZonemdPolicy::Verify,
    }))
}

/// A `zonemd` setting at `at`; verify when absent.
fn zonemd_policy(at: &str, text: Option<&str>) -> Result<ZonemdPolicy, String> {
    match text {
        None => Ok(ZonemdPolicy::Verify),
        Some(t) => ZonemdPolicy::parse(t)
            .ok_or_else(|| format!("{at}.zonemd: '{t}' is not one of off, verify, require")),
    }
}

/// The `[[catalog]]` sections, with their templates resolved. `names`
/// holds the zones' names: a catalog may not be one of them.
fn catalog_configs(
    catalogs: &[CatalogSection],
    template_sections: &[TemplateSection],
    base: &Path,
    keys: &[Arc<TsigKey>],
    server_source: Option<IpAddr>,
    names: &mut std::collections::HashSet<Name>,
) -> Result<Vec<CatalogConfig>, String> {
    let mut template_names = std::collections::HashSet::new();
    for (i, t) in template_sections.iter().enumerate() {
        if !template_names.insert(t.name.as_str()) {
            return Err(format!("template[{i}].name: '{}' is defined twice", t.name));
        }
    }
    let mut out = Vec::with_capacity(catalogs.len());
    for (i, c) in catalogs.iter().enumerate() {
        let at = format!("catalog[{i}]");
        let name = parse_name_text(&c.name, Some(&Name::root()))
            .map_err(|e| format!("{at}.name: '{}': {e}", c.name))?
            .to_lowercase();
        if !names.insert(name.clone()) {
            return Err(format!("{at}.name: {name} is configured twice"));
        }
        let own = secondary_config(
            &at,
            Some(&c.primaries),
            c.tsig_key.as_deref(),
            c.transfer_source.as_deref(),
            keys,
            server_source,
        )?
        .ok_or_else(|| format!("{at}.primaries: needed"))?;
        let file_path = base.join(&c.file);
        let mut templates = Vec::new();
        for wanted in &c.templates {
            let (j, t) = template_sections
                .iter()
                .enumerate()
                .find(|(_, t)| t.name == *wanted)
                .ok_or_else(|| format!("{at}.templates: no [[template]] is named '{wanted}'"))?;
            let tat = format!("template[{j}]");
            let s = secondary_config(
                &tat,
                t.primaries.as_deref(),
                t.tsig_key.as_deref(),
                t.transfer_source.as_deref(),
                keys,
                server_source,
            )?
            .unwrap_or_else(|| own.clone());
            templates.push(MemberTemplate {
                name: t.name.clone(),
                primaries: s.primaries,
                key: s.key,
                source: s.source,
                directory: base.join(&t.directory),
                zonemd: zonemd_policy(&tat, t.zonemd.as_deref())?,
            });
        }
        if templates.is_empty() {
            templates.push(MemberTemplate {
                name: "default".into(),
                primaries: own.primaries.clone(),
                key: own.key.clone(),
                source: own.source,
                directory: file_path.parent().unwrap_or(Path::new(".")).join("members"),
                zonemd: ZonemdPolicy::Verify,
            });
        }
        out.push(CatalogConfig {
            zone: SecondaryZone {
                apex: name,
                file: file_path.into(),
                primaries: own.primaries,
                key: own.key,
                source: own.source,
                catalog: true,
                zonemd: own.zonemd,
                allow_transfer: None,
            },
            templates,
        });
    }
    Ok(out)
}

fn transfer_settings(t: &TransferSection) -> Result<TransferSettings, String> {
    if !(0.0..=0.5).contains(&t.refresh_jitter) {
        return Err(format!(
            "transfer.refresh_jitter: {} is not between 0 and 0.5",
            t.refresh_jitter
        ));
    }
    for (key, v) in [
        ("transfer.max_concurrent", t.max_concurrent),
        ("transfer.max_per_primary", t.max_per_primary),
        ("transfer.soa_query_rate", t.soa_query_rate as usize),
        ("transfer.max_records", t.max_records),
        ("transfer.max_bytes", t.max_bytes),
        ("transfer.max_messages", t.max_messages),
    ] {
        if v == 0 {
            return Err(format!("{key}: must be at least 1"));
        }
    }
    if t.max_duration_s == 0 || t.connect_timeout_ms == 0 || t.io_timeout_ms == 0 {
        return Err(
            "transfer.max_duration_s, connect_timeout_ms and io_timeout_ms must be above 0".into(),
        );
    }
    Ok(TransferSettings {
        policy: TimerPolicy {
            refresh_min_s: t.refresh_min_s.max(1),
            refresh_max_s: t.refresh_max_s,
            retry_min_s: t.retry_min_s.max(1),
            retry_max_s: t.retry_max_s,
            expire_min_s: t.expire_min_s.max(1),
            expire_max_s: t.expire_max_s,
            jitter: t.refresh_jitter,
            notify_min_interval_ms: t.notify_min_interval_ms,
        },
        limits: Limits {
            max_records: t.max_records,
            max_bytes: t.max_bytes,
            max_messages: t.max_messages,
            nsec3_max_iterations: t.nsec3_max_iterations,
            zonemd: ZonemdPolicy::Verify,
            journal: crate::zone::journal::JournalLimits {
                max_depth: t.journal_max_depth,
                max_usage: t.journal_max_usage,
            },
        },
        max_concurrent: t.max_concurrent,
        max_per_primary: t.max_per_primary,
        soa_query_rate: t.soa_query_rate,
        max_duration: Duration::from_secs(t.max_duration_s),
        connect_timeout: Duration::from_millis(t.connect_timeout_ms),
        io_timeout: Duration::from_millis(t.io_timeout_ms),
        connection_keep: Duration::from_millis(t.connection_keep_ms),
    })
}

fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The host name, as Knot uses for its default identity.
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes a
    // NUL-terminated name into it or fails.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "zonecast".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::from_text(text, Path::new("/etc/zonecast"))
    }

    #[test]
    fn xdp_names_interfaces_of_one_port() {
        let c =
            parse("[server]\nlisten = [\"0.0.0.0:53\", \"[::]:53\"]\nxdp = [\"eth0\", \"eth1\"]\n")
                .unwrap();
        assert_eq!(c.xdp, ["eth0", "eth1"]);
        assert!(parse("").unwrap().xdp.is_empty());
        for (text, says) in [
            ("xdp = [\"\"]", "'' is not an interface name"),
            ("xdp = [\"a-very-long-ifname\"]", "is not an interface name"),
            ("xdp = [\"eth0\", \"eth0\"]", "'eth0' is named twice"),
            (
                "listen = [\"0.0.0.0:53\", \"[::]:5300\"]\nxdp = [\"eth0\"]",
                "different ports",
            ),
        ] {
            let e = parse(&format!("[server]\n{text}\n")).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn reads_the_documented_keys() {
        let c = parse(
            r#"
[server]
listen = ["127.0.0.1:5300", "[::1]:5300"]
workers = 2
identity = "node-1"
version = "zonecast"
udp_payload = 1232
[[zone]]
name = "example.com."
file = "zones/example.com.zone"
"#,
        )
        .unwrap();
        assert_eq!(c.listen.len(), 2);
        assert_eq!(c.workers, 2);
        assert_eq!(c.identity, "node-1");
        assert_eq!(c.zones[0].name.to_string(), "example.com.");
        assert_eq!(
            c.zones[0].file,
            Path::new("/etc/zonecast/zones/example.com.zone")
        );
        assert_eq!(c.tcp_idle_timeout, Duration::from_secs(10));
    }

    /// The bundled example loads, and keeps off the ports of multicast
    /// DNS (5353, RFC 6762) and LLMNR (5355, RFC 4795), which a desktop's
    /// resolver may already use.
    #[test]
    fn the_bundled_example_is_valid_and_off_the_multicast_ports() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let text = std::fs::read_to_string(dir.join("zonecast.toml")).unwrap();
        let c = Config::from_text(&text, &dir).unwrap();
        assert!(!c.listen.is_empty());
        for a in &c.listen {
            assert!(![5353, 5355].contains(&a.port()), "{a}");
        }
        assert_eq!(c.zones[0].name.to_string(), "example.com.");
    }

    /// Knot and NSD read a zone name without the trailing dot as absolute.
    #[test]
    fn zone_names_without_the_trailing_dot_are_absolute() {
        let c = parse("[[zone]]\nname = \"Example.COM\"\nfile = \"z\"\n[[zone]]\nname = \".\"\nfile = \"root\"\n")
            .unwrap();
        assert_eq!(c.zones[0].name.to_string(), "example.com.");
        assert_eq!(c.zones[1].name.to_string(), ".");
    }

    #[test]
    fn errors_name_the_key() {
        let e = parse("[server]\nlisten = [\"127.0.0.1:5300\"]\nworkrs = 2\n").unwrap_err();
        assert!(e.contains("workrs"), "{e}");
        let e = parse("[server]\nudp_payload = 100\n").unwrap_err();
        assert!(e.contains("server.udp_payload"), "{e}");
        let e = parse("[server]\nudp_payload = \"big\"\n").unwrap_err();
        assert!(e.contains("udp_payload"), "{e}");
        let e = parse("[server]\nlisten = [\"localhost\"]\n").unwrap_err();
        assert!(e.contains("server.listen"), "{e}");
        let e = parse("[[zone]]\nname = \"exa..mple.com\"\nfile = \"x\"\n").unwrap_err();
        assert!(e.contains("zone[0].name"), "{e}");
        // The same zone with and without the trailing dot is one zone.
        let e = parse(
            "[[zone]]\nname = \"a.example\"\nfile = \"x\"\n[[zone]]\nname = \"A.example.\"\nfile = \"y\"\n",
        )
        .unwrap_err();
        assert!(
            e.contains("zone[1].name: a.example. is configured twice"),
            "{e}"
        );
        let e =
            parse("[[zone]]\nname = \"a.\"\nfile = \"x\"\n[[zone]]\nname = \"A.\"\nfile = \"y\"\n")
                .unwrap_err();
        assert!(e.contains("zone[1].name"), "{e}");
        let e = parse("[[zone]]\nname = \"a.\"\n").unwrap_err();
        assert!(e.contains("file"), "{e}");
        let e = parse("[[zone]]\nname = \"a.\"\nfile = \"x\"\nprimary = 1\n").unwrap_err();
        assert!(e.contains("primary"), "{e}");
    }

    #[test]
    fn secondary_zones_keys_and_sources() {
        let c = parse(
            r#"
[server]
transfer_source = "127.0.0.2"
[[key]]
name = "xfr-key"
algorithm = "hmac-sha256"
secret = "c2VjcmV0"
[[zone]]
name = "example.com."
file = "zones/example.com.zone"
primaries = ["127.0.0.1:5310", "192.0.2.1"]
tsig_key = "xfr-key"
[[zone]]
name = "example.net."
file = "n.zone"
primaries = ["127.0.0.1:5310"]
transfer_source = "127.0.0.3"
[transfer]
max_records = 1000
"#,
        )
        .unwrap();
        let s = c.zones[0].secondary.as_ref().unwrap();
        assert_eq!(s.primaries[1], "192.0.2.1:53".parse().unwrap());
        assert_eq!(s.key.as_ref().unwrap().name.to_string(), "xfr-key.");
        assert_eq!(s.source, Some("127.0.0.2".parse().unwrap()));
        assert_eq!(
            c.zones[1].secondary.as_ref().unwrap().source,
            Some("127.0.0.3".parse().unwrap())
        );
        assert_eq!(c.transfer.limits.max_records, 1000);
        assert_eq!(c.transfer.max_concurrent, 8);
    }

    /// The fan-out settings of a zone: who may transfer it, with which
    /// key, and where its NOTIFYs go and from where.
    #[test]
    fn fan_out_settings() {
        let c = parse(
            r#"
[server]
transfer_source = "127.0.0.2"
transfers_out = 5
transfers_out_per_client = 2
[[key]]
name = "xfr-key"
algorithm = "hmac-sha256"
secret = "c2VjcmV0"
[[zone]]
name = "example.com."
file = "a.zone"
allow_transfer = ["192.0.2.0/24"]
transfer_key = "xfr-key"
notify = ["192.0.2.20", "[2001:db8::20]:5353"]
[[zone]]
name = "example.net."
file = "n.zone"
primaries = ["127.0.0.1:5310"]
transfer_source = "127.0.0.3"
notify = ["192.0.2.21:53"]
"#,
        )
        .unwrap();
        assert_eq!((c.transfers_out, c.transfers_out_per_client), (5, 2));
        let file_zone = &c.zones[0];
        let acl = file_zone.allow_transfer.as_ref().unwrap();
        assert_eq!(acl.key().unwrap().name.to_string(), "xfr-key.");
        assert!(acl.allows("192.0.2.7".parse().unwrap()));
        let n = file_zone.notify.as_ref().unwrap();
        assert_eq!(
            &n.addrs[..],
            [
                "192.0.2.20:53".parse().unwrap(),
                "[2001:db8::20]:5353".parse().unwrap()
            ]
        );
        // Signed with the transfer key, sent from the server's source.
        assert_eq!(n.key.as_ref().unwrap().name.to_string(), "xfr-key.");
        assert_eq!(n.source, Some("127.0.0.2".parse().unwrap()));
        // A secondary zone's own transfer_source; no key without one.
        let n = c.zones[1].notify.as_ref().unwrap();
        assert_eq!(n.source, Some("127.0.0.3".parse().unwrap()));
        assert!(n.key.is_none());
        for (zone, error) in [
            (
                "transfer_key = \"xfr-key\"\n",
                "transfer_key without allow_transfer",
            ),
            (
                "allow_transfer = [\"0.0.0.0/0\"]\ntransfer_key = \"nope\"\n",
                "no [[key]] is named 'nope'",
            ),
            (
                "notify = [\"ns1.example.\"]\n",
                "zone[0].notify: 'ns1.example.'",
            ),
        ] {
            let text = format!(
                "[[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"c2VjcmV0\"\n\
                 [[zone]]\nname = \"a.\"\nfile = \"x\"\n{zone}"
            );
            let e = parse(&text).unwrap_err().to_string();
            assert!(e.contains(error), "{e}");
        }
    }

    #[test]
    fn secondary_errors_name_the_key() {
        let zone = "[[zone]]\nname = \"a.\"\nfile = \"x\"\n";
        for (extra, key) in [
            ("primaries = []\n", "zone[0].primaries"),
            ("primaries = [\"nowhere\"]\n", "zone[0].primaries"),
            (
                "primaries = [\"127.0.0.1\"]\ntsig_key = \"k\"\n",
                "zone[0].tsig_key",
            ),
            ("tsig_key = \"k\"\n", "zone[0]"),
            (
                "primaries = [\"127.0.0.1\"]\ntransfer_source = \"::1\"\n",
                "zone[0].transfer_source",
            ),
        ] {
            let e = parse(&format!("{zone}{extra}")).unwrap_err();
            assert!(e.contains(key), "{extra}: {e}");
        }
        let e = parse("[[key]]\nname = \"k\"\nalgorithm = \"md5\"\nsecret = \"c2VjcmV0\"\n")
            .unwrap_err();
        assert!(e.contains("key[0].algorithm"), "{e}");
        let e = parse("[[key]]\nname = \"k\"\nalgorithm = \"hmac-sha1\"\nsecret = \"!!\"\n")
            .unwrap_err();
        assert!(e.contains("key[0].secret"), "{e}");
        let e = parse("[transfer]\nmax_records = 0\n").unwrap_err();
        assert!(e.contains("transfer.max_records"), "{e}");
        let e = parse("[transfer]\nmax_recrods = 5\n").unwrap_err();
        assert!(e.contains("max_recrods"), "{e}");
    }

    #[test]
    fn catalogs_and_their_templates() {
        let c = parse(
            r#"
[[template]]
name = "gold"
directory = "gold"
primaries = ["192.0.2.2"]
[[catalog]]
name = "cat.invalid"
file = "cat.zone"
primaries = ["192.0.2.1"]
templates = ["gold"]
[[catalog]]
name = "other.invalid."
file = "var/other.zone"
primaries = ["192.0.2.1:5300"]
"#,
        )
        .unwrap();
        let gold = &c.catalogs[0];
        assert_eq!(gold.zone.apex.to_string(), "cat.invalid.");
        assert!(gold.zone.catalog);
        assert_eq!(
            gold.templates[0].primaries,
            vec!["192.0.2.2:53".parse().unwrap()].into()
        );
        assert_eq!(gold.templates[0].directory, Path::new("/etc/zonecast/gold"));
        // Without templates: the catalog's primaries, a directory beside it.
        let other = &c.catalogs[1].templates[0];
        assert_eq!(
            other.primaries,
            vec!["192.0.2.1:5300".parse().unwrap()].into()
        );
        assert_eq!(other.directory, Path::new("/etc/zonecast/var/members"));
        let cat = "[[catalog]]\nname = \"c.\"\nfile = \"c\"\nprimaries = [\"192.0.2.1\"]\n";
        for (text, key) in [
            (format!("{cat}templates = [\"none\"]\n"), "catalog[0].templates"),
            (format!("{cat}[[zone]]\nname = \"c.\"\nfile = \"z\"\n"), "catalog[0].name"),
            (
                "[[template]]\nname = \"t\"\ndirectory = \"a\"\n[[template]]\nname = \"t\"\ndirectory = \"b\"\n".into(),
                "template[1].name",
            ),
            (cat.replace("[\"192.0.2.1\"]", "[]"), "catalog[0].primaries"),
        ] {
            let e = parse(&text).unwrap_err();
            assert!(e.contains(key), "{text}: {e}");
        }
    }
}
