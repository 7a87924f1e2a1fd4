//! A secondary's copy on disk: the zone file, written atomically after
//! each transfer, and a line in its directory's timer log
//! ([`super::timers_log`]) with the serial, the last refresh and the
//! expire deadline, so that timers keep counting across restarts; and the
//! writer thread that does it, in batches.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use super::secondary::PersistRequest;
use super::timers_log::{LogEntry, LogWriter, dir_of};
use crate::zone::Snapshot;
use crate::zone::journal::Journal;
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

/// The state file older versions wrote beside a zone file: read when the
/// timer log has no line for it, deleted with the zone.
pub fn state_path(zone_file: &Path) -> PathBuf {
    let mut p = zone_file.as_os_str().to_owned();
    p.push(".state");
    PathBuf::from(p)
}

/// The journal file beside a zone's copy: the changes that led to the
/// copy's version ([`crate::zone::journal`]), for IXFR out after a
/// restart.
pub fn journal_path(zone_file: &Path) -> PathBuf {
    let mut p = zone_file.as_os_str().to_owned();
    p.push(".journal");
    PathBuf::from(p)
}

/// The journal kept beside the copy of serial `serial`, if there is one
/// that leads to it; a journal that does not is an error, and the copy
/// is served without one (clients behind get the zone AXFR-style).
pub fn load_journal(zone_file: &Path, serial: u32) -> Result<Option<Arc<Journal>>, String> {
    let path = journal_path(zone_file);
    let file = match std::fs::read(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    match Journal::decode(&file, serial) {
        Ok(j) if j.depth() == 0 => Ok(None),
        Ok(j) => Ok(Some(Arc::new(j))),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// A file written beside the one it will replace (and closed: a batch
/// may hold tens of thousands), not yet made durable nor renamed over it.
struct Written {
    tmp: PathBuf,
    path: PathBuf,
}

/// Writes the new content of `path` to a temporary file in the same
/// directory.
fn write_beside(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<&std::fs::File>) -> io::Result<()>,
) -> io::Result<Written> {
    let dir = dir_of(path);
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("no file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = io::BufWriter::new(&file);
        fill(&mut w)?;
        w.flush()
    })();
    match result {
        Ok(()) => Ok(Written {
            tmp,
            path: path.to_path_buf(),
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Makes the files written durable, renames each over the file it
/// replaces, and makes the renames durable: a crash leaves the old file
/// or the new one, never half of one. On Linux one `syncfs` covers the
/// whole batch (thousands of small zones arrive at once at a first sync;
/// an fsync for each cost more than the transfers), then one fsync per
/// directory covers the renames.
fn commit(batch: Vec<Written>) -> Vec<(PathBuf, io::Result<()>)> {
    let synced = sync_all_at_once(&batch);
    let mut dirs: Vec<PathBuf> = Vec::new();
    let mut results = Vec::with_capacity(batch.len());
    for w in batch {
        let r = (|| {
            if !synced {
                std::fs::File::open(&w.tmp)?.sync_all()?;
            }
            std::fs::rename(&w.tmp, &w.path)
        })();
        if r.is_err() {
            let _ = std::fs::remove_file(&w.tmp);
        }
        let dir = dir_of(&w.path).to_path_buf();
        if r.is_ok() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
        results.push((w.path, r));
    }
    for d in dirs {
        if let Err(e) = std::fs::File::open(&d).and_then(|f| f.sync_all()) {
            tracing::error!("cannot sync directory {}: {e}", d.display());
        }
    }
    results
}

/// One `syncfs` for every file of `batch`, when they share a filesystem;
/// whether that was done.
fn sync_all_at_once(batch: &[Written]) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let Some(first) = batch.first() else {
            return true;
        };
        let dev = |w: &Written| std::fs::metadata(&w.tmp).map(|m| m.dev()).ok();
        let same = dev(first).is_some() && batch.iter().all(|w| dev(w) == dev(first));
        let Ok(f) = std::fs::File::open(&first.tmp) else {
            return false;
        };
        // SAFETY: syncfs takes a descriptor `f` owns for the whole call;
        // it touches no memory of ours.
        same && unsafe { libc::syncfs(f.as_raw_fd()) } == 0
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = batch;
        false
    }
}

/// Writes `path` atomically and durably, alone.
fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<&std::fs::File>) -> io::Result<()>,
) -> io::Result<()> {
    let w = write_beside(path, fill)?;
    commit(vec![w]).pop().map_or(Ok(()), |(_, r)| r)
}

fn zone_text(w: &mut impl Write, snapshot: &Snapshot) -> io::Result<()> {
    let header = format!(
        "zone {} serial {}, written by zonecast after a transfer",
        snapshot.apex(),
        snapshot.serial()
    );
    write_zone_file(w, &header, snapshot.records())
}

/// Saves the zone in zone-file format.
pub fn save_zone(path: &Path, snapshot: &Snapshot) -> io::Result<()> {
    write_atomically(path, |w| zone_text(w, snapshot))
}

/// The state file of an older version, if there is a readable one.
pub fn load_legacy_state(zone_file: &Path) -> Option<SavedState> {
    let text = std::fs::read_to_string(state_path(zone_file)).ok()?;
    toml::from_str(&text).ok()
}

/// The persistence writer: its own thread, so that writing and syncing
/// copies never holds a transfer. Requests wait by zone file, the newest
/// replacing an older one (a new version replaces a version not yet
/// written; a refresh that only moved the timers keeps the version
/// waiting), and each wakeup writes everything waiting as one batch.
pub struct Persister {
    shared: Arc<(Mutex<Pending>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Pending {
    requests: HashMap<Arc<Path>, PersistRequest>,
    /// Other files to replace whole (a catalog's members), the newest
    /// text of each.
    files: HashMap<PathBuf, Vec<u8>>,
    /// Zone files to delete, with their state files.
    deletes: Vec<Arc<Path>>,
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
        p.deletes.retain(|f| *f != req.file);
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

    /// Queues `text` to replace the file at `path`, as atomically and
    /// durably as a copy.
    pub fn write_file(&self, path: PathBuf, text: Vec<u8>) {
        let (lock, wake) = &*self.shared;
        let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
        p.deletes.retain(|f| **f != *path);
        p.files.insert(path, text);
        wake.notify_one();
    }

    /// Deletes a zone's copy and state (a zone taken out of the
    /// configuration); a write still waiting for it is dropped.
    pub fn forget(&self, file: Arc<Path>) {
        let (lock, wake) = &*self.shared;
        let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
        p.requests.remove(&file);
        p.files.remove(&*file);
        p.deletes.push(file);
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

/// Copies in a batch after which the allocator's free pages are given
/// back.
const TRIM_AFTER: usize = 256;

fn write_loop(shared: &(Mutex<Pending>, Condvar)) {
    let (lock, wake) = shared;
    lower_priority();
    let mut log = LogWriter::default();
    loop {
        let (batch, files, deletes, stop) = {
            let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
            while p.requests.is_empty() && p.files.is_empty() && p.deletes.is_empty() && !p.stop {
                p = wake.wait(p).unwrap_or_else(|e| e.into_inner());
            }
            (
                std::mem::take(&mut p.requests),
                std::mem::take(&mut p.files),
                std::mem::take(&mut p.deletes),
                p.stop,
            )
        };
        let mut gone = Vec::with_capacity(deletes.len());
        for file in deletes {
            for f in [state_path(&file), journal_path(&file), file.to_path_buf()] {
                match std::fs::remove_file(&f) {
                    Ok(()) => tracing::debug!("deleted {}", f.display()),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => tracing::error!("cannot delete {}: {e}", f.display()),
                }
            }
            gone.push((file, LogEntry::Deleted));
        }
        log.append(&gone);
        let big = batch.len() >= TRIM_AFTER;
        write_batch(batch.into_values().collect(), &mut log);
        write_files(files);
        // Writing a big batch left its text buffers free between the
        // versions it wrote: give the pages back (at a first sync of
        // 10,000 zones they are megabytes).
        if big {
            crate::memory::release_free_memory();
        }
        if stop {
            return;
        }
    }
}

/// Replaces each file with its text, made durable together.
fn write_files(files: HashMap<PathBuf, Vec<u8>>) {
    let mut written = Vec::with_capacity(files.len());
    for (path, text) in files {
        match write_beside(&path, |w| w.write_all(&text)) {
            Ok(w) => written.push(w),
            Err(e) => tracing::error!("cannot write {}: {e}", path.display()),
        }
    }
    for (path, r) in commit(written) {
        if let Err(e) = r {
            tracing::error!("cannot write {}: {e}", path.display());
        }
    }
}

/// Puts this thread last in line for the CPU and the disk (nice 19, the
/// lowest best-effort I/O priority): copies are written behind the
/// transfers, so on a busy node (a first sync of 10,000 zones) writing
/// them does not slow a transfer or an answer. Not the idle I/O class: on
/// a disk that is never idle that would never write them. Best effort: a
/// refusal leaves the thread as it was.
fn lower_priority() {
    // SAFETY: plain system calls on this thread's own id, with no
    // pointers.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
        // ioprio_set(IOPRIO_WHO_PROCESS = 1, tid, IOPRIO_CLASS_BE << 13 | 7)
        libc::syscall(libc::SYS_ioprio_set, 1, tid, (2 << 13) | 7);
    }
}

/// Writes a batch of copies: each zone file that has a new version, made
/// durable together, then the timers of each in the log (a state names
/// the serial of its file: only once that file is in place).
fn write_batch(batch: Vec<PersistRequest>, log: &mut LogWriter) {
    if batch.is_empty() {
        return;
    }
    let started = std::time::Instant::now();
    let mut files = Vec::with_capacity(batch.len());
    let mut failed = std::collections::HashSet::new();
    // Journals of versions taken whole: the changes before no longer
    // lead to the copy.
    let mut stale_journals = Vec::new();
    for req in &batch {
        if let Some(s) = &req.snapshot {
            match write_beside(&req.file, |w| zone_text(w, s)) {
                Ok(w) => files.push(w),
                Err(err) => {
                    tracing::error!("[{}] cannot write {}: {err}", req.apex, req.file.display());
                    failed.insert(req.file.to_path_buf());
                    continue;
                }
            }
            let path = journal_path(&req.file);
            match s.journal() {
                // A loaded copy checks that its journal ends at its
                // serial: a crash between the two renames loses the
                // journal, never serves a wrong one.
                Some(j) => match write_beside(&path, |w| w.write_all(&j.encode())) {
                    Ok(w) => files.push(w),
                    Err(err) => {
                        tracing::error!("[{}] cannot write {}: {err}", req.apex, path.display());
                        stale_journals.push(path);
                    }
                },
                None => stale_journals.push(path),
            }
        }
    }
    let mut written = std::collections::HashSet::new();
    for (path, r) in commit(files) {
        match r {
            Ok(()) => {
                written.insert(path);
            }
            Err(err) => {
                tracing::error!("cannot write {}: {err}", path.display());
                failed.insert(path);
            }
        }
    }
    for path in stale_journals {
        match std::fs::remove_file(&path) {
            Ok(()) => tracing::debug!("deleted {}", path.display()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => tracing::error!("cannot delete {}: {e}", path.display()),
        }
    }
    let states: Vec<(Arc<Path>, LogEntry)> = batch
        .iter()
        .filter(|r| !failed.contains(&*r.file))
        .map(|r| (r.file.clone(), LogEntry::State(r.state)))
        .collect();
    log.append(&states);
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    for req in &batch {
        if let Some(s) = &req.snapshot
            && written.contains(&*req.file)
        {
            tracing::debug!(
                "[{}] wrote serial {} to {} in {:.1} ms (a batch of {})",
                req.apex,
                s.serial(),
                req.file.display(),
                started.elapsed().as_secs_f64() * 1e3,
                batch.len()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::name::parse_name_text;
    use crate::xfr::timers_log::StateIndex;
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
        LogWriter::default().append(&[(path.clone(), LogEntry::State(st))]);
        let idx = StateIndex::for_files([path.as_path()]);
        assert_eq!(idx.get(&path), Some(st));
        assert_eq!(idx.get(&dir.path().join("missing.zone")), None);
        // No temporary files left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    /// A version with a journal is written with it; the journal reads
    /// back for that copy only, and goes when a version taken whole
    /// replaces the copy.
    #[test]
    fn the_journal_goes_to_disk_with_its_copy() {
        use crate::zone::journal::{Change, Journal, JournalLimits};
        let dir = tempfile::tempdir().unwrap();
        let apex = parse_name_text("example.com.", None).unwrap();
        let zone = |serial: u32, a: u8| {
            let text =
                format!("$TTL 60\n@ SOA ns hm {serial} 2 3 4 5\n@ NS ns\nns A 192.0.2.{a}\n");
            crate::zone::load_zone_text(text.as_bytes(), "t", &apex)
                .unwrap()
                .snapshot
        };
        let rr = |text: &str| {
            let text = format!("$TTL 60\n{text}");
            crate::zone::text::ZoneFileReader::new(text.as_bytes(), "t", apex.clone())
                .next_record()
                .unwrap()
                .unwrap()
        };
        let diff = crate::zone::Diff {
            old_soa: rr("@ SOA ns hm 1 2 3 4 5"),
            removed: vec![rr("ns A 192.0.2.1")],
            new_soa: rr("@ SOA ns hm 2 2 3 4 5"),
            added: vec![rr("ns A 192.0.2.2")],
        };
        let limits = JournalLimits {
            max_depth: 5,
            max_usage: 1 << 16,
        };
        let journal = Journal::extended(None, [Change::from_diff(&diff)], limits);
        let v2 = zone(2, 2).with_journal(journal.clone());
        assert!(v2.journal().is_some());
        let file: Arc<Path> = dir.path().join("example.com.zone").into();
        let request = |snapshot: Snapshot| PersistRequest {
            apex: apex.clone(),
            file: file.clone(),
            state: SavedState {
                serial: snapshot.serial(),
                refreshed_at: 1,
                expires_at: 2,
            },
            snapshot: Some(Arc::new(snapshot)),
        };
        let p = Persister::start().unwrap();
        p.submit(request(v2));
        p.stop();
        assert_eq!(load_journal(&file, 2).unwrap(), journal);
        let wrong = load_journal(&file, 3).unwrap_err();
        assert!(
            wrong.contains("journal ends at serial 2, the copy is at 3"),
            "{wrong}"
        );
        // A version taken whole: no journal beside it any more.
        let p = Persister::start().unwrap();
        p.submit(request(zone(7, 9)));
        p.stop();
        assert!(!journal_path(&file).exists());
        assert_eq!(load_journal(&file, 7).unwrap(), None);
        // A damaged journal is an error, not a crash.
        std::fs::write(journal_path(&file), b"zcjrnl\x00\x01\x00\x00").unwrap();
        assert!(load_journal(&file, 7).is_err());
    }

    /// A batch larger than the open-file limit is written whole: files
    /// are closed as they are written, and made durable together.
    #[test]
    fn a_batch_of_thousands_of_zones_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = Persister::start().unwrap();
        // Two files a zone: more than this process may hold open at once.
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes the struct it is given.
        assert_eq!(
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
            0
        );
        let n = (limit.rlim_cur as usize / 2 + 64).clamp(1000, 40_000);
        let mut files = Vec::new();
        for i in 0..n {
            let apex = parse_name_text(&format!("z{i}.example."), None).unwrap();
            let text = format!("$TTL 60\n@ SOA ns hm {i} 2 3 4 5\n@ NS ns\n");
            let snap = crate::zone::load_zone_text(text.as_bytes(), "t", &apex)
                .unwrap()
                .snapshot;
            let file = dir.path().join(format!("z{i}.zone"));
            files.push((file.clone(), apex.clone(), i as u32));
            p.submit(PersistRequest {
                apex,
                file: file.into(),
                snapshot: Some(Arc::new(snap)),
                state: SavedState {
                    serial: i as u32,
                    refreshed_at: 1,
                    expires_at: 2,
                },
            });
        }
        // A zone taken out before its write is not written at all.
        p.forget(files[7].0.clone().into());
        p.stop();
        let states = StateIndex::for_files(files.iter().map(|f| f.0.as_path()));
        for (k, (file, apex, serial)) in files.iter().enumerate() {
            if k == 7 {
                assert!(!file.exists() && !state_path(file).exists());
                continue;
            }
            let back = load_zone_file(file, apex).unwrap().snapshot;
            assert_eq!(back.serial(), *serial);
            assert_eq!(states.get(file).map(|s| s.serial), Some(*serial));
        }
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".z")
                    && e.as_ref().unwrap().file_name() != crate::xfr::timers_log::LOG_NAME
            })
            .count();
        assert_eq!(leftovers, 0, "no temporary file left");
    }
}
