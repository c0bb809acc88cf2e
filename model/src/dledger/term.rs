//! The term and vote file (`MemberState.persistTerm`): `currTerm` and `voteLeader`, written
//! to a temporary file and renamed over `currterm` on every term bump and granted vote, and
//! never fsynced (`IOUtils.string2File`). What the disk does not keep across a power loss is
//! gone: a node can come back with an older term, or without the vote it granted.

use crate::disk::Disk;

/// What a node persisted of its election state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TermFile {
    pub term: u64,
    /// The peer it voted for in `term`, if any.
    pub voted_for: Option<String>,
}

impl TermFile {
    fn path(dir: &str) -> String {
        format!("{dir}/currterm")
    }

    /// Writes it, with no fsync: only the page cache holds it until the OS writes it back.
    pub fn store(&self, disk: &mut dyn Disk, dir: &str) {
        let text = format!(
            "currTerm={}\nvoteLeader={}\n",
            self.term,
            self.voted_for.as_deref().unwrap_or("")
        );
        let path = TermFile::path(dir);
        disk.create(&path, 0);
        disk.truncate(&path, 0);
        disk.write(&path, 0, text.as_bytes());
    }

    /// What the file holds; a missing or unreadable file is term 0 with no vote.
    pub fn load(disk: &dyn Disk, dir: &str) -> TermFile {
        let path = TermFile::path(dir);
        let Some(len) = disk.len(&path) else {
            return TermFile::default();
        };
        let bytes = disk.read(&path, 0, len as usize);
        let text = String::from_utf8_lossy(&bytes);
        let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name));
        TermFile {
            term: field("currTerm=").and_then(|t| t.parse().ok()).unwrap_or(0),
            voted_for: field("voteLeader=")
                .filter(|v| !v.is_empty())
                .map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disk::MemDisk;

    #[test]
    fn the_term_and_vote_round_trip_and_default_to_nothing() {
        let mut disk = MemDisk::new();
        assert_eq!(TermFile::load(&disk, "dledger"), TermFile::default());
        let voted = TermFile {
            term: 4,
            voted_for: Some("n1".into()),
        };
        voted.store(&mut disk, "dledger");
        assert_eq!(TermFile::load(&disk, "dledger"), voted);
        let next = TermFile {
            term: 5,
            voted_for: None,
        };
        next.store(&mut disk, "dledger");
        assert_eq!(TermFile::load(&disk, "dledger"), next);
    }
}
