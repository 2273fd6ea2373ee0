//! The agent's durable journal: one JSON line per entry, fsync'd before the
//! entry is acted on or reported, hash-chained, and kept until the server
//! acknowledges it.
//!
//! A torn last line (power lost mid-write) is cut off at start; any other
//! damage, or a chain that does not verify, refuses to start: the agent must
//! not run on a journal someone edited.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use cubby_protocol::Millis;
use cubby_protocol::journal::{EdgeEvent, GENESIS, JournalEntry, verify_continuation};

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal io: {0}")]
    Io(#[from] std::io::Error),
    #[error("journal {path} is damaged at line {line}; refusing to start")]
    Damaged { path: String, line: usize },
    #[error("journal chain does not verify: {0}")]
    Chain(String),
}

pub struct Journal {
    file: File,
    acked_path: PathBuf,
    entries: Vec<JournalEntry>,
    acked: u64,
}

impl Journal {
    pub fn open(dir: &Path) -> Result<Journal, JournalError> {
        fs::create_dir_all(dir)?;
        let path = dir.join("journal.jsonl");
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let mut entries = Vec::new();
        let mut good_len: u64 = 0;
        let mut lines: Vec<(String, bool)> = Vec::new();
        {
            let mut reader = BufReader::new(&file);
            loop {
                let mut line = String::new();
                let n = reader.read_line(&mut line)?;
                if n == 0 {
                    break;
                }
                let complete = line.ends_with('\n');
                lines.push((line, complete));
            }
        }
        let count = lines.len();
        for (i, (line, complete)) in lines.into_iter().enumerate() {
            match serde_json::from_str::<JournalEntry>(line.trim_end()) {
                Ok(e) if complete => {
                    good_len += line.len() as u64;
                    entries.push(e);
                }
                _ if i + 1 == count => {
                    // The last write was torn by a power loss: it was never
                    // acted on (acting waits for the fsync), so drop it.
                    tracing::warn!("dropping a torn last journal line");
                    file.set_len(good_len)?;
                    file.sync_all()?;
                }
                _ => {
                    return Err(JournalError::Damaged {
                        path: path.display().to_string(),
                        line: i + 1,
                    });
                }
            }
        }
        verify_continuation(0, GENESIS, &entries)
            .map_err(|e| JournalError::Chain(e.to_string()))?;
        file.seek(SeekFrom::End(0))?;
        let acked_path = dir.join("journal.acked");
        let head = entries.last().map(|e| e.seq).unwrap_or(0);
        let acked = fs::read_to_string(&acked_path)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(0)
            .min(head);
        Ok(Journal {
            file,
            acked_path,
            entries,
            acked,
        })
    }

    pub fn head(&self) -> u64 {
        self.entries.last().map(|e| e.seq).unwrap_or(0)
    }

    pub fn acked(&self) -> u64 {
        self.acked
    }

    pub fn entries(&self) -> &[JournalEntry] {
        &self.entries
    }

    /// Entries the server has not acknowledged, oldest first, at most `max`.
    pub fn unacked(&self, max: usize) -> &[JournalEntry] {
        let start = self.entries.partition_point(|e| e.seq <= self.acked);
        let end = (start + max).min(self.entries.len());
        &self.entries[start..end]
    }

    /// Appends and fsyncs one entry; returns it once it is on disk.
    pub fn append(
        &mut self,
        at_ms: Millis,
        event: EdgeEvent,
    ) -> Result<JournalEntry, JournalError> {
        let prev = self
            .entries
            .last()
            .map(|e| e.hash.clone())
            .unwrap_or_else(|| GENESIS.to_string());
        let entry = JournalEntry::next(&prev, self.head() + 1, at_ms, event);
        let mut line = serde_json::to_string(&entry).unwrap_or_default();
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()?;
        self.entries.push(entry.clone());
        Ok(entry)
    }

    /// Records the server's acknowledgement (atomically, durably).
    pub fn set_acked(&mut self, up_to: u64) -> Result<(), JournalError> {
        let up_to = up_to.min(self.head());
        if up_to <= self.acked {
            return Ok(());
        }
        let tmp = self.acked_path.with_extension("tmp");
        {
            let mut f = File::create(&tmp)?;
            f.write_all(up_to.to_string().as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &self.acked_path)?;
        self.acked = up_to;
        Ok(())
    }

    /// Resets the upload cursor (the server asked for a resend from here).
    pub fn rewind(&mut self, from_seq: u64) {
        self.acked = self.acked.min(from_seq.saturating_sub(1));
    }
}
