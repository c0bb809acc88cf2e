//! What a broker's disk holds for its recovery when its process starts after a crash, read by
//! the harness before the process runs (`RecoveryInputs`): the checkpoint's timestamps and the
//! first record's store timestamp of each CommitLog file. From them the checker works out
//! where 4.9.8's abnormal recovery must begin, and compares it with where the broker did.

use crate::disk::DiskState;
use crate::history::SimEvent;
use model::broker::store::{checkpoint, commit_log, record};

/// The inputs of an abnormal recovery, if the disk holds a CommitLog and the abort file (the
/// last stop was a crash).
pub fn inputs(disk: &DiskState) -> Option<SimEvent> {
    disk.file(model::broker::store::ABORT_PATH)?;
    let cp = disk
        .file(checkpoint::PATH)
        .map(|f| f.read(0, 16).into_owned());
    let long = |at: usize| -> u64 {
        let bytes = cp.as_ref().and_then(|cp| cp.get(at..at + 8));
        bytes.map_or(0, |b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
    };
    let (physic_ms, logics_ms) = (long(0), long(8));
    let files: Vec<(u64, u64)> = disk
        .files_in(commit_log::DIR)
        .filter_map(|(path, file)| {
            let from = path.rsplit('/').next()?.parse::<u64>().ok()?;
            let first = record::store_timestamp(&file.read(0, 64)).unwrap_or(0);
            Some((from, first))
        })
        .collect();
    if files.is_empty() {
        return None;
    }
    Some(SimEvent::RecoveryInputs {
        physic_ms,
        logics_ms,
        files,
    })
}
