//! The three limiting algorithms, as pure functions of (policy, state, now). Times are
//! nanoseconds on a monotonic clock; the table supplies `now`, tests supply a fake one.
//!
//! - `gcra` (generic cell rate algorithm): one timestamp per key, the "theoretical arrival
//!   time". A fresh key may spend `limit` at once; spent capacity comes back continuously at
//!   `limit / window`. Exact for that rate and burst, with integer arithmetic (no drift).
//! - `fixed-window`: a counter per key whose window starts at the key's first hit, like
//!   express-rate-limit's MemoryStore. At most `limit` per window, but up to `2 × limit` across
//!   a window boundary.
//! - `sliding-window`: the counters of the current and previous aligned windows, the previous
//!   one weighted by how much of it still overlaps the trailing window. Approximates "at most
//!   `limit` in any trailing `window`" assuming the previous window's hits were spread evenly.

/// Per-key state: 16 bytes (two u64 words, so a table entry with its 8-byte key is 24 bytes),
/// read as one u128 and interpreted per algorithm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State([u64; 2]);

impl State {
  fn get(&self) -> u128 {
    (u128::from(self.0[0]) << 64) | u128::from(self.0[1])
  }

  fn set(&mut self, value: u128) {
    *self = State::from(value);
  }
}

impl From<u128> for State {
  fn from(value: u128) -> Self {
    State([(value >> 64) as u64, value as u64])
  }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
  Gcra,
  FixedWindow,
  SlidingWindow,
}

impl Algorithm {
  pub fn parse(name: &str) -> Option<Self> {
    match name {
      "gcra" => Some(Algorithm::Gcra),
      "fixed-window" => Some(Algorithm::FixedWindow),
      "sliding-window" => Some(Algorithm::SlidingWindow),
      _ => None,
    }
  }

  pub fn name(self) -> &'static str {
    match self {
      Algorithm::Gcra => "gcra",
      Algorithm::FixedWindow => "fixed-window",
      Algorithm::SlidingWindow => "sliding-window",
    }
  }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
  pub algorithm: Algorithm,
  pub limit: u32,
  pub window_ns: u64,
}

/// The answer to one hit or peek.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
  pub allowed: bool,
  /// Units still available right after this call.
  pub remaining: u32,
  /// Until the key is back to its full `limit`.
  pub reset_ns: u64,
  /// When denied: until a call of the same cost would be allowed. 0 when allowed.
  pub retry_after_ns: u64,
}

fn div_ceil(a: u128, b: u128) -> u128 {
  a.div_ceil(b)
}

fn sat_u64(x: u128) -> u64 {
  u64::try_from(x).unwrap_or(u64::MAX)
}

impl Policy {
  /// Applies a hit of `cost` units (`charge = false`: only reports what a hit would do).
  /// `cost` is at most `limit` (checked by the caller).
  pub fn hit(&self, state: &mut State, now: u64, cost: u32, charge: bool) -> Outcome {
    match self.algorithm {
      Algorithm::Gcra => self.gcra(state, now, cost, charge),
      Algorithm::FixedWindow => self.fixed(state, now, cost, charge),
      Algorithm::SlidingWindow => self.sliding(state, now, cost, charge),
    }
  }

  /// Gives back up to `cost` units spent earlier (never more than was spent, never into an
  /// earlier window), for callers that charge first and learn later that the call should not
  /// have counted.
  pub fn refund(&self, state: &mut State, now: u64, cost: u32) {
    match self.algorithm {
      Algorithm::Gcra => {
        let now_s = u128::from(now) * u128::from(self.limit);
        let back = u128::from(cost) * u128::from(self.window_ns);
        let tat = state.get();
        if tat > now_s {
          state.set(tat.saturating_sub(back).max(now_s));
        }
      }
      Algorithm::FixedWindow => {
        let (start, count) = split(state);
        if now < start.saturating_add(self.window_ns) {
          *state = join(start, count.saturating_sub(cost));
        }
      }
      Algorithm::SlidingWindow => {
        let (start, current, previous) = split3(state);
        if now - now % self.window_ns == start {
          *state = join3(start, current.saturating_sub(cost), previous);
        }
      }
    }
  }

  /// True when the state is indistinguishable from a key never seen: dropping it changes
  /// nothing, so it is what the table removes first.
  pub fn is_fresh(&self, state: &State, now: u64) -> bool {
    match self.algorithm {
      Algorithm::Gcra => state.get() <= u128::from(now) * u128::from(self.limit),
      Algorithm::FixedWindow => {
        let (start, count) = split(state);
        count == 0 || now >= start.saturating_add(self.window_ns)
      }
      Algorithm::SlidingWindow => {
        let (start, current, previous) = split3(state);
        (current == 0 && previous == 0)
          || now >= start.saturating_add(self.window_ns.saturating_mul(2))
          || (current == 0 && now >= start.saturating_add(self.window_ns))
      }
    }
  }

  /// How close an entry is to being fresh (smaller is closer): what `evict-oldest` compares.
  pub fn debt(&self, state: &State, now: u64) -> u128 {
    match self.algorithm {
      Algorithm::Gcra => state
        .get()
        .saturating_sub(u128::from(now) * u128::from(self.limit)),
      Algorithm::FixedWindow => u128::from(split(state).0),
      Algorithm::SlidingWindow => u128::from(split3(state).0),
    }
  }

  /// GCRA in scaled units of `ns × limit`, so that one unit of cost is exactly `window_ns`
  /// and no rounding ever lets a burst through or holds one back.
  fn gcra(&self, state: &mut State, now: u64, cost: u32, charge: bool) -> Outcome {
    let limit = u128::from(self.limit);
    let window = u128::from(self.window_ns);
    let capacity = window * limit; // the burst tolerance, scaled
    let now_s = u128::from(now) * limit;
    let tat = state.get().max(now_s);
    let next = tat + u128::from(cost) * window;
    let allowed = next - now_s <= capacity;
    let after = if allowed { next } else { tat };
    if allowed && charge {
      state.set(after);
    }
    // A state written at a later time than `now` (a clock read out of order) can put `after`
    // beyond `now + capacity`; that leaves nothing, not a wrapped-around count.
    let remaining = sat_u32(capacity.saturating_sub(after - now_s) / window);
    Outcome {
      allowed,
      remaining,
      reset_ns: sat_u64(div_ceil(after - now_s, limit)),
      retry_after_ns: if allowed {
        0
      } else {
        sat_u64(div_ceil(next - now_s - capacity, limit))
      },
    }
  }

  fn fixed(&self, state: &mut State, now: u64, cost: u32, charge: bool) -> Outcome {
    let (mut start, mut count) = split(state);
    if count == 0 || now >= start.saturating_add(self.window_ns) {
      start = now;
      count = 0;
    }
    let allowed = u64::from(count) + u64::from(cost) <= u64::from(self.limit);
    if allowed {
      count += cost;
    }
    let reset_ns = start.saturating_add(self.window_ns) - now;
    if charge && allowed {
      *state = join(start, count);
    }
    Outcome {
      allowed,
      remaining: self.limit - count,
      reset_ns: if count == 0 { 0 } else { reset_ns },
      retry_after_ns: if allowed { 0 } else { reset_ns },
    }
  }

  fn sliding(&self, state: &mut State, now: u64, cost: u32, charge: bool) -> Outcome {
    let w = self.window_ns;
    let (mut start, mut current, mut previous) = split3(state);
    // Time never runs backwards for a key: an older `now` than the stored window start (a clock
    // read out of order) is taken as that start, so it cannot replace the window by an older one.
    let now = now.max(start);
    let aligned = now - now % w;
    if aligned != start {
      previous = if aligned == start.saturating_add(w) {
        current
      } else {
        0
      };
      current = 0;
      start = aligned;
    }
    // Estimated use, scaled by w: previous × (time of it still in the trailing window) + current × w.
    let overlap = u128::from(start + w - now);
    let used = |current: u32| u128::from(previous) * overlap + u128::from(current) * u128::from(w);
    let capacity = u128::from(self.limit) * u128::from(w);
    let allowed = used(current) + u128::from(cost) * u128::from(w) <= capacity;
    if allowed {
      current += cost;
    }
    if charge && allowed {
      *state = join3(start, current, previous);
    }
    let remaining = sat_u32(capacity.saturating_sub(used(current)) / u128::from(w));
    let reset_ns = if current > 0 {
      start + 2 * w - now
    } else if previous > 0 {
      start + w - now
    } else {
      0
    };
    let retry_after_ns = if allowed {
      0
    } else {
      self.sliding_wait(start, current, previous, now, cost)
    };
    Outcome {
      allowed,
      remaining,
      reset_ns,
      retry_after_ns,
    }
  }

  /// Earliest time from `now` at which a hit of `cost` fits, for the sliding window: first
  /// while the previous window's weight decays, else in the next window, where this window's
  /// count becomes the decaying one.
  fn sliding_wait(&self, start: u64, current: u32, previous: u32, now: u64, cost: u32) -> u64 {
    let w = u128::from(self.window_ns);
    let limit = u128::from(self.limit);
    let cost = u128::from(cost);
    let (start, now) = (u128::from(start), u128::from(now));
    let (current, previous) = (u128::from(current), u128::from(previous));
    // This window: previous × (start + w - t) <= room × w.
    if let Some(room) = limit.checked_sub(current + cost) {
      let slack = (room * w).checked_div(previous).unwrap_or(w);
      if slack > 0 {
        let t = (start + w).saturating_sub(slack).max(now);
        return sat_u64(t - now);
      }
    }
    // Next window: current × (start + 2w - t) <= (limit - cost) × w.
    let room = limit - cost;
    let t = match (room * w).checked_div(current) {
      None => start + w,
      Some(slack) => (start + 2 * w).saturating_sub(slack).max(start + w),
    };
    sat_u64(t.saturating_sub(now))
  }
}

fn sat_u32(x: u128) -> u32 {
  u32::try_from(x).unwrap_or(u32::MAX)
}

/// Fixed window: (window start, count).
fn split(state: &State) -> (u64, u32) {
  (state.0[0], state.0[1] as u32)
}

fn join(start: u64, count: u32) -> State {
  State([start, u64::from(count)])
}

/// Sliding window: (aligned window start, current count, previous count).
fn split3(state: &State) -> (u64, u32, u32) {
  (state.0[0], (state.0[1] >> 32) as u32, state.0[1] as u32)
}

fn join3(start: u64, current: u32, previous: u32) -> State {
  State([start, (u64::from(current) << 32) | u64::from(previous)])
}

#[cfg(test)]
mod tests {
  use super::*;

  const SEC: u64 = 1_000_000_000;

  fn policy(algorithm: Algorithm, limit: u32, window_ns: u64) -> Policy {
    Policy {
      algorithm,
      limit,
      window_ns,
    }
  }

  /// Reference model for GCRA with rational arithmetic: the key is allowed iff, after the
  /// hit, the "virtual queue" (sum of costs minus what has drained at limit/window) fits.
  #[test]
  fn gcra_matches_a_reference_model() {
    let p = policy(Algorithm::Gcra, 7, 3 * SEC);
    let mut state = State::default();
    // The model tracks drained-queue length in units × window (exact rationals).
    let mut queue_scaled: u128 = 0; // units × window_ns
    let mut last = 0u64;
    let mut seed = 12345u64;
    let mut now = 10 * SEC;
    for _ in 0..20_000 {
      seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
      now += (seed >> 33) % (SEC / 3);
      let cost = ((seed >> 20) % 3) as u32 + 1;
      let drained = u128::from(now - last) * u128::from(p.limit);
      queue_scaled = queue_scaled.saturating_sub(drained);
      last = now;
      let fits = queue_scaled + u128::from(cost) * u128::from(p.window_ns)
        <= u128::from(p.limit) * u128::from(p.window_ns);
      let outcome = p.hit(&mut state, now, cost, true);
      assert_eq!(outcome.allowed, fits, "at {now}");
      if fits {
        queue_scaled += u128::from(cost) * u128::from(p.window_ns);
      }
      let expected_remaining =
        (u128::from(p.limit) * u128::from(p.window_ns) - queue_scaled) / u128::from(p.window_ns);
      assert_eq!(u128::from(outcome.remaining), expected_remaining);
    }
  }

  #[test]
  fn gcra_burst_then_rate_exactly() {
    // 3 per second, where one unit is 333_333_333.3 ns: integer scaling must not drift.
    let p = policy(Algorithm::Gcra, 3, SEC);
    let mut s = State::default();
    let t0 = 5 * SEC;
    for i in 0..3 {
      let o = p.hit(&mut s, t0, 1, true);
      assert!(o.allowed);
      assert_eq!(o.remaining, 2 - i);
    }
    let denied = p.hit(&mut s, t0, 1, true);
    assert!(!denied.allowed);
    assert_eq!(denied.retry_after_ns, 333_333_334);
    assert_eq!(denied.reset_ns, SEC);
    assert!(!p.hit(&mut s, t0 + 333_333_333, 1, true).allowed);
    assert!(p.hit(&mut s, t0 + 333_333_334, 1, true).allowed);
    // After a full window of silence the key is fresh again.
    assert!(p.is_fresh(&s, t0 + 2 * SEC));
    assert!(!p.is_fresh(&s, t0 + SEC / 2));
    // Over a long run the admitted count is exactly limit + rate × elapsed.
    let mut s = State::default();
    let mut admitted = 0;
    for ms in 0..60_000u64 {
      if p.hit(&mut s, t0 + ms * 1_000_000, 1, true).allowed {
        admitted += 1;
      }
    }
    assert_eq!(admitted, 3 + 3 * 60 - 1); // the last hit at 59.999 s cannot see the 60th second's unit
  }

  #[test]
  fn peek_does_not_charge() {
    for algorithm in [
      Algorithm::Gcra,
      Algorithm::FixedWindow,
      Algorithm::SlidingWindow,
    ] {
      let p = policy(algorithm, 2, SEC);
      let mut s = State::default();
      for _ in 0..5 {
        let o = p.hit(&mut s, SEC, 1, false);
        assert!(o.allowed, "{algorithm:?}");
        assert_eq!(o.remaining, 1);
      }
      assert_eq!(s, State::default());
      assert!(p.hit(&mut s, SEC, 2, true).allowed);
      let o = p.hit(&mut s, SEC, 1, false);
      assert!(!o.allowed);
      assert!(o.retry_after_ns > 0);
    }
  }

  #[test]
  fn refunds_never_exceed_what_was_spent() {
    for algorithm in [
      Algorithm::Gcra,
      Algorithm::FixedWindow,
      Algorithm::SlidingWindow,
    ] {
      let p = policy(algorithm, 3, 10 * SEC);
      let mut s = State::default();
      let now = 100 * SEC;
      assert!(p.hit(&mut s, now, 3, true).allowed);
      assert!(!p.hit(&mut s, now, 1, false).allowed);
      p.refund(&mut s, now, 1);
      assert_eq!(p.hit(&mut s, now, 1, false).remaining, 0, "{algorithm:?}");
      assert!(p.hit(&mut s, now, 1, false).allowed, "{algorithm:?}");
      p.refund(&mut s, now, 100);
      let o = p.hit(&mut s, now, 1, false);
      assert_eq!(
        o.remaining, 2,
        "{algorithm:?}: refunding more than spent gives back only what was spent"
      );
    }
  }

  #[test]
  fn fixed_window_semantics() {
    let p = policy(Algorithm::FixedWindow, 3, 10 * SEC);
    let mut s = State::default();
    let t0 = 100 * SEC;
    assert_eq!(p.hit(&mut s, t0, 1, true).reset_ns, 10 * SEC);
    assert!(p.hit(&mut s, t0 + SEC, 2, true).allowed);
    let denied = p.hit(&mut s, t0 + 4 * SEC, 1, true);
    assert_eq!((denied.allowed, denied.remaining), (false, 0));
    assert_eq!(denied.retry_after_ns, 6 * SEC);
    // The window restarts at the next hit after it ends: up to 2 × limit around the boundary.
    let o = p.hit(&mut s, t0 + 10 * SEC, 3, true);
    assert_eq!((o.allowed, o.remaining, o.reset_ns), (true, 0, 10 * SEC));
    assert!(p.is_fresh(&s, t0 + 20 * SEC));
  }

  #[test]
  fn sliding_window_semantics() {
    let p = policy(Algorithm::SlidingWindow, 10, 10 * SEC);
    let mut s = State::default();
    let t0 = 1000 * SEC; // aligned to the window
    for _ in 0..10 {
      assert!(p.hit(&mut s, t0 + SEC, 1, true).allowed);
    }
    let denied = p.hit(&mut s, t0 + 2 * SEC, 1, true);
    assert!(!denied.allowed);
    // Next window at 25% in: previous (10) weighted 0.75 = 7.5 used, so 2 more fit, not 3.
    let at = t0 + 12 * SEC + SEC / 2;
    let o = p.hit(&mut s, at, 2, false);
    assert_eq!((o.allowed, o.remaining), (true, 0));
    assert!(!p.hit(&mut s, at, 3, false).allowed);
    // The wait it reports is exactly enough, and not more.
    let denied = p.hit(&mut s, at, 3, false);
    let when = at + denied.retry_after_ns;
    assert!(p.hit(&mut s.clone(), when, 3, false).allowed);
    assert!(!p.hit(&mut s.clone(), when - 1, 3, false).allowed);
    assert!(p.is_fresh(&s, t0 + 20 * SEC));
  }

  #[test]
  fn denial_waits_are_exact_for_all_algorithms() {
    let mut seed = 99u64;
    for algorithm in [
      Algorithm::Gcra,
      Algorithm::FixedWindow,
      Algorithm::SlidingWindow,
    ] {
      let p = policy(algorithm, 5, 2 * SEC);
      let mut s = State::default();
      let mut now = 50 * SEC;
      for _ in 0..3000 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        now += (seed >> 35) % (SEC / 2);
        let cost = ((seed >> 10) % 5) as u32 + 1;
        let o = p.hit(&mut s, now, cost, true);
        if !o.allowed {
          let at = now + o.retry_after_ns;
          assert!(
            p.hit(&mut s.clone(), at, cost, false).allowed,
            "{algorithm:?}"
          );
          if o.retry_after_ns > 0 && algorithm != Algorithm::FixedWindow {
            assert!(
              !p.hit(&mut s.clone(), at - 1, cost, false).allowed,
              "{algorithm:?}"
            );
          }
        }
      }
    }
  }

  /// A time older than one already written into the state (two threads reading the clock, then
  /// taking the lock in the other order) must neither wrap `remaining` around nor roll a window
  /// back.
  #[test]
  fn an_out_of_order_time_is_harmless() {
    for algorithm in [
      Algorithm::Gcra,
      Algorithm::FixedWindow,
      Algorithm::SlidingWindow,
    ] {
      let p = policy(algorithm, 5, 10 * SEC);
      let mut s = State::default();
      let late = 100 * SEC + 7;
      for _ in 0..5 {
        assert!(p.hit(&mut s, late, 1, true).allowed, "{algorithm:?}");
      }
      for earlier in [late - 1, late - SEC, late - 9 * SEC, 1] {
        let o = p.hit(&mut s, earlier, 1, true);
        assert!(!o.allowed, "{algorithm:?} at {earlier}");
        assert!(o.remaining <= 5, "{algorithm:?}: remaining {}", o.remaining);
      }
      assert!(
        !p.hit(&mut s, late, 1, true).allowed,
        "{algorithm:?}: the window survived"
      );
    }
  }
}
