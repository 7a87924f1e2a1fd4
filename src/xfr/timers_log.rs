//! The timers of every copy kept in one directory, in one append-only
//! file beside them (`.zonecast-timers`), as Knot keeps them in its timer
//! database: a refresh appends a line, where a state file per zone cost
//! a file created and renamed per zone per refresh (at 100,000 zones the
//! writer spent most of its time allocating inodes). The last line for
//! a file wins; a deleted zone gets a line that says so. The log is
//! rewritten with only the live lines once it holds twice as many as
//! that, so it stays in proportion to the zones.
//!
//! Lines: `S <serial> <refreshed_at> <expires_at> <file name>` and
//! `D <file name>`, times in Unix seconds. A copy with no line falls back
//! to the state file older versions wrote (`FILE.state`).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use super::persist::{SavedState, load_legacy_state};

/// The log's name in each directory of copies.
pub const LOG_NAME: &str = ".zonecast-timers";

/// Appended lines, beyond the live ones, that make a rewrite due.
const MIN_SLACK: usize = 1024;

pub fn log_path(dir: &Path) -> PathBuf {
    dir.join(LOG_NAME)
}

/// The directory `path` is in.
pub(super) fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// One change to a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogEntry {
    State(SavedState),
    Deleted,
}

fn parse_line(line: &[u8]) -> Option<(OsString, LogEntry)> {
    let text = std::str::from_utf8(line).ok();
    match line.split_first()? {
        (b'D', rest) => Some((
            OsString::from_vec(rest.strip_prefix(b" ")?.to_vec()),
            LogEntry::Deleted,
        )),
        (b'S', _) => {
            let mut parts = text?.splitn(5, ' ');
            let _ = parts.next();
            let serial = parts.next()?.parse().ok()?;
            let refreshed_at = parts.next()?.parse().ok()?;
            let expires_at = parts.next()?.parse().ok()?;
            let name = parts.next()?;
            Some((
                OsString::from(name),
                LogEntry::State(SavedState {
                    serial,
                    refreshed_at,
                    expires_at,
                }),
            ))
        }
        _ => None,
    }
}

fn line_of(name: &OsStr, entry: &LogEntry) -> Option<Vec<u8>> {
    let name = name.as_bytes();
    // A name that would break the line is not logged (its copy then
    // refreshes at start, as one without timers).
    if name.contains(&b'\n') || name.is_empty() {
        return None;
    }
    let mut out = match entry {
        LogEntry::State(s) => {
            format!("S {} {} {} ", s.serial, s.refreshed_at, s.expires_at).into_bytes()
        }
        LogEntry::Deleted => b"D ".to_vec(),
    };
    out.extend_from_slice(name);
    out.push(b'\n');
    Some(out)
}

/// The live state of every copy `dir`'s log names, and how many lines it
/// holds in all. Lines that do not read (a crash mid-append) are skipped.
pub fn read_log(dir: &Path) -> (HashMap<OsString, SavedState>, usize) {
    let Ok(bytes) = std::fs::read(log_path(dir)) else {
        return (HashMap::new(), 0);
    };
    let mut live = HashMap::new();
    let mut lines = 0;
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        lines += 1;
        match parse_line(line) {
            Some((name, LogEntry::State(s))) => {
                live.insert(name, s);
            }
            Some((name, LogEntry::Deleted)) => {
                live.remove(&name);
            }
            None => {}
        }
    }
    (live, lines)
}

/// The saved states of many copies, each directory's log read once.
#[derive(Default)]
pub struct StateIndex {
    by_dir: HashMap<PathBuf, HashMap<OsString, SavedState>>,
}

impl StateIndex {
    pub fn for_files<'f>(files: impl IntoIterator<Item = &'f Path>) -> StateIndex {
        let mut by_dir = HashMap::new();
        for f in files {
            let dir = dir_of(f);
            if !by_dir.contains_key(dir) {
                by_dir.insert(dir.to_path_buf(), read_log(dir).0);
            }
        }
        StateIndex { by_dir }
    }

    /// The state of the copy at `zone_file`: its log's, else the state
    /// file an older version wrote.
    pub fn get(&self, zone_file: &Path) -> Option<SavedState> {
        let logged = self
            .by_dir
            .get(dir_of(zone_file))
            .and_then(|m| m.get(zone_file.file_name()?))
            .copied();
        logged.or_else(|| load_legacy_state(zone_file))
    }
}

/// The writer's side: appends, and rewrites a log that has grown.
#[derive(Default)]
pub struct LogWriter {
    /// Per directory: live lines at the last rewrite, lines since.
    dirs: HashMap<PathBuf, (usize, usize)>,
}

impl LogWriter {
    /// Appends `entries` (zone file, change) to their directories' logs
    /// and makes them durable; a log that grew past twice its live lines
    /// is rewritten.
    pub fn append(&mut self, entries: &[(impl AsRef<Path>, LogEntry)]) {
        let mut by_dir: HashMap<&Path, Vec<u8>> = HashMap::new();
        for (file, entry) in entries {
            let file = file.as_ref();
            let Some(name) = file.file_name() else {
                continue;
            };
            match line_of(name, entry) {
                Some(line) => by_dir.entry(dir_of(file)).or_default().extend(line),
                None => tracing::warn!(
                    "{}: a name the timer log cannot hold; its timers are not kept",
                    file.display()
                ),
            }
        }
        for (dir, text) in by_dir {
            let lines = text.iter().filter(|&&b| b == b'\n').count();
            if let Err(e) = append_durably(dir, &text) {
                tracing::error!("cannot append to {}: {e}", log_path(dir).display());
                continue;
            }
            let counts = self.dirs.entry(dir.to_path_buf()).or_insert_with(|| {
                // First touch of this log in this run: count what it holds.
                let (live, all) = read_log(dir);
                (live.len(), all.saturating_sub(lines))
            });
            counts.1 += lines;
            if counts.1 > counts.0.max(MIN_SLACK) {
                match rewrite(dir) {
                    Ok(live) => *counts = (live, 0),
                    Err(e) => tracing::error!("cannot rewrite {}: {e}", log_path(dir).display()),
                }
            }
        }
    }
}

fn append_durably(dir: &Path, text: &[u8]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path(dir))?;
    f.write_all(text)?;
    f.sync_data()
}

/// Rewrites `dir`'s log with only its live lines; their count.
fn rewrite(dir: &Path) -> io::Result<usize> {
    let (live, _) = read_log(dir);
    let mut names: Vec<_> = live.iter().collect();
    names.sort_by(|a, b| a.0.cmp(b.0));
    let mut text = Vec::with_capacity(names.len() * 48);
    for (name, s) in names {
        text.extend(line_of(name, &LogEntry::State(*s)).unwrap_or_default());
    }
    let path = log_path(dir);
    let tmp = dir.join(format!("{LOG_NAME}.tmp.{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&text)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(live.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(serial: u32) -> LogEntry {
        LogEntry::State(SavedState {
            serial,
            refreshed_at: 10,
            expires_at: 20,
        })
    }

    #[test]
    fn the_last_line_wins_and_deletes_remove() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut w = LogWriter::default();
        w.append(&[(d.join("a.zone"), st(1)), (d.join("b c.zone"), st(5))]);
        w.append(&[
            (d.join("a.zone"), st(2)),
            (d.join("b c.zone"), LogEntry::Deleted),
        ]);
        let (live, lines) = read_log(d);
        assert_eq!(lines, 4);
        assert_eq!(live.len(), 1);
        assert_eq!(live[OsStr::new("a.zone")].serial, 2);
        let idx = StateIndex::for_files([d.join("a.zone").as_path()]);
        assert_eq!(idx.get(&d.join("a.zone")).map(|s| s.serial), Some(2));
        assert_eq!(idx.get(&d.join("b c.zone")), None);
        // A line cut short by a crash is skipped, the rest read.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(log_path(d))
            .unwrap();
        f.write_all(b"S 9 1").unwrap();
        assert_eq!(read_log(d).0[OsStr::new("a.zone")].serial, 2);
    }

    #[test]
    fn a_log_that_grew_is_rewritten_with_its_live_lines() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut w = LogWriter::default();
        let files: Vec<PathBuf> = (0..10).map(|i| d.join(format!("z{i}.zone"))).collect();
        for round in 0..400u32 {
            let batch: Vec<_> = files.iter().map(|f| (f.clone(), st(round))).collect();
            w.append(&batch);
        }
        let (live, lines) = read_log(d);
        assert_eq!(live.len(), 10);
        assert!(live.values().all(|s| s.serial == 399));
        assert!(
            lines <= 10 + MIN_SLACK + 10,
            "{lines} lines: never rewritten"
        );
        let left: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [OsString::from(LOG_NAME)], "no temporary file left");
    }
}
