//! DLedger 0.3.1.2, as RocketMQ 4.9.8 ships it for a broker group that replicates its
//! CommitLog with Raft (`enableDLegerCommitLog`). This part holds the group's storage on the
//! simulated disk: the entry format wrapping a CommitLog record (`entry`), the data and index
//! files with append, read, follower truncation and recovery (`store`), and the term and vote
//! file, written without an fsync (`term`). Elections, the entry pusher and the broker's role
//! changes build on it.

pub mod entry;
pub mod store;
pub mod term;
