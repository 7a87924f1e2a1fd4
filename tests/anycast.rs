//! Anycast route withdrawal driven by zonecast's health check (issue 12,
//! step 4), with the real route daemons the examples in `tools/anycast/`
//! are written for: BIRD runs `bird-health.sh`'s enable/disable, and
//! ExaBGP's own healthcheck program announces and withdraws the route.
//! The node turns unhealthy when a zone stops loading, and healthy again
//! when it loads; nothing leaves loopback (BIRD has no kernel protocol
//! and ExaBGP's healthcheck speaks only on its standard output).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::*;

const GOOD: &str = "$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n@ NS ns\nns A 192.0.2.53\n";
const BROKEN: &str = "$TTL 300\n@ SOA ns hm 1 3600 600 86400 60\n@ NS ns\nns A not-an-address\n";
/// The service address announced, from the benchmarking range.
const ROUTE: &str = "198.18.0.53/32";

/// zonecast with a control socket and two zones from files; the second
/// loads or not as `second` says.
fn node(second: &str) -> Zonecast {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.zone"), GOOD).unwrap();
    std::fs::write(dir.path().join("b.zone"), second).unwrap();
    let config = "[server]\nlisten = [\"127.0.0.1:0\"]\nworkers = 2\ncontrol = \"ctl.sock\"\n\
         [[zone]]\nname = \"a.test.\"\nfile = \"a.zone\"\n\
         [[zone]]\nname = \"b.test.\"\nfile = \"b.zone\"\n";
    Zonecast::start_with_config(dir, config)
}

/// Rewrites the second zone's file and has zonecast reload it.
fn set_second(zc: &mut Zonecast, text: &str) {
    let before = zc.process.log().matches("reloaded ").count();
    write_atomically(&zc.dir.path().join("b.zone"), text, None);
    zc.process.signal(1);
    assert!(
        wait_until(Duration::from_secs(10), || zc
            .process
            .log()
            .matches("reloaded ")
            .count()
            > before),
        "{}",
        zc.process.log()
    );
}

fn health_exit(zc: &Zonecast) -> Option<i32> {
    Command::new(env!("CARGO_BIN_EXE_zonecast"))
        .args(["ctl", "-c"])
        .arg(zc.dir.path().join("zonecast.toml"))
        .arg("health")
        .output()
        .unwrap()
        .status
        .code()
}

/// BIRD, in its own directory, announcing [`ROUTE`] by a static protocol.
struct Bird {
    _process: Process,
    socket: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Bird {
    fn start() -> Bird {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("bird.conf");
        std::fs::write(
            &conf,
            format!(
                "log stderr all;\nrouter id 198.18.0.1;\nprotocol device {{ }}\n\
                 protocol static zonecast_anycast {{ ipv4; route {ROUTE} blackhole; }}\n"
            ),
        )
        .unwrap();
        let socket = dir.path().join("bird.ctl");
        let mut cmd = Command::new(tool("bird"));
        cmd.arg("-f")
            .arg("-c")
            .arg(&conf)
            .arg("-s")
            .arg(&socket)
            .arg("-P")
            .arg(dir.path().join("bird.pid"));
        let mut process = Process::spawn(cmd);
        assert!(
            process.wait_for_log("Started", Duration::from_secs(10)),
            "{}",
            process.log()
        );
        Bird {
            _process: process,
            socket,
            _dir: dir,
        }
    }

    /// Whether BIRD holds the route now.
    fn has_route(&self) -> bool {
        let out = Command::new(tool("birdc"))
            .arg("-s")
            .arg(&self.socket)
            .args(["show", "route", "for", ROUTE])
            .output()
            .unwrap();
        // (birdc exits 1 for "Network not found".)
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("BIRD 2") && text.contains("ready"), "{text}");
        text.contains(&format!("{ROUTE} ")) && text.contains("zonecast_anycast")
    }

    /// One run of the example script against zonecast `zc`.
    fn run_script(&self, zc: &Zonecast) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/anycast/bird-health.sh");
        let birdc_dir = tool("birdc").parent().unwrap().to_path_buf();
        let path = format!(
            "{}:{}",
            birdc_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = Command::new("sh")
            .arg(script)
            .env("PATH", path)
            .env("ZONECAST", env!("CARGO_BIN_EXE_zonecast"))
            .env("ZONECAST_CONFIG", zc.dir.path().join("zonecast.toml"))
            .env("BIRD_SOCKET", &self.socket)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn bird_withdraws_the_route_while_a_zone_does_not_load() {
    let bird = Bird::start();
    assert!(bird.has_route(), "announced from the start");
    let mut zc = node(BROKEN);
    assert_eq!(health_exit(&zc), Some(1));
    bird.run_script(&zc);
    assert!(!bird.has_route(), "withdrawn: b.test. is not loaded");
    // Running again changes nothing.
    bird.run_script(&zc);
    assert!(!bird.has_route());
    set_second(&mut zc, GOOD);
    assert_eq!(health_exit(&zc), Some(0));
    bird.run_script(&zc);
    assert!(bird.has_route(), "announced again");
    set_second(&mut zc, BROKEN);
    bird.run_script(&zc);
    assert!(!bird.has_route(), "withdrawn again");
    // zonecast gone: the check cannot answer, the route goes.
    set_second(&mut zc, GOOD);
    bird.run_script(&zc);
    assert!(bird.has_route());
    zc.process.terminate();
    bird.run_script(&zc);
    assert!(!bird.has_route(), "withdrawn with zonecast stopped");
}

/// ExaBGP's healthcheck program, run as `tools/anycast/exabgp.conf` runs
/// it (but once a second, and without ExaBGP itself: its announcements
/// are on its standard output, where ExaBGP would read them).
#[test]
fn exabgp_healthcheck_announces_and_withdraws() {
    let mut zc = node(GOOD);
    let check = format!(
        "{} ctl -c {} health",
        env!("CARGO_BIN_EXE_zonecast"),
        zc.dir.path().join("zonecast.toml").display()
    );
    let mut cmd = Command::new("/usr/bin/python3");
    cmd.args(["-m", "exabgp", "healthcheck", "--cmd"])
        .arg(&check)
        .args([
            "--interval",
            "1",
            "--fast-interval",
            "1",
            "--rise",
            "1",
            "--fall",
            "1",
            "--withdraw-on-down",
            "--ip",
            ROUTE,
            "--no-ip-setup",
            "--no-ack",
            "--no-syslog",
        ]);
    let mut hc = Process::spawn(cmd);
    let announce = format!("announce route {ROUTE} next-hop self");
    let withdraw = format!("withdraw route {ROUTE} next-hop self");
    assert!(
        hc.wait_for_log(&announce, Duration::from_secs(15)),
        "{}",
        hc.log()
    );
    assert!(!hc.log().contains(&withdraw), "{}", hc.log());
    set_second(&mut zc, BROKEN);
    assert!(
        hc.wait_for_log(&withdraw, Duration::from_secs(15)),
        "{}",
        hc.log()
    );
    let withdrawn_at = hc.log().len();
    set_second(&mut zc, GOOD);
    assert!(
        wait_until(Duration::from_secs(15), || hc.log()[withdrawn_at..]
            .contains(&announce)),
        "{}",
        hc.log()
    );
    zc.process.terminate();
}
