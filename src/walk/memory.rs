//! Handing freed memory back to the operating system.
//!
//! glibc's allocator gives each thread its own arena and keeps what a
//! thread frees for that thread's next allocations. A tree-sitter tree is
//! millions of small allocations, so after a large file each worker's arena
//! holds its own high-water mark of free pages, interleaved with live ones
//! so that the arena's top cannot shrink. Two workers that took turns on
//! the largest files then hold the peak of both. `malloc_trim` returns the
//! free pages inside every arena (`MADV_DONTNEED`), so a worker's resident
//! memory falls back to what it uses. Called after each file of 256 KiB or
//! more, and together with the schedule that keeps large files apart
//! ([`super::stream`]), it takes the peak of the Java no-literal benchmark
//! (a dry run over the JDK, 2 threads) from 65 to 48–50 MB (59 MB without
//! the schedule), for 0.1–0.3 s of system time. After every file of 64 KiB
//! or more it would save 2 MB more and cost about 1 s: each call also makes
//! the next parse fault its pages in again.
//!
//! glibc also raises its thresholds as a program runs: once a block of
//! more than 128 KiB (the text of a large file, a large tree's node
//! array) is freed, blocks up to that size are no longer mapped on their
//! own but carved from the arenas, and an arena keeps up to twice that
//! much free memory at its top. [`fix_thresholds`] pins both at their
//! starting 128 KiB, so a large block goes straight back to the operating
//! system when it is freed. On the Java no-literal benchmark that lowers
//! the peak by about 1 MB at the same speed.
//!
//! Both calls are `unsafe` (foreign functions) and exist only with glibc;
//! elsewhere they do nothing.

/// Returns the free pages of every malloc arena to the operating system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(super) fn release_free_memory() {
    // SAFETY: `malloc_trim` takes no pointers, locks each arena itself and
    // may be called from any thread at any time; it only releases pages
    // that hold no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Returns the free pages of every malloc arena to the operating system.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(super) fn release_free_memory() {}

/// Keeps glibc's mapping and trimming thresholds where they start, for the
/// whole process (streaming sets them; nothing in fleetmod sets others).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(super) fn fix_thresholds() {
    // The size above which a block gets its own mapping, and the free
    // memory an arena may keep at its top: glibc's starting values.
    const THRESHOLD: i32 = 128 * 1024;
    // SAFETY: `mallopt` takes plain integers and locks the allocator
    // itself; setting a threshold explicitly only turns off its dynamic
    // adjustment and never touches an allocation.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, THRESHOLD);
    }
}

/// Keeps glibc's mapping and trimming thresholds where they start.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(super) fn fix_thresholds() {}
