//! DLedger 0.3.1.2, as RocketMQ 4.9.8 ships it for a broker group that replicates its
//! CommitLog with Raft (`enableDLegerCommitLog`). This part holds the group's storage on the
//! simulated disk: the entry format wrapping a CommitLog record (`entry`), the data and index
//! files with append, read, follower truncation and recovery (`store`), and the term and vote
//! file, written without an fsync (`term`); the leader's quorum accounting (`quorum`), its
//! dispatcher per follower (`dispatcher`: compare, truncate, append) and a follower's
//! handling of the pushes (`follower`); a member's election state and its answer to a vote
//! and to a heartbeat (`vote`), and a candidate's count of a vote round (`tally`). `server`
//! ties them into a member a broker hosts (for now with a static leader), configured by
//! `config`. The election loop and the broker's role changes build on them.

pub mod config;
pub mod dispatcher;
pub mod entry;
pub mod follower;
pub mod quorum;
pub mod server;
pub mod store;
pub mod tally;
pub mod term;
pub mod vote;
