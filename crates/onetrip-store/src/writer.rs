//! The single SQLite writer with group commit.
//!
//! SQLite lets one connection write at a time, and with `synchronous=FULL` every commit waits for
//! an fsync. When each use case opens its own write transaction, concurrent callers queue for
//! the lock and each pays its own fsync. The [`Writer`] is one task owning one write connection,
//! fed by a channel of jobs: it takes what is queued (up to [`MAX_BATCH`] jobs), runs them in
//! **one** transaction, each job inside its own `SAVEPOINT`, commits once and then answers every
//! caller.
//!
//! - A job that fails (a conflict, a constraint, a bug) is rolled back to its savepoint and its
//!   caller gets its own error; the other jobs of the batch still commit.
//! - A caller is answered only after the `COMMIT` containing its job succeeded: nothing is
//!   acknowledged before it is on disk. If `BEGIN` or `COMMIT` fails, every job of the batch gets
//!   the error and nothing of the batch is written.
//! - Writers that still use the pool (rare writes: catalog, accounts, drafts…) take the same
//!   [`WriteGate`] around their `BEGIN IMMEDIATE` that the writer holds for a whole batch, so the
//!   tokio mutex's FIFO order decides who writes next. Without it a pool writer would poll
//!   SQLite's busy handler (sleeping up to 100 ms between tries) and could starve behind a writer
//!   that starts its next batch microseconds after each commit.
//! - [`Writer::close`] stops taking jobs, finishes the ones already queued and closes the
//!   connection.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, SqlitePool};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::{Result, StoreError};

/// Most jobs committed in one transaction.
pub(crate) const MAX_BATCH: usize = 128;

/// Jobs waiting for the writer before callers wait to enqueue (backpressure).
const QUEUE: usize = 1024;

/// The lock deciding, within one process, who begins the next SQLite write transaction: the
/// writer holds it for a whole batch, pool writers around their `BEGIN IMMEDIATE`.
pub(crate) type WriteGate = Mutex<()>;

/// A future borrowing the writer's connection.
pub(crate) type ConnFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'c>>;

/// What a job's answer is carried as inside the writer (its type is restored by [`Writer::run`]).
type Answer = Box<dyn Any + Send>;

/// A job with its result type erased.
type Work = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> ConnFuture<'c, Answer> + Send>;

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Answer>>,
}

enum Message {
    Job(Job),
    Close(oneshot::Sender<()>),
}

/// The handle of the single SQLite writer; clones share the same task.
#[derive(Clone)]
pub struct Writer {
    sender: mpsc::Sender<Message>,
    gate: Arc<WriteGate>,
    stats: Arc<Counters>,
}

/// What the writer has committed so far.
#[derive(Debug, Default)]
struct Counters {
    batches: AtomicU64,
    jobs: AtomicU64,
}

/// Figures of the writer since the database was opened: committed batches and the jobs they
/// held (failed jobs of committed batches included), so `jobs / batches` is the mean batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed.
    pub batches: u64,
    /// Jobs run in them.
    pub jobs: u64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("closed", &self.sender.is_closed())
            .finish()
    }
}

/// The error every caller of a batch gets when the batch as a whole failed (`BEGIN`, `COMMIT`).
fn batch_error(e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Database(sqlx::Error::Io(std::io::Error::other(format!(
        "group commit failed: {e}"
    ))))
}

impl Writer {
    /// Opens the write connection and starts the writer task (needs a tokio runtime).
    pub(crate) async fn start(options: &SqliteConnectOptions) -> Result<Writer> {
        let conn = options.connect().await?;
        let (sender, receiver) = mpsc::channel(QUEUE);
        let gate = Arc::new(WriteGate::new(()));
        let stats = Arc::new(Counters::default());
        tokio::spawn(run_writer(
            conn,
            receiver,
            Arc::clone(&gate),
            Arc::clone(&stats),
        ));
        Ok(Writer {
            sender,
            gate,
            stats,
        })
    }

    /// Batches and jobs committed so far.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.stats.batches.load(Ordering::Relaxed),
            jobs: self.stats.jobs.load(Ordering::Relaxed),
        }
    }

    /// The gate pool writers take around `BEGIN IMMEDIATE`.
    pub(crate) fn gate(&self) -> &WriteGate {
        &self.gate
    }

    /// Runs `work` in the writer's next batch, inside its own savepoint, and returns its result
    /// once the batch's `COMMIT` succeeded. An error of `work` rolls back only `work`.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> ConnFuture<'c, T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: Work = Box::new(move |conn| {
            let fut = work(conn);
            Box::pin(async move { fut.await.map(|t| Box::new(t) as Answer) })
        });
        self.sender
            .send(Message::Job(Job { work, reply }))
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        let answer = answer
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))??;
        answer
            .downcast::<T>()
            .map(|t| *t)
            .map_err(|_| StoreError::Corrupt("writer answered with another type".into()))
    }

    /// Finishes the jobs already queued, then stops the writer and closes its connection.
    /// Later jobs fail as if the pool were closed.
    pub(crate) async fn close(&self) {
        let (ack, done) = oneshot::channel();
        if self.sender.send(Message::Close(ack)).await.is_ok() {
            // An error only means the writer is already gone.
            let _ = done.await;
        }
    }
}

/// The writer task: batches until closed (or every handle is dropped).
async fn run_writer(
    mut conn: SqliteConnection,
    mut receiver: mpsc::Receiver<Message>,
    gate: Arc<WriteGate>,
    stats: Arc<Counters>,
) {
    let mut acks = Vec::new();
    while let Some(message) = receiver.recv().await {
        let mut batch = Vec::new();
        match message {
            Message::Job(job) => batch.push(job),
            Message::Close(ack) => {
                // Take no more jobs; those already queued are still run below.
                receiver.close();
                acks.push(ack);
            }
        }
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(Message::Job(job)) => batch.push(job),
                Ok(Message::Close(ack)) => {
                    receiver.close();
                    acks.push(ack);
                }
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            run_batch(&mut conn, &gate, &stats, batch).await;
        }
    }
    if let Err(e) = conn.close().await {
        tracing::warn!(error = %e, "closing the SQLite writer connection failed");
    }
    for ack in acks {
        // The closer may have stopped waiting; nothing to do then.
        let _ = ack.send(());
    }
}

/// Runs one batch in one transaction, a savepoint per job, and answers every caller.
async fn run_batch(
    conn: &mut SqliteConnection,
    gate: &WriteGate,
    stats: &Counters,
    batch: Vec<Job>,
) {
    let turn = gate.lock().await;
    if let Err(e) = sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await {
        tracing::warn!(error = %e, jobs = batch.len(), "group commit could not begin");
        for job in batch {
            let _ = job.reply.send(Err(batch_error(&e)));
        }
        return;
    }
    let mut done: Vec<(oneshot::Sender<Result<Answer>>, Result<Answer>)> =
        Vec::with_capacity(batch.len());
    // Set when the transaction itself is lost (SQLite rolls it back on some I/O errors).
    let mut lost: Option<String> = None;
    for job in batch {
        if let Some(why) = &lost {
            let _ = job.reply.send(Err(batch_error(why)));
            continue;
        }
        if let Err(e) = sqlx::query("SAVEPOINT job").execute(&mut *conn).await {
            lost = Some(e.to_string());
            let _ = job.reply.send(Err(batch_error(&e)));
            continue;
        }
        let outcome = AssertUnwindSafe((job.work)(&mut *conn))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| Err(StoreError::Corrupt("a write job panicked".into())));
        let close = match &outcome {
            Ok(_) => sqlx::query("RELEASE job").execute(&mut *conn).await,
            Err(_) => match sqlx::query("ROLLBACK TO job").execute(&mut *conn).await {
                Ok(_) => sqlx::query("RELEASE job").execute(&mut *conn).await,
                Err(e) => Err(e),
            },
        };
        if let Err(e) = close {
            lost = Some(e.to_string());
        }
        done.push((job.reply, outcome));
    }
    let committed = match &lost {
        Some(why) => Err(why.clone()),
        None => sqlx::query("COMMIT")
            .execute(&mut *conn)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string()),
    };
    if let Err(why) = &committed {
        tracing::warn!(error = %why, jobs = done.len(), "group commit failed");
        // Leaves the connection outside any transaction; fails harmlessly when SQLite already
        // rolled back.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    drop(turn);
    if committed.is_ok() {
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats.jobs.fetch_add(done.len() as u64, Ordering::Relaxed);
    }
    for (reply, outcome) in done {
        let answer = match (&committed, outcome) {
            (Ok(()), outcome) => outcome,
            // A job that failed on its own keeps its own error.
            (Err(_), Err(e)) => Err(e),
            (Err(why), Ok(_)) => Err(batch_error(why)),
        };
        // The caller may have gone away (its request was cancelled): the work stays committed.
        let _ = reply.send(answer);
    }
}

/// Begins a pool write transaction on SQLite after waiting for the writer's turn.
pub(crate) async fn begin_on_pool(
    pool: &SqlitePool,
    gate: Option<&WriteGate>,
) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    let _turn = match gate {
        Some(gate) => Some(gate.lock().await),
        None => None,
    };
    pool.begin_with("BEGIN IMMEDIATE").await
}
