//! A secondary's copy on disk: the zone file, written atomically after
//! each transfer, and a small state file with the serial and the expire
//! deadline, so that EXPIRE keeps counting across restarts; and the
//! writer thread that does it.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use super::secondary::PersistRequest;
use crate::zone::Snapshot;
use crate::zone::text::write_zone_file;

/// What survives a restart besides the zone itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedState {
    pub serial: u32,
    /// Last successful refresh, Unix seconds.
    pub refreshed_at: u64,
    /// When the copy expires, Unix seconds.
    pub expires_at: u64,
}

/// The state file that goes with a zone file.
pub fn state_path(zone_file: &Path) -> PathBuf {
    let mut p = zone_file.as_os_str().to_owned();
    p.push(".state");
    PathBuf::from(p)
}

/// Writes `path` through a temporary file in the same directory: write,
/// fsync, rename, fsync the directory. A crash leaves the old file or the
/// new one, never half of one.
fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<&std::fs::File>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let f = std::fs::File::create(&tmp)?;
        {
            let mut w = io::BufWriter::new(&f);
            fill(&mut w)?;
            w.flush()?;
        }
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Saves the zone in zone-file format.
pub fn save_zone(path: &Path, snapshot: &Snapshot) -> io::Result<()> {
    let header = format!(
        "zone {} serial {}, written by zonecast after a transfer",
        snapshot.apex(),
        snapshot.serial()
    );
    write_atomically(path, |w| write_zone_file(w, &header, snapshot.records()))
}

pub fn save_state(zone_file: &Path, state: &SavedState) -> io::Result<()> {
    let text = toml::to_string(state).map_err(io::Error::other)?;
    write_atomically(&state_path(zone_file), |w| w.write_all(text.as_bytes()))
}

/// The saved state, if there is a readable one.
pub fn load_state(zone_file: &Path) -> Option<SavedState> {
    let text = std::fs::read_to_string(state_path(zone_file)).ok()?;
    toml::from_str(&text).ok()
}

/// The persistence writer: its own thread, so that writing and fsyncing
/// copies never holds a transfer. Requests wait by zone file, the newest
/// replacing an older one (a new version replaces a version not yet
/// written; a refresh that only moved the timers keeps the version
/// waiting), and each wakeup writes everything waiting.
pub struct Persister {
    shared: Arc<(Mutex<Pending>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Pending {
    requests: HashMap<PathBuf, PersistRequest>,
    stop: bool,
}

impl Persister {
    pub fn start() -> io::Result<Persister> {
        let shared = Arc::new((Mutex::new(Pending::default()), Condvar::new()));
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("persist".into())
            .spawn(move || write_loop(&theirs))?;
        Ok(Persister {
            shared,
            thread: Some(thread),
        })
    }

    /// Queues a copy to write; never waits for the disk.
    pub fn submit(&self, req: PersistRequest) {
        let (lock, wake) = &*self.shared;
        let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
        match p.requests.entry(req.file.clone()) {
            Entry::Occupied(mut o) => {
                let older = o.get_mut();
                let snapshot = req.snapshot.or_else(|| older.snapshot.take());
                *older = PersistRequest { snapshot, ..req };
            }
            Entry::Vacant(v) => {
                v.insert(req);
            }
        }
        wake.notify_one();
    }

    /// Writes what is waiting, then ends the thread.
    pub fn stop(mut self) {
        self.finish();
    }

    fn finish(&mut self) {
        {
            let (lock, wake) = &*self.shared;
            lock.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
            wake.notify_one();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Persister {
    fn drop(&mut self) {
        self.finish();
    }
}

fn write_loop(shared: &(Mutex<Pending>, Condvar)) {
    let (lock, wake) = shared;
    loop {
        let (batch, stop) = {
            let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
            while p.requests.is_empty() && !p.stop {
                p = wake.wait(p).unwrap_or_else(|e| e.into_inner());
            }
            (std::mem::take(&mut p.requests), p.stop)
        };
        for req in batch.into_values() {
            write(&req);
        }
        if stop {
            return;
        }
    }
}

/// Writes one copy: the zone file when the request holds a new version,
/// then the state file.
fn write(req: &PersistRequest) {
    if let Some(s) = &req.snapshot {
        let started = std::time::Instant::now();
        if let Err(err) = save_zone(&req.file, s) {
            tracing::error!("[{}] cannot write {}: {err}", req.apex, req.file.display());
            return;
        }
        tracing::debug!(
            "[{}] wrote serial {} to {} in {:.1} ms",
            req.apex,
            s.serial(),
            req.file.display(),
            started.elapsed().as_secs_f64() * 1e3
        );
    }
    if let Err(err) = save_state(&req.file, &req.state) {
        tracing::error!(
            "[{}] cannot write the state of {}: {err}",
            req.apex,
            req.file.display()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;
    use crate::zone::load_zone_file;

    #[test]
    fn zone_and_state_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let apex = parse_name_text("example.com.", None).unwrap();
        let text = "$TTL 60\n@ SOA ns hm 9 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nt TXT \"a b\" \"\\\"q\\\"\"\n";
        let snap = crate::zone::load_zone_text(text.as_bytes(), "t", &apex)
            .unwrap()
            .snapshot;
        let path = dir.path().join("sub/example.com.zone");
        save_zone(&path, &snap).unwrap();
        let back = load_zone_file(&path, &apex).unwrap().snapshot;
        assert_eq!(back.serial(), 9);
        let a: Vec<_> = snap
            .records()
            .map(|(o, t, ty, r)| (o.to_vec(), t, ty, r.to_vec()))
            .collect();
        let b: Vec<_> = back
            .records()
            .map(|(o, t, ty, r)| (o.to_vec(), t, ty, r.to_vec()))
            .collect();
        assert_eq!(a, b);
        let st = SavedState {
            serial: 9,
            refreshed_at: 100,
            expires_at: 200,
        };
        save_state(&path, &st).unwrap();
        assert_eq!(load_state(&path), Some(st));
        assert_eq!(load_state(&dir.path().join("missing.zone")), None);
        // No temporary files left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }
}
