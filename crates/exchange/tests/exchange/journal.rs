//! The journal on disk: group commit, reopening, a torn last frame cut, damage refused.

use std::io::Write;

use zklink_exchange::journal::Journal;

use crate::{order, Script};

#[test]
fn entries_survive_reopening_and_a_torn_last_frame_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.bin");
    let mut s = Script::start();
    s.place(order(1, 1, 0, true, 100, 300_000));
    s.place(order(2, 1, 0, false, 100, 300_000));
    let (mut j, none, _) = Journal::open(&path).unwrap();
    assert!(none.is_empty());
    let offsets = j.append(&s.entries).unwrap();
    assert_eq!(offsets.len(), s.entries.len());
    drop(j);
    // A crash in the middle of the next write.
    let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, b'{']).unwrap();
    drop(f);
    let (j, back, offsets2) = Journal::open(&path).unwrap();
    assert_eq!(back, s.entries);
    assert_eq!(offsets2, offsets);
    assert_eq!(Journal::read_from(&path, offsets[2], 10).unwrap(), s.entries[2..].to_vec());
    drop(j);
    // Damage before the end is an error, not a silent skip.
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[offsets[1] as usize + 12] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = Journal::open(&path).unwrap_err().to_string();
    assert!(err.contains("damaged"), "{err}");
}
