//! The venue's write-ahead journal: an append-only file of [`Entry`]s, each framed as
//! `len u32 LE ‖ crc32 u32 LE ‖ JSON`. [`Journal::append`] writes a group of entries and syncs
//! the file once (group commit); nothing is acknowledged before it returns.
//!
//! Opening reads every complete frame. A torn last frame (the process died while writing it, so
//! it was never acknowledged) is cut off; a bad frame followed by more data is corruption and an
//! error, never silently skipped.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::input::Entry;

/// Why the journal cannot be read or written.
#[derive(thiserror::Error, Debug)]
pub enum JournalIoError {
    /// The file could not be opened, read, written or synced.
    #[error("journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A frame in the middle of the file is damaged.
    #[error("journal {path}: frame at byte {offset} is damaged ({what}) and more data follows; refusing to guess")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// An entry could not be encoded.
    #[error("journal entry {index}: {source}")]
    Encode {
        /// The entry.
        index: u64,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// The open journal, positioned at its end.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
    /// Entries in the file.
    len: u64,
    /// Where the next frame starts.
    end: u64,
}

const HEADER: usize = 8;

/// The little-endian u32 in the first 4 bytes of `b` (callers pass 4-byte slices of a header).
fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

impl Journal {
    /// Opens (or creates) the journal at `path` and returns it with every entry it holds and the
    /// byte offset of each entry's frame.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Entry>, Vec<u64>), JournalIoError> {
        let io = |source| JournalIoError::Io { path: path.to_path_buf(), source };
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path).map_err(io)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let mut entries = Vec::new();
        let mut offsets = Vec::new();
        let mut at = 0usize;
        while at < bytes.len() {
            let corrupt = |what: String| JournalIoError::Corrupt { path: path.to_path_buf(), offset: at as u64, what };
            let rest = &bytes[at..];
            if rest.len() < HEADER {
                break; // torn header
            }
            let (len, crc) = (le_u32(&rest[0..4]) as usize, le_u32(&rest[4..8]));
            if rest.len() < HEADER + len {
                break; // torn payload
            }
            let payload = &rest[HEADER..HEADER + len];
            let last = at + HEADER + len == bytes.len();
            if crc32fast::hash(payload) != crc {
                if last {
                    break; // a torn write of the last frame
                }
                return Err(corrupt("checksum mismatch".into()));
            }
            let entry: Entry = serde_json::from_slice(payload).map_err(|e| corrupt(e.to_string()))?;
            entries.push(entry);
            offsets.push(at as u64);
            at += HEADER + len;
        }
        if at < bytes.len() {
            tracing::warn!(path = %path.display(), cut = bytes.len() - at, "journal: cutting a torn last frame");
            file.set_len(at as u64).map_err(io)?;
            file.sync_data().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        let len = entries.len() as u64;
        Ok((Journal { path: path.to_path_buf(), file, buf: Vec::new(), len, end: at as u64 }, entries, offsets))
    }

    /// Appends `entries` and syncs the file once: when this returns `Ok`, they survive a crash.
    /// Returns the byte offset of each new frame.
    pub fn append(&mut self, entries: &[Entry]) -> Result<Vec<u64>, JournalIoError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.buf.clear();
        let mut offsets = Vec::with_capacity(entries.len());
        for e in entries {
            let at = self.buf.len();
            offsets.push(self.end + at as u64);
            self.buf.extend_from_slice(&[0; HEADER]);
            serde_json::to_writer(&mut self.buf, e)
                .map_err(|source| JournalIoError::Encode { index: e.index, source })?;
            let payload_len = self.buf.len() - at - HEADER;
            let crc = crc32fast::hash(&self.buf[at + HEADER..]);
            self.buf[at..at + 4].copy_from_slice(&(payload_len as u32).to_le_bytes());
            self.buf[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
        }
        let io = |source| JournalIoError::Io { path: self.path.clone(), source };
        self.file.write_all(&self.buf).map_err(io)?;
        self.file.sync_data().map_err(io)?;
        self.len += entries.len() as u64;
        self.end += self.buf.len() as u64;
        Ok(offsets)
    }

    /// Reads up to `limit` entries starting at the frame at byte `offset` of the journal at
    /// `path` (a reader beside the writer: frames before the writer's last sync are complete).
    pub fn read_from(path: &Path, offset: u64, limit: usize) -> Result<Vec<Entry>, JournalIoError> {
        let io = |source| JournalIoError::Io { path: path.to_path_buf(), source };
        let mut file = File::open(path).map_err(io)?;
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut reader = std::io::BufReader::new(file);
        let mut out = Vec::with_capacity(limit.min(1024));
        let mut header = [0u8; HEADER];
        while out.len() < limit {
            match reader.read_exact(&mut header) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(io(e)),
            }
            let len = le_u32(&header[0..4]) as usize;
            let mut payload = vec![0u8; len];
            match reader.read_exact(&mut payload) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
                Err(e) => return Err(io(e)),
            }
            let entry: Entry = serde_json::from_slice(&payload).map_err(|e| JournalIoError::Corrupt {
                path: path.to_path_buf(),
                offset,
                what: e.to_string(),
            })?;
            out.push(entry);
        }
        Ok(out)
    }

    /// Entries written.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
