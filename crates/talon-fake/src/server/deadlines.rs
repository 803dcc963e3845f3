//! The socket-side deadlines of the fake's accept loop: [`HeadTimed`] (the idle timeout, and a request's headers
//! within `header_timeout` of their first byte) and [`TimeoutBody`] (its body within
//! `body_timeout` of its headers, else [`BodyTimedOut`], which the pipeline answers with 408).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Bytes, HttpBody};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// [`HeadTimed`] phases: waiting for a request, reading its headers, serving it.
const IDLE: u8 = 0;
const HEAD: u8 = 1;
const IN_REQUEST: u8 = 2;

/// Where a connection is, shared by its socket ([`HeadTimed`]) and its service: the phase,
/// and when the current idle wait began.
pub(super) struct Phase {
    state: AtomicU8,
    base: Instant,
    /// Nanoseconds from `base` to the start of the current idle wait.
    idle_since: AtomicU64,
}

impl Phase {
    /// A connection just accepted: idle since now.
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            state: AtomicU8::new(IDLE),
            base: Instant::now(),
            idle_since: AtomicU64::new(0),
        })
    }

    /// The headers are in: the header timer stops.
    pub(super) fn in_request(&self) {
        self.state.store(IN_REQUEST, Ordering::Relaxed);
    }

    /// The answer is ready: the connection waits for its next request from now on.
    pub(super) fn idle(&self) {
        let since = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.idle_since.store(since, Ordering::Relaxed);
        self.state.store(IDLE, Ordering::Relaxed);
    }

    fn idle_since(&self) -> Instant {
        self.base + Duration::from_nanos(self.idle_since.load(Ordering::Relaxed))
    }
}

/// A connection's socket that enforces the two waits before a request: `idle_timeout` while
/// it waits for a request to start, and `header_timeout` from a request's first byte until its
/// headers are in. The service marks when the headers are in ([`IN_REQUEST`]) and when the
/// answer is ready ([`IDLE`]); the first byte read while idle starts the header timer.
///
/// One timer per connection serves both, and it is not re-armed per request: a wait only
/// notes when it began (a clock read), and when the timer fires early (its deadline was an
/// earlier wait's) it is moved to the current wait's deadline. So a keep-alive connection
/// whose requests come quicker than `idle_timeout` touches the timer wheel about once per
/// `idle_timeout`, not once per request, which is what hyper's own header timer (a boxed
/// sleep per request) would cost on the hot path.
pub(crate) struct HeadTimed {
    inner: TcpStream,
    phase: Arc<Phase>,
    header_timeout: Duration,
    idle_timeout: Duration,
    /// When the current request's headers must be in.
    head_deadline: Option<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
}

const IDLE_EXPIRED: &str = "the connection was idle past the idle timeout";
const HEAD_EXPIRED: &str = "the request headers were not complete before the header timeout";

impl HeadTimed {
    pub(super) fn new(
        inner: TcpStream,
        phase: Arc<Phase>,
        header_timeout: Duration,
        idle_timeout: Duration,
    ) -> Self {
        Self {
            inner,
            phase,
            header_timeout,
            idle_timeout,
            head_deadline: None,
            sleep: None,
        }
    }

    /// The deadline of the wait a pending read is in: `None` while a request is served (its
    /// body has its own deadline).
    fn deadline(&self) -> Option<(Instant, &'static str)> {
        match self.phase.state.load(Ordering::Relaxed) {
            IDLE => Some((self.phase.idle_since() + self.idle_timeout, IDLE_EXPIRED)),
            HEAD => self.head_deadline.map(|d| (d, HEAD_EXPIRED)),
            _ => None,
        }
    }
}

impl AsyncRead for HeadTimed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before
                    && this
                        .phase
                        .state
                        .compare_exchange(IDLE, HEAD, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    this.head_deadline = Some(Instant::now() + this.header_timeout);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                // While a request is served the timer stays armed too, at a bound no later
                // than the idle deadline to come: once the answer is out hyper may not read
                // again until something wakes it, and then the timer does.
                let target = this.deadline();
                let idle_timeout = this.idle_timeout;
                let sleep = this.sleep.get_or_insert_with(|| {
                    let at = target.map_or_else(|| Instant::now() + idle_timeout, |(d, _)| d);
                    Box::pin(tokio::time::sleep_until(at))
                });
                // A later deadline waits for the timer to fire early; an earlier one moves it.
                if let Some((deadline, _)) = target
                    && sleep.deadline() > deadline
                {
                    sleep.as_mut().reset(deadline);
                }
                while sleep.as_mut().poll(cx).is_ready() {
                    let now = Instant::now();
                    match target {
                        Some((deadline, why)) if now >= deadline => {
                            return Poll::Ready(Err(std::io::Error::new(
                                std::io::ErrorKind::TimedOut,
                                why,
                            )));
                        }
                        Some((deadline, _)) => sleep.as_mut().reset(deadline),
                        None => sleep.as_mut().reset(now + idle_timeout),
                    }
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for HeadTimed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The error a [`TimeoutBody`] yields at its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body was not complete before its deadline")]
pub(crate) struct BodyTimedOut;

/// Whether `e` (or one of its sources) is a [`BodyTimedOut`].
pub(crate) fn is_body_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyTimedOut>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// A request body that fails with [`BodyTimedOut`] if it is not complete by `deadline`.
/// The timer is only created when the body first has to wait, so a body that is already
/// buffered (the usual case) costs no timer.
pub(crate) struct TimeoutBody<B> {
    inner: B,
    deadline: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl<B> TimeoutBody<B> {
    pub(crate) fn new(inner: B, deadline: Instant) -> Self {
        Self {
            inner,
            deadline,
            sleep: None,
        }
    }
}

impl<B> HttpBody for TimeoutBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|r| r.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
