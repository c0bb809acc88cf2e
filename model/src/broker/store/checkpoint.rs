//! The store checkpoint (`StoreCheckpoint`): the store timestamps of the last flushed commitlog
//! record and of the last dispatched ConsumeQueue entry. Abnormal recovery re-dispatches from
//! the newest commitlog file older than both (minus 3 s). Kept in memory and written, then
//! forced, only on the thorough ConsumeQueue flush (every 60 s).

use crate::disk::{Disk, FlushId};

pub const PATH: &str = "store/checkpoint";
const FILE_BYTES: u64 = 4096;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Checkpoint {
    pub physic_msg_timestamp_ms: u64,
    pub logics_msg_timestamp_ms: u64,
    pub index_msg_timestamp_ms: u64,
}

impl Checkpoint {
    /// Reads the checkpoint, creating the file if there is none.
    pub fn load(disk: &mut dyn Disk) -> Checkpoint {
        if disk.len(PATH).is_none() {
            disk.create(PATH, FILE_BYTES);
            return Checkpoint::default();
        }
        let bytes = disk.read(PATH, 0, 24);
        let field = |at: usize| {
            bytes
                .get(at..at + 8)
                .map_or(0, |b| u64::from_be_bytes(b.try_into().expect("8 bytes")))
        };
        Checkpoint {
            physic_msg_timestamp_ms: field(0),
            logics_msg_timestamp_ms: field(8),
            index_msg_timestamp_ms: field(16),
        }
    }

    /// `getMinTimestamp`: the older of the two, less 3 s.
    pub fn min_timestamp_ms(&self) -> u64 {
        self.physic_msg_timestamp_ms
            .min(self.logics_msg_timestamp_ms)
            .saturating_sub(3_000)
    }

    /// Writes the fields and forces the file (`flush`).
    pub fn flush(&self, disk: &mut dyn Disk) -> FlushId {
        let mut bytes = [0u8; 24];
        bytes[..8].copy_from_slice(&self.physic_msg_timestamp_ms.to_be_bytes());
        bytes[8..16].copy_from_slice(&self.logics_msg_timestamp_ms.to_be_bytes());
        bytes[16..].copy_from_slice(&self.index_msg_timestamp_ms.to_be_bytes());
        disk.write(PATH, 0, &bytes);
        disk.flush(PATH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    #[test]
    fn round_trips_and_subtracts_three_seconds() {
        let mut disk = MemDisk::new();
        assert_eq!(Checkpoint::load(&mut disk), Checkpoint::default());
        let checkpoint = Checkpoint {
            physic_msg_timestamp_ms: 10_000,
            logics_msg_timestamp_ms: 9_000,
            index_msg_timestamp_ms: 0,
        };
        checkpoint.flush(&mut disk);
        assert_eq!(Checkpoint::load(&mut disk), checkpoint);
        assert_eq!(checkpoint.min_timestamp_ms(), 6_000);
    }
}
