//! An opt-in global allocator that counts the process's live heap bytes and their peak.
// `GlobalAlloc` is an unsafe trait: implementing it needs `unsafe`. The wrapper only adds
// counting around `System`'s own calls and passes every pointer and layout through unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// A [`GlobalAlloc`] around [`System`] that counts live heap bytes and keeps a
/// high-water mark, so the invoker can report each invocation's peak allocation as its
/// `MemUsage`.
///
/// It is opt-in: install it in your binary (or test, or bench) with
///
/// ```
/// use scf_invoker::CountingAllocator;
///
/// #[global_allocator]
/// static ALLOC: CountingAllocator = CountingAllocator;
/// # fn main() { assert!(CountingAllocator::is_installed()); }
/// ```
///
/// Cost: two relaxed atomic operations per allocation and one per free.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

impl CountingAllocator {
    /// Whether this allocator is the process's global allocator (it has seen an allocation).
    pub fn is_installed() -> bool {
        // Nothing else touches the counter, so it moves only when this allocator is in use.
        ALLOCATED.load(Ordering::Relaxed) > 0
    }

    /// Heap bytes allocated and not yet freed.
    pub fn allocated() -> usize {
        ALLOCATED.load(Ordering::Relaxed)
    }

    /// The highest [`allocated`](Self::allocated) since the last [`reset_peak`](Self::reset_peak).
    pub fn peak() -> usize {
        PEAK.load(Ordering::Relaxed)
    }

    /// Restarts the high-water mark from the bytes allocated now.
    pub fn reset_peak() {
        PEAK.store(ALLOCATED.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

fn grew(size: usize) {
    let now = ALLOCATED.fetch_add(size, Ordering::Relaxed) + size;
    if now > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

fn shrank(size: usize) {
    ALLOCATED.fetch_sub(size, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees hold; the counters are plain atomics and never touch the memory.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; `ptr` came from `System` with `layout`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}
