//! The per-limiter key table: sharded, bounded, swept without timers.
//!
//! Keys are stored as a 64-bit SipHash keyed with a secret per table (so clients cannot aim
//! collisions at each other), next to 16 bytes of state: 24 bytes an entry, plus hash-table
//! slack. Each of the 64 shards is a small `HashMap` behind its own mutex; a hit locks one shard
//! for a few hundred nanoseconds, which also makes every update atomic across worker threads.
//!
//! Expiry is lazy: an entry that has become indistinguishable from a fresh key is treated as
//! fresh when touched, and removed by a sweep that visits one shard at a time, piggybacked on
//! hits (a full pass every 10 seconds). When the table holds `max_keys` entries, a new key first
//! triggers a full sweep (at most once a second); if every entry is still live, `when_full`
//! decides: `Reject` refuses the new key (fail closed) and `EvictOldest` drops the entry nearest
//! to fresh in the key's shard. Both are counted.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Instant;

use super::algorithm::{Outcome, Policy, State};

const SHARDS: usize = 64;
const FULL_PASS_NS: u64 = 10_000_000_000;
const MIN_FULL_SWEEP_GAP_NS: u64 = 1_000_000_000;
/// What a refused new key is told to wait.
const REJECTED_RETRY_NS: u64 = 1_000_000_000;

/// What a new key is told when the table is full of live keys.
fn refused() -> Outcome {
  Outcome {
    allowed: false,
    remaining: 0,
    reset_ns: REJECTED_RETRY_NS,
    retry_after_ns: REJECTED_RETRY_NS,
  }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
  Reject,
  EvictOldest,
}

/// Nanoseconds on a monotonic clock shared by every thread of the process.
pub fn now_ns() -> u64 {
  static START: LazyLock<Instant> = LazyLock::new(Instant::now);
  u64::try_from(START.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Keys are already uniform 64-bit hashes; this only spreads them for hashbrown, whose shard
/// index uses the top bits we also use to pick the shard.
#[derive(Default)]
struct Spread(u64);

impl Hasher for Spread {
  fn finish(&self) -> u64 {
    self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29)
  }
  fn write(&mut self, bytes: &[u8]) {
    for &b in bytes {
      self.0 = (self.0 << 8) | u64::from(b);
    }
  }
  fn write_u64(&mut self, value: u64) {
    self.0 = value;
  }
}

type Shard = HashMap<u64, State, BuildHasherDefault<Spread>>;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
  pub size: usize,
  /// Bytes held by the key table: slots (allocated capacity × entry size) and control bytes.
  pub memory_bytes: usize,
  pub evictions: u64,
  pub rejections: u64,
}

pub struct Table {
  pub policy: Policy,
  pub max_keys: usize,
  pub when_full: WhenFull,
  hasher: RandomState,
  shards: Vec<Mutex<Shard>>,
  len: AtomicUsize,
  evictions: AtomicU64,
  rejections: AtomicU64,
  cursor: AtomicUsize,
  next_sweep: AtomicU64,
  last_full_sweep: AtomicU64,
}

impl Table {
  pub fn new(policy: Policy, max_keys: usize, when_full: WhenFull) -> Self {
    Table {
      policy,
      max_keys,
      when_full,
      hasher: RandomState::new(),
      shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
      len: AtomicUsize::new(0),
      evictions: AtomicU64::new(0),
      rejections: AtomicU64::new(0),
      cursor: AtomicUsize::new(0),
      next_sweep: AtomicU64::new(0),
      last_full_sweep: AtomicU64::new(0),
    }
  }

  fn hash(&self, key: &[u8]) -> u64 {
    self.hasher.hash_one(key)
  }

  /// No code runs user callbacks under a shard lock, so a poisoned lock can only come from a
  /// panic inside this module; the data is plain numbers and stays usable.
  fn shard(&self, index: usize) -> MutexGuard<'_, Shard> {
    self.shards[index % SHARDS]
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  fn shard_of(hash: u64) -> usize {
    (hash >> 58) as usize
  }

  /// Applies a hit (or, with `charge = false`, a peek) at the time `clock` tells, read while the
  /// key's shard is locked: a time read before the lock could be older than one another thread
  /// has already written into the entry, and the algorithms assume time never runs backwards.
  pub fn hit(&self, key: &[u8], cost: u32, charge: bool, clock: impl Fn() -> u64) -> Outcome {
    let (outcome, now) = self.hit_locked(key, cost, charge, clock);
    // After the key's shard lock is released (the sweep locks shards itself), with the time
    // already read: one clock read per hit.
    self.maybe_sweep(now);
    outcome
  }

  /// The hit itself, under the key's shard lock; returns the time it used.
  fn hit_locked(
    &self,
    key: &[u8],
    cost: u32,
    charge: bool,
    clock: impl Fn() -> u64,
  ) -> (Outcome, u64) {
    let hash = self.hash(key);
    let index = Self::shard_of(hash);
    let mut shard = self.shard(index);
    let now = clock();
    if let Some(state) = shard.get_mut(&hash) {
      return (self.policy.hit(state, now, cost, charge), now);
    }
    let mut state = State::default();
    let outcome = self.policy.hit(&mut state, now, cost, charge);
    if !charge {
      // A peek answers what the hit would: a new key that a hit would store, on a
      // table full of live keys, is refused with `reject`. Like the hit, it first sweeps (at
      // most once a second); unlike it, it counts no rejection.
      if self.when_full == WhenFull::Reject && self.is_full() && self.would_store(cost, now) {
        drop(shard);
        self.sweep_all(now);
        if self.is_full() {
          return (refused(), now);
        }
      }
      return (outcome, now);
    }
    if self.policy.is_fresh(&state, now) {
      return (outcome, now); // nothing to remember (a cost-0 hit, say): same as an absent key
    }
    if self.reserve_slot() {
      shard.insert(hash, state);
      return (outcome, now);
    }
    // Full: sweep every shard (which locks each in turn, so this one is released meanwhile).
    drop(shard);
    self.sweep_all(now);
    let mut shard = self.shard(index);
    // While the lock was released another thread may have inserted this key. Then that entry is
    // the key's state and this hit applies to it: inserting again would overwrite it and count
    // the key twice.
    let now = clock();
    if let Some(state) = shard.get_mut(&hash) {
      return (self.policy.hit(state, now, cost, charge), now);
    }
    let mut state = State::default();
    let outcome = self.policy.hit(&mut state, now, cost, charge);
    if self.reserve_slot() {
      shard.insert(hash, state);
      return (outcome, now);
    }
    if self.when_full == WhenFull::EvictOldest {
      let victim = shard
        .iter()
        .min_by_key(|(_, s)| self.policy.debt(s, now))
        .map(|(k, _)| *k);
      // (An empty shard while the table is full: refuse rather than overfill.)
      if let Some(victim) = victim {
        shard.remove(&victim);
        shard.insert(hash, state);
        self.evictions.fetch_add(1, Ordering::Relaxed);
        return (outcome, now);
      }
    }
    self.rejections.fetch_add(1, Ordering::Relaxed);
    (refused(), now)
  }

  /// Whether a hit of `cost` on a new key at `now` leaves a state worth storing.
  fn would_store(&self, cost: u32, now: u64) -> bool {
    let mut state = State::default();
    self.policy.hit(&mut state, now, cost, true);
    !self.policy.is_fresh(&state, now)
  }

  fn is_full(&self) -> bool {
    self.len.load(Ordering::Acquire) >= self.max_keys
  }

  /// Counts a new entry if there is room; exact under concurrency.
  fn reserve_slot(&self) -> bool {
    self
      .len
      .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
        (n < self.max_keys).then_some(n + 1)
      })
      .is_ok()
  }

  /// Gives back up to `cost` units of a tracked key (see `Policy::refund`).
  pub fn refund(&self, key: &[u8], cost: u32, clock: impl Fn() -> u64) {
    let hash = self.hash(key);
    if let Some(state) = self.shard(Self::shard_of(hash)).get_mut(&hash) {
      self.policy.refund(state, clock(), cost);
    }
  }

  /// Forgets a key. Returns whether it was tracked.
  pub fn reset(&self, key: &[u8]) -> bool {
    let hash = self.hash(key);
    let removed = self.shard(Self::shard_of(hash)).remove(&hash).is_some();
    if removed {
      self.len.fetch_sub(1, Ordering::AcqRel);
    }
    removed
  }

  pub fn clear(&self) {
    for index in 0..SHARDS {
      let mut shard = self.shard(index);
      self.len.fetch_sub(shard.len(), Ordering::AcqRel);
      shard.clear();
      shard.shrink_to_fit();
    }
  }

  pub fn counters(&self) -> Counters {
    let slot = std::mem::size_of::<(u64, State)>() + 1;
    let memory_bytes = (0..SHARDS)
      .map(|i| self.shard(i).capacity() * slot)
      .sum::<usize>()
      + std::mem::size_of::<Self>();
    Counters {
      size: self.len.load(Ordering::Acquire),
      memory_bytes,
      evictions: self.evictions.load(Ordering::Relaxed),
      rejections: self.rejections.load(Ordering::Relaxed),
    }
  }

  fn sweep_shard(&self, index: usize, now: u64) {
    let mut shard = self.shard(index);
    let before = shard.len();
    shard.retain(|_, state| !self.policy.is_fresh(state, now));
    let removed = before - shard.len();
    if removed > 0 {
      self.len.fetch_sub(removed, Ordering::AcqRel);
      if shard.capacity() > 4 * shard.len().max(16) {
        shard.shrink_to_fit();
      }
    }
  }

  /// One shard per step, a step every `FULL_PASS_NS / SHARDS`, done by whichever hit notices.
  fn maybe_sweep(&self, now: u64) {
    let due = self.next_sweep.load(Ordering::Relaxed);
    if now < due {
      return;
    }
    let next = now + FULL_PASS_NS / SHARDS as u64;
    if self
      .next_sweep
      .compare_exchange(due, next, Ordering::AcqRel, Ordering::Relaxed)
      .is_ok()
    {
      let index = self.cursor.fetch_add(1, Ordering::Relaxed);
      self.sweep_shard(index, now);
    }
  }

  /// Every shard at once, when the table is full; at most once a second.
  fn sweep_all(&self, now: u64) {
    let last = self.last_full_sweep.load(Ordering::Relaxed);
    if last != 0 && now.saturating_sub(last) < MIN_FULL_SWEEP_GAP_NS {
      return;
    }
    if self
      .last_full_sweep
      .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Relaxed)
      .is_err()
    {
      return;
    }
    for index in 0..SHARDS {
      self.sweep_shard(index, now);
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::ratelimit::algorithm::Algorithm;

  const SEC: u64 = 1_000_000_000;

  fn table(max_keys: usize, when_full: WhenFull) -> Table {
    let policy = Policy {
      algorithm: Algorithm::Gcra,
      limit: 2,
      window_ns: 10 * SEC,
    };
    Table::new(policy, max_keys, when_full)
  }

  #[test]
  fn stores_only_what_it_must() {
    let t = table(100, WhenFull::Reject);
    let now = 5 * SEC;
    assert!(t.hit(b"a", 1, false, || now).allowed);
    assert_eq!(t.counters().size, 0, "a peek stores nothing");
    assert!(t.hit(b"a", 1, true, || now).allowed);
    assert!(t.hit(b"a", 1, true, || now).allowed);
    assert!(!t.hit(b"a", 1, true, || now).allowed);
    assert_eq!(t.counters().size, 1);
    assert!(t.reset(b"a"));
    assert!(!t.reset(b"a"));
    assert_eq!(t.counters().size, 0);
    assert!(t.hit(b"a", 1, true, || now).allowed);
  }

  #[test]
  fn full_table_drops_fresh_entries_first_then_applies_the_policy() {
    let t = table(10, WhenFull::Reject);
    let mut now = 100 * SEC;
    for i in 0..10u32 {
      assert!(t.hit(&i.to_le_bytes(), 1, true, || now).allowed);
    }
    // Full of live keys: a peek at a new key says what the hit will (before: allowed), and
    // counts nothing; the hit is refused, and counted.
    assert!(!t.hit(b"new", 1, false, || now).allowed);
    assert_eq!(t.counters().rejections, 0);
    assert!(
      t.hit(b"new", 0, false, || now).allowed,
      "a cost-0 peek stores nothing either way"
    );
    let refused = t.hit(b"new", 1, true, || now);
    assert!(!refused.allowed);
    assert_eq!(t.counters().rejections, 1);
    // Existing keys keep working.
    assert!(t.hit(&0u32.to_le_bytes(), 1, true, || now).allowed);
    // Once the old entries have expired, sweeping makes room. (Which sweep does it depends on
    // the table's random hash key: the incremental one may already have cleared the shard
    // holding some of the keys, and the full one then clears the rest only if still needed.)
    now += 20 * SEC;
    assert!(t.hit(b"new", 1, true, || now).allowed);
    let size = t.counters().size;
    assert!((1..=10).contains(&size), "{size}");
    assert_eq!(t.counters().rejections, 1);
  }

  #[test]
  fn evict_oldest_never_resets_a_live_key_silently() {
    let t = table(64 * 2, WhenFull::EvictOldest);
    let now = 100 * SEC;
    for i in 0..128u32 {
      t.hit(&i.to_le_bytes(), 1, true, || now);
    }
    let before = t.counters();
    assert_eq!(before.size, 128);
    for i in 1000..1100u32 {
      t.hit(&i.to_le_bytes(), 1, true, || now);
    }
    let after = t.counters();
    assert_eq!(after.size, 128);
    assert_eq!(after.evictions + after.rejections, 100);
  }

  #[test]
  fn sweeping_runs_incrementally_on_hits() {
    let t = table(1_000_000, WhenFull::Reject);
    for i in 0..5_000u32 {
      t.hit(&i.to_le_bytes(), 1, true, || SEC);
    }
    assert_eq!(t.counters().size, 5_000);
    // Long after everything expired, a full pass of incremental sweeps empties the table.
    let mut now = 100 * SEC;
    for _ in 0..SHARDS {
      now += FULL_PASS_NS / SHARDS as u64;
      t.hit(b"probe", 0, false, || now);
    }
    assert_eq!(t.counters().size, 0);
  }

  #[test]
  fn concurrent_hits_on_one_key_are_exact() {
    let policy = Policy {
      algorithm: Algorithm::Gcra,
      limit: 10_000,
      window_ns: 3600 * SEC,
    };
    let t = std::sync::Arc::new(Table::new(policy, 1000, WhenFull::Reject));
    let threads: Vec<_> = (0..4)
      .map(|_| {
        let t = t.clone();
        std::thread::spawn(move || {
          (0..5_000)
            .filter(|_| t.hit(b"hot", 1, true, || SEC).allowed)
            .count()
        })
      })
      .collect();
    let admitted: usize = threads.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(admitted, 10_000);
  }

  /// A key first seen by several threads at once while the table is full (so each of them
  /// drops the shard lock to sweep) is inserted once and counted once.
  #[test]
  fn a_key_inserted_while_full_is_counted_once() {
    let policy = Policy {
      algorithm: Algorithm::Gcra,
      limit: 1_000_000,
      window_ns: SEC,
    };
    for round in 0..200u64 {
      let t = std::sync::Arc::new(Table::new(policy, 64, WhenFull::Reject));
      // Fill the table with entries that are fresh (expired) at time 10 s, so each new key
      // first finds the table full, sweeps, and then finds room.
      for i in 0..64u32 {
        t.hit(&i.to_le_bytes(), 1, true, || SEC);
      }
      assert_eq!(t.counters().size, 64);
      let barrier = std::sync::Arc::new(std::sync::Barrier::new(4));
      let threads: Vec<_> = (0..4)
        .map(|_| {
          let (t, barrier) = (t.clone(), barrier.clone());
          std::thread::spawn(move || {
            barrier.wait();
            // Each thread's clock moves on, so the once-a-second full sweep may run again.
            let mut now = 10 * SEC + round;
            for _ in 0..8 {
              now += 2 * SEC;
              t.hit(b"same key", 1, true, || now);
            }
          })
        })
        .collect();
      for h in threads {
        h.join().unwrap();
      }
      let shards_total: usize = (0..SHARDS).map(|i| t.shard(i).len()).sum();
      assert_eq!(
        t.counters().size,
        shards_total,
        "round {round}: the count drifted"
      );
    }
  }

  /// Four threads on one hot key with a real clock: a denied hit never reports more remaining
  /// than the limit (the clock is read under the lock; before, a stale time wrapped around).
  #[test]
  fn concurrent_real_clock_results_stay_in_range() {
    let policy = Policy {
      algorithm: Algorithm::Gcra,
      limit: 3,
      window_ns: 1_000_000,
    };
    let t = std::sync::Arc::new(Table::new(policy, 1000, WhenFull::Reject));
    let threads: Vec<_> = (0..4)
      .map(|_| {
        let t = t.clone();
        std::thread::spawn(move || {
          (0..50_000)
            .map(|_| t.hit(b"hot", 1, true, now_ns))
            .filter(|o| o.remaining > 3)
            .count()
        })
      })
      .collect();
    let bad: usize = threads.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(bad, 0);
  }
}
