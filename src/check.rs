//! `zonecast check -c FILE`: the configuration and every zone file it
//! names, read as the server would read them, every problem reported
//! (as `nsd-checkconf` and `knotc conf-check` do), nothing started. A
//! secondary zone's copy is read when there is one: a copy that does not
//! load is a warning (the server transfers the zone anew), not a
//! problem of the configuration.

use std::path::Path;

use crate::config::Config;
use crate::zone::load_zone_file;

/// What the check found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Findings {
    /// Problems: the server would refuse the configuration, or serve a
    /// zone as SERVFAIL.
    pub problems: Vec<String>,
    /// Worth a look, nothing broken.
    pub warnings: Vec<String>,
    /// What was checked, for the closing line.
    pub summary: String,
}

impl Findings {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks the configuration at `path` and the zone files it names.
pub fn check(path: &Path) -> Findings {
    let mut f = Findings::default();
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            f.problems.push(e.to_string());
            f.summary = format!("{}: not a usable configuration", path.display());
            return f;
        }
    };
    let (mut from_files, mut secondaries, mut records) = (0usize, 0usize, 0usize);
    for z in &config.zones {
        let is_secondary = z.secondary.is_some();
        if is_secondary {
            secondaries += 1;
            if !z.file.exists() {
                continue;
            }
        } else {
            from_files += 1;
        }
        match load_zone_file(&z.file, &z.name) {
            Ok(built) => {
                records += built.snapshot.record_count();
                f.warnings
                    .extend(built.warnings.iter().map(|w| format!("[{}] {w}", z.name)));
            }
            Err(e) if is_secondary => f.warnings.push(format!(
                "[{}] the copy in {} does not load, so it will be transferred anew: {e}",
                z.name,
                z.file.display()
            )),
            Err(e) => {
                let reasons = e.reasons();
                let n = reasons.len();
                f.problems
                    .extend(reasons.into_iter().map(|r| format!("[{}] {r}", z.name)));
                f.problems.push(format!(
                    "[{}] {} does not load ({n} error{}): the zone would be served as SERVFAIL",
                    z.name,
                    z.file.display(),
                    if n == 1 { "" } else { "s" }
                ));
            }
        }
    }
    f.summary = format!(
        "{}: {from_files} zones from files, {secondaries} secondary zones, {} catalogs, {records} records read",
        path.display(),
        config.catalogs.len()
    );
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn a_good_configuration_passes_with_its_counts() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "a.zone",
            "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
        );
        write(
            d.path(),
            "zonecast.toml",
            "[[zone]]\nname = \"a.test.\"\nfile = \"a.zone\"\n\
             [[zone]]\nname = \"b.test.\"\nfile = \"b.zone\"\nprimaries = [\"192.0.2.1\"]\n",
        );
        let f = check(&d.path().join("zonecast.toml"));
        assert!(f.ok(), "{f:?}");
        assert!(f.warnings.is_empty(), "{f:?}");
        assert!(
            f.summary
                .ends_with("1 zones from files, 1 secondary zones, 0 catalogs, 3 records read"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn every_bad_record_and_a_bad_configuration_are_problems() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "a.zone",
            "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nbad A 300.1.2.3\nworse MX x\n",
        );
        write(
            d.path(),
            "zonecast.toml",
            "[[zone]]\nname = \"a.test.\"\nfile = \"a.zone\"\n",
        );
        let f = check(&d.path().join("zonecast.toml"));
        assert!(!f.ok());
        assert_eq!(f.problems.len(), 3, "{f:?}");
        assert!(f.problems[0].contains("a.zone:4"), "{f:?}");
        assert!(f.problems[1].contains("a.zone:5"), "{f:?}");
        assert!(f.problems[2].contains("does not load (2 errors)"), "{f:?}");
        // A missing zone file.
        write(
            d.path(),
            "zonecast.toml",
            "[[zone]]\nname = \"a.test.\"\nfile = \"none.zone\"\n",
        );
        let f = check(&d.path().join("zonecast.toml"));
        assert!(f.problems[0].contains("cannot read"), "{f:?}");
        // A configuration the server refuses.
        write(
            d.path(),
            "zonecast.toml",
            "[[zone]]\nname = \"a.test.\"\nfil = \"a.zone\"\n",
        );
        let f = check(&d.path().join("zonecast.toml"));
        assert_eq!(f.problems.len(), 1);
        assert!(f.problems[0].contains("fil"), "{f:?}");
        // A secondary's copy that does not load is only a warning.
        write(d.path(), "c.zone", "garbage\n");
        write(
            d.path(),
            "zonecast.toml",
            "[[zone]]\nname = \"c.test.\"\nfile = \"c.zone\"\nprimaries = [\"192.0.2.1\"]\n",
        );
        let f = check(&d.path().join("zonecast.toml"));
        assert!(f.ok(), "{f:?}");
        assert!(f.warnings[0].contains("transferred anew"), "{f:?}");
    }
}
