//! Files `--out` writes for other tools: `shiviz.log` for ShiViz (the space-time diagram of
//! the nodes' packets with vector clocks) and `history.edn`, the client operations as a
//! Jepsen-style history.

pub mod edn;
pub mod shiviz;
