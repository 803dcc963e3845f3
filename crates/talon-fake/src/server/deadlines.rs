//! The socket-side deadlines of the fake's accept loop: [`HeadTimed`] (a request's headers
//! within `header_timeout` of their first byte) and [`TimeoutBody`] (its body within
//! `body_timeout` of its headers, else [`BodyTimedOut`], which the pipeline answers with 408).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Bytes, HttpBody};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

/// [`HeadTimed`] phases: waiting for a request, reading its headers, serving it.
pub(super) const IDLE: u8 = 0;
const HEAD: u8 = 1;
pub(super) const IN_REQUEST: u8 = 2;

/// A connection's socket that fails its reads once a request's headers have taken longer than
/// `header_timeout` since their first byte. The service marks when the headers are in
/// ([`IN_REQUEST`]) and when the answer is ready ([`IDLE`]); the first byte read while idle
/// starts the header timer. The timer is only created when a read has to wait in that phase,
/// so headers that arrive in one packet (the usual case) cost no timer.
pub(crate) struct HeadTimed {
    inner: TcpStream,
    phase: Arc<AtomicU8>,
    header_timeout: Duration,
    deadline: Option<Instant>,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl HeadTimed {
    pub(super) fn new(inner: TcpStream, phase: Arc<AtomicU8>, header_timeout: Duration) -> Self {
        Self {
            inner,
            phase,
            header_timeout,
            deadline: None,
            sleep: None,
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
                        .compare_exchange(IDLE, HEAD, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    this.deadline = Some(Instant::now() + this.header_timeout);
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if this.phase.load(Ordering::Relaxed) == HEAD
                    && let Some(deadline) = this.deadline
                {
                    let sleep = match &mut this.sleep {
                        Some(s) => {
                            if s.deadline() != deadline {
                                s.as_mut().reset(deadline);
                            }
                            s
                        }
                        None => this
                            .sleep
                            .insert(Box::pin(tokio::time::sleep_until(deadline))),
                    };
                    if sleep.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "the request headers were not complete before the header timeout",
                        )));
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
