//! rampart's own bounded thread pool for password hashing.
//!
//! Hashes do not go to libuv's pool, which `fs`, `dns.lookup`, `zlib` and `crypto` share: a
//! login flood there stalls the whole app. Here a fixed number of threads (default: the number
//! of cores) take jobs from a queue of bounded length; when the queue is full, `submit` fails at
//! once so the caller can answer 503 instead of piling up work and memory.
//!
//! The pool is process-wide: every `worker_thread` of the process shares it, because the cores
//! it divides are process-wide too.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use super::kdf::Scratch;

/// How long an idle thread keeps its hashing memory before returning it.
const KEEP_ARENA_WHILE_IDLE: Duration = Duration::from_secs(1);

/// Work for a pool thread. It returns what to do once the pool has counted it (typically:
/// settle a promise), so that callers who see the result also see it in [`Stats`]; or `None`
/// when it was cancelled before it started.
pub type Job = Box<dyn FnOnce(&mut Scratch) -> Option<Finish> + Send + 'static>;
pub type Finish = Box<dyn FnOnce() + Send + 'static>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
  pub threads: usize,
  pub max_queue: usize,
}

impl Default for Config {
  fn default() -> Self {
    let threads = thread::available_parallelism().map_or(2, |n| n.get());
    // At the default cost one hash takes a few milliseconds, so a full queue waits well under a
    // second; past that, failing fast serves users better than a growing backlog.
    Config {
      threads,
      max_queue: 64 * threads,
    }
  }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
  pub config: Config,
  /// Jobs being hashed right now.
  pub running: usize,
  /// Jobs waiting for a thread.
  pub queued: usize,
  /// Jobs computed since the process started (cancelled ones are not counted).
  pub completed: u64,
  /// Jobs refused because the queue was full.
  pub rejected: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmitError {
  /// The queue is full.
  Busy,
  /// No worker thread could be started.
  NoThreads,
}

struct State {
  queue: VecDeque<Job>,
  config: Config,
  /// Threads started and not yet exited.
  live: usize,
  running: usize,
  completed: u64,
  rejected: u64,
}

pub struct Pool {
  state: Mutex<State>,
  work: Condvar,
}

static POOL: LazyLock<Pool> = LazyLock::new(|| Pool::new(Config::default()));

/// The process-wide pool.
pub fn global() -> &'static Pool {
  &POOL
}

impl Pool {
  pub fn new(config: Config) -> Self {
    Pool {
      state: Mutex::new(State {
        queue: VecDeque::new(),
        config,
        live: 0,
        running: 0,
        completed: 0,
        rejected: 0,
      }),
      work: Condvar::new(),
    }
  }

  /// The lock is never held while a job runs, and jobs run under `catch_unwind`, so it cannot be
  /// poisoned by a job; recovering from poison keeps the pool usable regardless.
  fn lock(&self) -> MutexGuard<'_, State> {
    self
      .state
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  /// Queues a job, starting worker threads on first use. Never blocks on the work itself.
  pub fn submit(&'static self, job: Job) -> Result<(), SubmitError> {
    let mut state = self.lock();
    // In flight at most: one job per thread plus `max_queue` waiting.
    if state.queue.len() + state.running >= state.config.threads + state.config.max_queue {
      state.rejected += 1;
      return Err(SubmitError::Busy);
    }
    while state.live < state.config.threads {
      let spawned = thread::Builder::new()
        .name("rampart-hash".into())
        .spawn(move || self.work_loop());
      match spawned {
        Ok(_) => state.live += 1,
        Err(_) if state.live == 0 => return Err(SubmitError::NoThreads),
        Err(_) => break,
      }
    }
    state.queue.push_back(job);
    drop(state);
    self.work.notify_one();
    Ok(())
  }

  fn work_loop(&'static self) {
    let mut scratch = Scratch::default();
    let mut state = self.lock();
    loop {
      if state.live > state.config.threads {
        state.live -= 1;
        return;
      }
      let Some(job) = state.queue.pop_front() else {
        if scratch.holds_memory() {
          // Keep the arena while requests keep coming (a fresh one costs a map, page faults
          // and an unmap per hash); give it back after a quiet second.
          let (guard, wait) = self
            .work
            .wait_timeout(state, KEEP_ARENA_WHILE_IDLE)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
          state = guard;
          if wait.timed_out() && state.queue.is_empty() {
            drop(state);
            scratch.release();
            state = self.lock();
          }
        } else {
          state = self
            .work
            .wait(state)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        continue;
      };
      state.running += 1;
      drop(state);
      // Jobs catch their own panics and settle their promise with an error; catching here too
      // only keeps the thread alive.
      let finish = catch_unwind(AssertUnwindSafe(|| job(&mut scratch))).unwrap_or(None);
      state = self.lock();
      state.running -= 1;
      if let Some(finish) = finish {
        state.completed += 1;
        drop(state);
        finish();
        state = self.lock();
      }
    }
  }

  /// Changes the thread count and queue bound. Extra threads exit when they next wake; new ones
  /// start on the next submit. Queued jobs are kept even if the new bound is smaller.
  pub fn configure(&self, threads: Option<usize>, max_queue: Option<usize>) -> Stats {
    let mut state = self.lock();
    if let Some(threads) = threads {
      state.config.threads = threads;
    }
    if let Some(max_queue) = max_queue {
      state.config.max_queue = max_queue;
    }
    drop(state);
    self.work.notify_all();
    self.stats()
  }

  pub fn stats(&self) -> Stats {
    let state = self.lock();
    Stats {
      config: state.config,
      running: state.running,
      queued: state.queue.len(),
      completed: state.completed,
      rejected: state.rejected,
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::atomic::{AtomicUsize, Ordering};
  use std::sync::{mpsc, Arc};

  fn leaked(config: Config) -> &'static Pool {
    Box::leak(Box::new(Pool::new(config)))
  }

  #[test]
  fn runs_every_job_and_rejects_past_the_bound() {
    let pool = leaked(Config {
      threads: 2,
      max_queue: 4,
    });
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let gate = Arc::new(Mutex::new(gate_rx));
    let done = Arc::new(AtomicUsize::new(0));
    let mut accepted = 0;
    let mut busy = 0;
    for _ in 0..20 {
      let gate = gate.clone();
      let done = done.clone();
      let job: Job = Box::new(move |_| {
        let _ = gate.lock().unwrap().recv();
        done.fetch_add(1, Ordering::SeqCst);
        None
      });
      match pool.submit(job) {
        Ok(()) => accepted += 1,
        Err(SubmitError::Busy) => busy += 1,
        Err(e) => panic!("{e:?}"),
      }
    }
    // At most 2 running plus 4 queued could be admitted while the gate is closed.
    assert!(accepted <= 6, "accepted {accepted}");
    assert_eq!(accepted + busy, 20);
    for _ in 0..accepted {
      gate_tx.send(()).unwrap();
    }
    for _ in 0..200 {
      if done.load(Ordering::SeqCst) == accepted {
        break;
      }
      thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(done.load(Ordering::SeqCst), accepted);
    let stats = pool.stats();
    assert_eq!(stats.rejected, busy as u64);
  }

  #[test]
  fn survives_a_panicking_job_and_shrinks() {
    let pool = leaked(Config {
      threads: 2,
      max_queue: 8,
    });
    pool.submit(Box::new(|_| panic!("boom"))).unwrap();
    let (tx, rx) = mpsc::channel();
    pool
      .submit(Box::new(move |_| {
        Some(Box::new(move || tx.send(42).unwrap()))
      }))
      .unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 42);
    let stats = pool.configure(Some(1), Some(3));
    assert_eq!(
      stats.config,
      Config {
        threads: 1,
        max_queue: 3
      }
    );
    let (tx, rx) = mpsc::channel();
    pool
      .submit(Box::new(move |_| {
        Some(Box::new(move || tx.send(7).unwrap()))
      }))
      .unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 7);
    // Counted before `finish` ran: the panicking job is not, the two others are.
    assert_eq!(pool.stats().completed, 2);
    assert_eq!(pool.stats().running, 0);
  }
}
