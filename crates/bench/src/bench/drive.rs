//! Driving the server: N concurrent clients, each sending its next request as soon as the last
//! one answered, until a time limit or a request count is reached — whichever comes first.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long one measurement may run.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub time: Duration,
    pub max_requests: u64,
    /// Unmeasured requests first (connections opened, caches warm).
    pub warmup: u64,
}

/// What one measurement saw.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Latency of each successful request, in milliseconds, sorted.
    pub latencies_ms: Vec<f64>,
    pub errors: u64,
    /// Wall time of the measured part, in seconds.
    pub secs: f64,
}

impl Sample {
    pub fn count(&self) -> u64 {
        self.latencies_ms.len() as u64
    }

    /// The latency below which `p` percent of the requests answered (nearest rank).
    pub fn percentile(&self, p: f64) -> Option<f64> {
        let n = self.latencies_ms.len();
        if n == 0 {
            return None;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        Some(self.latencies_ms[rank.clamp(1, n) - 1])
    }

    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        self.count() as f64 / self.secs.max(1e-9)
    }
}

/// Runs `request(i)` for i = 0, 1, 2, ... on `clients` concurrent tasks. `request` answers
/// whether the server's reply was a success.
pub async fn drive<F, Fut>(clients: usize, budget: Budget, request: F) -> Sample
where
    F: Fn(u64) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    // Warm-up: a few rounds on all clients, not counted.
    let warm = Arc::new(AtomicU64::new(0));
    let mut tasks = vec![];
    for _ in 0..clients {
        let (warm, request) = (warm.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = warm.fetch_add(1, Ordering::Relaxed);
                if i >= budget.warmup {
                    break;
                }
                request(u64::MAX - i).await;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + budget.time;
    let mut tasks = vec![];
    for _ in 0..clients {
        let (next, request) = (next.clone(), request.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = Vec::with_capacity(1024);
            let mut errors = 0u64;
            loop {
                if Instant::now() >= deadline {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= budget.max_requests {
                    break;
                }
                let t = Instant::now();
                if request(i).await {
                    ok.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    errors += 1;
                }
            }
            (ok, errors)
        }));
    }
    let mut sample = Sample::default();
    for t in tasks {
        if let Ok((ok, errors)) = t.await {
            sample.latencies_ms.extend(ok);
            sample.errors += errors;
        } else {
            sample.errors += 1;
        }
    }
    sample.secs = started.elapsed().as_secs_f64();
    sample.latencies_ms.sort_by(f64::total_cmp);
    sample
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let s = Sample {
            latencies_ms: (1..=100).map(f64::from).collect(),
            errors: 0,
            secs: 2.0,
        };
        assert_eq!(s.percentile(50.0), Some(50.0));
        assert_eq!(s.percentile(95.0), Some(95.0));
        assert_eq!(s.percentile(99.0), Some(99.0));
        assert_eq!(s.throughput(), 50.0);
        assert_eq!(Sample::default().percentile(50.0), None);
    }

    #[tokio::test]
    async fn stops_at_the_request_count_and_counts_failures() {
        let budget = Budget {
            time: Duration::from_secs(10),
            max_requests: 40,
            warmup: 4,
        };
        let s = drive(4, budget, |i| async move { i % 4 != 0 }).await;
        assert_eq!(s.count() + s.errors, 40);
        assert_eq!(s.errors, 10);
    }
}
