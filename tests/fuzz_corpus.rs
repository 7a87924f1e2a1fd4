//! Replays every fuzz target's checked-in corpus and every input that
//! once crashed it, through the same checks the fuzzer runs, so that a
//! regression fails `cargo test` without libFuzzer.

#[path = "../fuzz/harness/mod.rs"]
mod harness;

use std::fs;
use std::path::Path;

/// Runs `check` on every file under fuzz/corpus/<target> and
/// fuzz/regressions/<target>; returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths {
            let data = fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its checks", path.display());
            count += 1;
        }
    }
    count
}

#[test]
fn message_corpus() {
    assert!(replay("message", harness::message) >= 10);
}

#[test]
fn respond_corpus() {
    assert!(replay("respond", harness::respond) >= 10);
}

#[test]
fn zone_file_corpus() {
    assert!(replay("zone_file", harness::zone_file) >= 3);
}

#[test]
fn transfer_corpus() {
    assert!(replay("transfer", harness::transfer) >= 3);
}

#[test]
fn tsig_corpus() {
    assert!(replay("tsig", harness::tsig) >= 3);
}
