//! Process-wide settings that the engine's programs (`echo-lang`, `echo-harness`) make once
//! at start, before any thread: today, how the C library's allocator gives memory back.

/// Fixes the C library allocator's thresholds, on glibc; nothing elsewhere.
///
/// By default glibc adapts its thresholds to the blocks a process frees: once a list's item
/// buffer of a megabyte or two is freed, the next ones go back and forth between the system
/// and the program, every page faulted in again (list_ops took 40% longer for it). Fixed
/// thresholds keep blocks under 32 MiB in the heap, where freed buffers are reused, and
/// return the top of the heap to the system only beyond 64 MiB free. Larger blocks (the
/// register stack) are still mapped on their own, so their untouched pages cost nothing.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use std::ffi::c_int;
        unsafe extern "C" {
            fn mallopt(param: c_int, value: c_int) -> c_int;
        }
        const M_TRIM_THRESHOLD: c_int = -1;
        const M_MMAP_THRESHOLD: c_int = -3;
        // The largest mmap threshold glibc documents for 64-bit targets.
        const MMAP_THRESHOLD: c_int = 32 << 20;
        const TRIM_THRESHOLD: c_int = 64 << 20;
        // SAFETY: `mallopt` only changes a number of the allocator's settings, under the
        // allocator's own lock; it takes no pointers.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    }
}
