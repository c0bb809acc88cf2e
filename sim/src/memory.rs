//! Handing a finished run's freed memory back to the operating system.
//!
//! A run's simulated disks are millions of 4 KiB pages, freed together when its world is
//! dropped. The allocator keeps them on its free lists, while the checker's index, built next,
//! asks for large tables the allocator maps afresh: without this, the resident peak of a long
//! run is its world and its index added together, not the larger of the two.

/// Histories shorter than this leave too little behind to be worth the allocator's walk.
const WORTH_IT_ENTRIES: usize = 100_000;

/// Returns the free memory of the allocator's arenas to the OS, after a run of
/// `history_entries` entries has dropped its world.
pub fn release_freed(history_entries: usize) {
    if history_entries < WORTH_IT_ENTRIES {
        return;
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` walks glibc's own free lists and releases whole free pages; it
    // has no preconditions and touches no memory the program holds.
    unsafe {
        libc::malloc_trim(0);
    }
}
