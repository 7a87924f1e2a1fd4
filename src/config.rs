//! The configuration file (TOML). Unknown keys and bad values are errors
//! that name the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use thiserror::Error;

use crate::wire::Name;
use crate::wire::name::parse_name_text;

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
    /// A TCP connection with nothing to do is closed after this long.
    #[serde(default = "default_tcp_idle_timeout_ms")]
    pub tcp_idle_timeout_ms: u64,
    /// A query started on TCP must arrive whole, and a reply must be taken
    /// whole, within this long (a slow sender cannot hold a slot).
    #[serde(default = "default_tcp_io_timeout_ms")]
    pub tcp_io_timeout_ms: u64,
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
            tcp_idle_timeout_ms: default_tcp_idle_timeout_ms(),
            tcp_io_timeout_ms: default_tcp_io_timeout_ms(),
        }
    }
}

/// `[[zone]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSection {
    pub name: String,
    pub file: PathBuf,
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
    pub tcp_idle_timeout: Duration,
    pub tcp_io_timeout: Duration,
    pub zones: Vec<ZoneConfig>,
}

#[derive(Debug, Clone)]
pub struct ZoneConfig {
    pub name: Name,
    /// Relative paths are taken from the configuration file's directory.
    pub file: PathBuf,
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
        if s.tcp_max_connections == 0 {
            return Err("server.tcp_max_connections: must be at least 1".into());
        }
        if s.tcp_io_timeout_ms == 0 || s.tcp_idle_timeout_ms == 0 {
            return Err(
                "server.tcp_io_timeout_ms and server.tcp_idle_timeout_ms must be above 0".into(),
            );
        }
        let mut zones: Vec<ZoneConfig> = Vec::new();
        for (i, z) in file.zones.iter().enumerate() {
            let name = parse_name_text(&z.name, None)
                .map_err(|e| format!("zone[{i}].name: '{}': {e}", z.name))?
                .to_lowercase();
            if !z.name.ends_with('.') {
                return Err(format!(
                    "zone[{i}].name: '{}' must be absolute (end with a dot)",
                    z.name
                ));
            }
            if zones.iter().any(|o| o.name == name) {
                return Err(format!("zone[{i}].name: {name} is configured twice"));
            }
            zones.push(ZoneConfig {
                name,
                file: base.join(&z.file),
            });
        }
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
            tcp_idle_timeout: Duration::from_millis(s.tcp_idle_timeout_ms),
            tcp_io_timeout: Duration::from_millis(s.tcp_io_timeout_ms),
            zones,
        })
    }
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
    fn reads_the_documented_keys() {
        let c = parse(
            r#"
[server]
listen = ["127.0.0.1:5353", "[::1]:5353"]
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

    #[test]
    fn errors_name_the_key() {
        let e = parse("[server]\nlisten = [\"127.0.0.1:5353\"]\nworkrs = 2\n").unwrap_err();
        assert!(e.contains("workrs"), "{e}");
        let e = parse("[server]\nudp_payload = 100\n").unwrap_err();
        assert!(e.contains("server.udp_payload"), "{e}");
        let e = parse("[server]\nudp_payload = \"big\"\n").unwrap_err();
        assert!(e.contains("udp_payload"), "{e}");
        let e = parse("[server]\nlisten = [\"localhost\"]\n").unwrap_err();
        assert!(e.contains("server.listen"), "{e}");
        let e = parse("[[zone]]\nname = \"example.com\"\nfile = \"x\"\n").unwrap_err();
        assert!(e.contains("zone[0].name"), "{e}");
        let e =
            parse("[[zone]]\nname = \"a.\"\nfile = \"x\"\n[[zone]]\nname = \"A.\"\nfile = \"y\"\n")
                .unwrap_err();
        assert!(e.contains("zone[1].name"), "{e}");
        let e = parse("[[zone]]\nname = \"a.\"\n").unwrap_err();
        assert!(e.contains("file"), "{e}");
        let e = parse("[[zone]]\nname = \"a.\"\nfile = \"x\"\nprimary = 1\n").unwrap_err();
        assert!(e.contains("primary"), "{e}");
    }
}
