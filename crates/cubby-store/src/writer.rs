//! The single writer: group commit with one savepoint per job.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use sqlx::AnyPool;
use sqlx::{AnyConnection, Executor};
use tokio::sync::{mpsc, oneshot};

use crate::{Backend, JobFuture, OpError, StoreError};

/// What a finished job hands back: whether to keep its changes, and how to tell
/// its caller the outcome once the commit is known.
pub(crate) struct Done {
    keep: bool,
    finish: Box<dyn FnOnce(Result<(), StoreError>) + Send>,
}

pub(crate) type Job = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, Done> + Send>;

pub(crate) fn wrap<T, F>(job: F, reply: oneshot::Sender<Result<T, OpError>>) -> Job
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut AnyConnection) -> JobFuture<'c, T> + Send + 'static,
{
    Box::new(move |conn| {
        Box::pin(async move {
            let result = job(conn).await;
            let keep = result.is_ok();
            Ok(Done {
                keep,
                finish: Box::new(move |commit| {
                    let outcome = match commit {
                        Ok(()) => result,
                        Err(e) => Err(OpError::Store(e)),
                    };
                    // The caller may have gone away (client disconnected): nothing to tell.
                    let _ = reply.send(outcome);
                }),
            })
        })
    })
}

/// Counters since start.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct WriterStats {
    pub batches: u64,
    pub jobs: u64,
    pub commit_micros_total: u64,
}

#[derive(Clone, Default)]
pub(crate) struct SharedStats(Arc<[AtomicU64; 3]>);

impl SharedStats {
    pub(crate) fn snapshot(&self) -> WriterStats {
        WriterStats {
            batches: self.0[0].load(Ordering::Relaxed),
            jobs: self.0[1].load(Ordering::Relaxed),
            commit_micros_total: self.0[2].load(Ordering::Relaxed),
        }
    }
    fn record(&self, jobs: usize, commit_micros: u64) {
        self.0[0].fetch_add(1, Ordering::Relaxed);
        self.0[1].fetch_add(jobs as u64, Ordering::Relaxed);
        self.0[2].fetch_add(commit_micros, Ordering::Relaxed);
    }
}

pub(crate) async fn run(
    pool: AnyPool,
    mut rx: mpsc::Receiver<Job>,
    backend: Backend,
    max_batch: usize,
    stats: SharedStats,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let count = batch.len();
        let started = Instant::now();
        let (finishes, outcome) = match pool.acquire().await {
            Ok(mut conn) => run_batch(&mut conn, backend, batch).await,
            Err(e) => (Vec::new(), Err((batch, StoreError::unavailable(e)))),
        };
        match outcome {
            Ok(()) => {
                stats.record(count, started.elapsed().as_micros() as u64);
                for finish in finishes {
                    finish(Ok(()));
                }
            }
            Err((unrun, error)) => {
                tracing::error!(%error, jobs = count, "write batch failed; every job in it is rolled back");
                for finish in finishes {
                    finish(Err(error.clone()));
                }
                // Jobs never started are dropped: their callers' reply channels close
                // and `Store::transact` answers them with `Unavailable`.
                drop(unrun);
            }
        }
    }
}

type Finish = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

async fn run_batch(
    conn: &mut AnyConnection,
    backend: Backend,
    batch: Vec<Job>,
) -> (Vec<Finish>, Result<(), (Vec<Job>, StoreError)>) {
    let mut finishes: Vec<Finish> = Vec::with_capacity(batch.len());
    if let Err(e) = conn.execute(backend.begin_sql()).await {
        return (finishes, Err((batch, StoreError::unavailable(e))));
    }
    let mut jobs = batch.into_iter();
    while let Some(job) = jobs.next() {
        let step = async {
            conn.execute("SAVEPOINT job").await?;
            let done = job(&mut *conn).await;
            Ok::<_, sqlx::Error>(done)
        }
        .await;
        let done = match step {
            Ok(Ok(done)) => done,
            // The job itself never fails at this level (wrap turns errors into
            // Done { keep: false }); a failure here is the savepoint statement.
            Ok(Err(e)) => return abort(conn, finishes, jobs.collect(), e.to_string()).await,
            Err(e) => return abort(conn, finishes, jobs.collect(), e.to_string()).await,
        };
        let closing = if done.keep {
            conn.execute("RELEASE SAVEPOINT job").await
        } else {
            match conn.execute("ROLLBACK TO SAVEPOINT job").await {
                Ok(_) => conn.execute("RELEASE SAVEPOINT job").await,
                Err(e) => Err(e),
            }
        };
        finishes.push(done.finish);
        if let Err(e) = closing {
            return abort(conn, finishes, jobs.collect(), e.to_string()).await;
        }
    }
    match conn.execute("COMMIT").await {
        Ok(_) => (finishes, Ok(())),
        Err(e) => abort(conn, finishes, Vec::new(), e.to_string()).await,
    }
}

async fn abort(
    conn: &mut AnyConnection,
    finishes: Vec<Finish>,
    unrun: Vec<Job>,
    message: String,
) -> (Vec<Finish>, Result<(), (Vec<Job>, StoreError)>) {
    let _ = conn.execute("ROLLBACK").await;
    (finishes, Err((unrun, StoreError::Unavailable(message))))
}
