#![no_main]
//! Rate-limit keys and options: the three algorithms with fuzzed limit, window, table size and
//! a fuzzed sequence of hits, peeks, refunds and resets on fuzzed keys at fuzzed times.
//! Properties: no panic or overflow; `remaining <= limit`; a denied hit has a wait, an allowed
//! one none; within one instant a key never gets more than `limit` units (refunds aside); a peek
//! agrees with the hit that follows it at the same instant; algorithm names round-trip. (With
//! `evict-oldest` an evicted key starts afresh, so the per-instant bound is checked with
//! `reject` only.)
use libfuzzer_sys::fuzz_target;
use rampart_fuzz::ratelimit::algorithm::{Algorithm, Policy};
use rampart_fuzz::ratelimit::table::{Table, WhenFull};

fn u32_at(data: &[u8], at: usize) -> u32 {
  let mut b = [0u8; 4];
  for (i, x) in b.iter_mut().enumerate() {
    *x = *data.get(at + i).unwrap_or(&0);
  }
  u32::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
  if data.len() < 12 {
    return;
  }
  for name in ["gcra", "fixed-window", "sliding-window"] {
    assert_eq!(Algorithm::parse(name).map(Algorithm::name), Some(name));
  }
  let _ = Algorithm::parse(&String::from_utf8_lossy(&data[..data.len().min(16)]));
  let algorithm = [
    Algorithm::Gcra,
    Algorithm::FixedWindow,
    Algorithm::SlidingWindow,
  ][usize::from(data[0] % 3)];
  let limit = 1 + u32_at(data, 1) % 1000;
  let window_ms = 1 + u32_at(data, 5) % 10_000;
  let max_keys = 1 + usize::from(data[9] % 8);
  let when_full = if data[10] & 1 == 0 {
    WhenFull::Reject
  } else {
    WhenFull::EvictOldest
  };
  let policy = Policy {
    algorithm,
    limit,
    window_ns: u64::from(window_ms) * 1_000_000,
  };
  let table = Table::new(policy, max_keys, when_full);
  let mut now: u64 = 1_000_000_000;
  // Units granted per key at the current instant, with no refund in between.
  let mut granted = std::collections::HashMap::<Vec<u8>, (u64, u64, bool)>::new();
  for op in data[11..].chunks(4) {
    let [kind, key_byte, cost_byte, step] = [
      op[0],
      *op.get(1).unwrap_or(&0),
      *op.get(2).unwrap_or(&1),
      *op.get(3).unwrap_or(&0),
    ];
    let key = vec![key_byte % 5; 1 + usize::from(key_byte % 3)];
    let cost = u32::from(cost_byte) % (limit + 1);
    if step & 0x80 != 0 {
      now = now.saturating_add(u64::from(step & 0x7f) * 7_000_000);
      granted.clear();
    }
    match kind % 5 {
      0 | 1 => {
        let peek = table.hit(&key, cost, false, || now);
        let rejections = table.counters().rejections;
        let out = table.hit(&key, cost, true, || now);
        // A peek never promises what the hit after it refuses. (On a full table with `reject`
        // it did, before the fix; seed fuzz/regressions/ratelimit-peek-full-table.) The other
        // way round is allowed: a peek may refuse a new key on a full table and the hit then
        // find room, because the incremental sweep that runs after each call freed some. With
        // `evict-oldest` the hit can be refused when the key's own shard is empty.
        let refused_full = table.counters().rejections > rejections;
        assert!(out.remaining <= limit && peek.remaining <= limit);
        assert!(
          !peek.allowed || out.allowed || (refused_full && when_full == WhenFull::EvictOldest),
          "peek promised what the hit after it refused"
        );
        if out.allowed {
          assert_eq!(out.retry_after_ns, 0);
          // Eviction gives a re-added key a fresh budget, so the bound holds with `reject`.
          let entry = granted
            .entry(key)
            .or_insert((now, 0, when_full == WhenFull::Reject));
          entry.1 += u64::from(cost);
          if entry.2 {
            assert!(
              entry.1 <= u64::from(limit),
              "more than limit granted in one instant"
            );
          }
        }
      }
      2 => {
        table.refund(&key, cost, || now);
        granted.entry(key).or_insert((now, 0, false)).2 = false;
      }
      3 => {
        table.reset(&key);
        granted.entry(key).or_insert((now, 0, false)).2 = false;
      }
      _ => {
        let c = table.counters();
        let _ = c;
      }
    }
  }
});
