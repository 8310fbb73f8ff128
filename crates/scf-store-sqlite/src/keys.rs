//! Request-id keys: the 64-bit hash stored with each row, the two key tables (new keys,
//! merged keys) and the filter of merged keys that lets most appends skip a lookup.

use std::sync::Mutex;

use rusqlite::{params, Connection, Transaction, TransactionBehavior};

use crate::convert::{lock, write_err};
use crate::statements::{DROP_MERGED_KEYS, MERGE_KEYS, NEW_KEYS_IN};
use scf_store::StoreError;

/// The 64-bit key of a request id stored in `logs.rkey`: FNV-1a, then a SplitMix64
/// finaliser. It is persisted, so it must never change (that would need a schema version).
pub(crate) fn request_key(request_id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in request_id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// A Bloom filter of the `rkey`s in `logs_key`, kept by the writer: a new record's key (the
/// usual case) is then known to be absent from the large table without reading it, which
/// was a quarter of the writer's time once that table outgrew the page cache. It never
/// says no for a key the table has; about 1% of absent keys get a lookup anyway. It grows
/// by adding filters of twice the capacity, so it is never rebuilt while the store is
/// open (it is built from the table on open); 10 bits per key: 1.2 MiB per million merged
/// keys, up to twice that just after it grows.
#[derive(Debug)]
pub(crate) struct MergedKeys {
    /// Filters, each full at `capacity` keys; keys go into the last one.
    filters: Vec<Bloom>,
    /// False when the table could not be read at open: every key may be in it.
    known: bool,
}

#[derive(Debug)]
pub(crate) struct Bloom {
    bits: Vec<u64>,
    /// Number of bits (a multiple of 64).
    nbits: u64,
    capacity: u64,
    len: u64,
}

impl Bloom {
    const BITS_PER_KEY: u64 = 10;
    const PROBES: u64 = 4;

    pub(crate) fn new(capacity: u64) -> Self {
        let capacity = capacity.max(1 << 16);
        let words = capacity.saturating_mul(Self::BITS_PER_KEY).div_ceil(64);
        Bloom {
            bits: vec![0; usize::try_from(words).unwrap_or(usize::MAX)],
            nbits: words * 64,
            capacity,
            len: 0,
        }
    }

    /// The probed bits of a key, as (word, bit mask): `rkey` is already a well-mixed hash,
    /// so its two halves serve as the two hashes of double hashing, each mapped onto the
    /// bits by a multiply-shift (no power-of-two size needed).
    fn positions(nbits: u64, rkey: i64) -> impl Iterator<Item = (usize, u64)> {
        let h = u64::from_ne_bytes(rkey.to_ne_bytes());
        let (h1, h2) = (h, h.rotate_left(32) | 1);
        (0..Self::PROBES).map(move |i| {
            let mixed = h1.wrapping_add(i.wrapping_mul(h2));
            let pos = u64::try_from((u128::from(mixed) * u128::from(nbits)) >> 64).unwrap_or(0);
            (usize::try_from(pos / 64).unwrap_or(0), 1 << (pos % 64))
        })
    }

    fn insert(&mut self, rkey: i64) {
        for (w, b) in Self::positions(self.nbits, rkey) {
            if let Some(word) = self.bits.get_mut(w) {
                *word |= b;
            }
        }
        self.len += 1;
    }

    fn contains(&self, rkey: i64) -> bool {
        Self::positions(self.nbits, rkey)
            .all(|(w, b)| self.bits.get(w).is_some_and(|word| word & b != 0))
    }
}

impl MergedKeys {
    /// A filter sized for `expected` keys and a quarter more.
    pub(crate) fn new(expected: u64) -> Self {
        MergedKeys {
            filters: vec![Bloom::new(expected.saturating_add(expected / 4))],
            known: true,
        }
    }

    /// Nothing is known: every key may be in the table.
    fn unknown() -> Self {
        MergedKeys {
            filters: Vec::new(),
            known: false,
        }
    }

    fn insert(&mut self, rkey: i64) {
        if !self.known {
            return;
        }
        let full = self.filters.last().is_none_or(|f| f.len >= f.capacity);
        if full {
            let capacity = self
                .filters
                .last()
                .map_or(0, |f| f.capacity.saturating_mul(2));
            self.filters.push(Bloom::new(capacity));
        }
        if let Some(f) = self.filters.last_mut() {
            f.insert(rkey);
        }
    }

    pub(crate) fn may_contain(&self, rkey: i64) -> bool {
        !self.known || self.filters.iter().any(|f| f.contains(rkey))
    }
}

/// The writer's state of the key tables (see [`KEY_TABLES`]).
pub(crate) struct KeyMerge {
    /// Rows in `logs_key_new`.
    pub(crate) new_rows: u64,
    /// The keys in `logs_key`, approximately.
    pub(crate) merged: MergedKeys,
    /// `key_merges.n` when `merged` was last brought up to date.
    generation: i64,
    /// The sixteenth of the key space the next merge moves.
    next_slice: u64,
    threshold: u64,
}

impl KeyMerge {
    const SLICES: u64 = 16;

    pub(crate) fn open(conn: &mut Connection, threshold: u64) -> rusqlite::Result<Self> {
        let tx = conn.transaction()?;
        let n: i64 = tx.query_row("SELECT COUNT(*) FROM logs_key_new", [], |r| r.get(0))?;
        let mut keys = KeyMerge {
            new_rows: u64::try_from(n).unwrap_or(0),
            ..Self::open_empty(threshold)
        };
        keys.reload(&tx)?;
        tx.commit()?;
        Ok(keys)
    }

    pub(crate) fn open_empty(threshold: u64) -> Self {
        KeyMerge {
            new_rows: 0,
            merged: MergedKeys::unknown(),
            generation: -1,
            next_slice: 0,
            threshold: threshold.max(1),
        }
    }

    /// Rebuilds the filter from `logs_key` as `tx` sees it.
    fn reload(&mut self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let generation: i64 = tx.query_row("SELECT n FROM key_merges", [], |r| r.get(0))?;
        let merged_rows: i64 = tx.query_row("SELECT COUNT(*) FROM logs_key", [], |r| r.get(0))?;
        let mut merged = MergedKeys::new(u64::try_from(merged_rows).unwrap_or(0));
        let mut scan = tx.prepare("SELECT rkey FROM logs_key")?;
        let mut rows = scan.query([])?;
        while let Some(row) = rows.next()? {
            merged.insert(row.get(0)?);
        }
        self.merged = merged;
        self.generation = generation;
        Ok(())
    }

    /// At the start of each write transaction (which holds the write lock, so no merge can
    /// happen until it ends): if another connection merged keys since the filter was last
    /// brought up to date, rebuilds it, so that no key in `logs_key` is missed.
    pub(crate) fn sync(&mut self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        let generation: i64 = tx
            .prepare_cached("SELECT n FROM key_merges")?
            .query_row([], |r| r.get(0))?;
        if generation != self.generation {
            self.reload(tx)?;
        }
        Ok(())
    }

    /// The `rkey` range of a slice: the keys whose top four bits (as unsigned) are `slice`.
    fn range(slice: u64) -> (i64, i64) {
        let lo = slice << 60;
        let hi = lo | ((1 << 60) - 1);
        (
            i64::from_ne_bytes(lo.to_ne_bytes()),
            i64::from_ne_bytes(hi.to_ne_bytes()),
        )
    }

    /// After a commit: while `logs_key_new` holds `threshold` keys, moves slices of it (at
    /// most all sixteen), each in its own transaction.
    pub(crate) fn run(&mut self, conn: &mut Connection, failed: &Mutex<Option<StoreError>>) {
        let mut moved_slices = 0;
        while self.new_rows >= self.threshold && moved_slices < Self::SLICES {
            let (lo, hi) = Self::range(self.next_slice);
            let moved = (|| -> rusqlite::Result<usize> {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                self.sync(&tx)?;
                {
                    // Into the filter first: a key it has but the table lacks (if the
                    // transaction rolls back) costs a lookup; the other way would lose rows.
                    let mut slice = tx.prepare_cached(NEW_KEYS_IN)?;
                    let mut rows = slice.query(params![lo, hi])?;
                    while let Some(row) = rows.next()? {
                        self.merged.insert(row.get(0)?);
                    }
                }
                tx.prepare_cached(MERGE_KEYS)?.execute(params![lo, hi])?;
                let n = tx
                    .prepare_cached(DROP_MERGED_KEYS)?
                    .execute(params![lo, hi])?;
                tx.execute("UPDATE key_merges SET n = n + 1", [])?;
                tx.commit()?;
                // Ours is the only merge since `sync` (the write lock was held).
                self.generation += 1;
                Ok(n)
            })();
            match moved {
                Ok(n) => self.new_rows = self.new_rows.saturating_sub(n as u64),
                Err(e) => {
                    // Nothing moved (the transaction rolled back); appends go on, the
                    // failure is reported once, and the next commit tries again.
                    let mut slot = lock(failed);
                    slot.get_or_insert_with(|| write_err("merging request-id keys", e));
                    return;
                }
            }
            self.next_slice = (self.next_slice + 1) % Self::SLICES;
            moved_slices += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{request_key, MergedKeys};

    #[test]
    fn merged_keys_filter_never_misses_a_key_and_rarely_claims_an_absent_one() {
        // Past the first filter's capacity (65536 × 2), so a second filter is added.
        let mut merged = MergedKeys::new(0);
        let keys: Vec<i64> = (0..300_000)
            .map(|i| request_key(&format!("in-{i}")))
            .collect();
        for &k in &keys {
            merged.insert(k);
        }
        assert!(merged.filters.len() >= 2);
        assert!(keys.iter().all(|&k| merged.may_contain(k)));
        let false_positives = (0..100_000)
            .filter(|i| merged.may_contain(request_key(&format!("out-{i}"))))
            .count();
        assert!(
            false_positives < 5_000,
            "{false_positives} of 100000 absent keys claimed"
        );
    }

    #[test]
    fn an_unknown_merged_key_set_may_contain_every_key() {
        let mut merged = MergedKeys::unknown();
        merged.insert(1);
        assert!(merged.may_contain(2));
    }
}
