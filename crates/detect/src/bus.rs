//! The bus between stages: events from inputs to detection workers, alerts from detection to
//! their sinks.
//!
//! Messages are serialisable and every delivery must be acknowledged explicitly, so the stages
//! are written against the semantics a NATS JetStream work queue offers (at-least-once, a
//! delivery that is neither acked nor finished is delivered again). The in-process bus here
//! keeps those semantics with bounded queues: a publisher waits when a topic is full
//! (back-pressure instead of silent drops), a [`Delivery`] dropped without [`Delivery::ack`]
//! goes back to the front of the queue, and subscribers cloned from one another share the
//! work like a JetStream queue group.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

/// Anything that may cross the bus.
pub trait Message: Serialize + DeserializeOwned + Send + 'static {}

impl<T: Serialize + DeserializeOwned + Send + 'static> Message for T {}

/// The bus is gone: every subscriber (or the publisher) was dropped.
#[derive(Debug, Clone, thiserror::Error)]
#[error("bus topic {topic:?} is closed")]
pub struct BusClosed {
    pub topic: String,
}

/// Sends messages to a topic.
pub trait Publisher<M: Message>: Clone + Send + Sync + 'static {
    /// Publishes one message, waiting while the topic is full.
    fn publish(&self, message: M) -> impl Future<Output = Result<(), BusClosed>> + Send;
    /// Publishes without waiting; gives the message back when the topic is full.
    fn try_publish(&self, message: M) -> Result<(), TryPublishError<M>>;
}

/// Why a message could not be published without waiting.
#[derive(Debug)]
pub enum TryPublishError<M> {
    Full(M),
    Closed(M),
}

/// Receives deliveries from a topic.
pub trait Subscriber<M: Message>: Send + 'static {
    /// The next delivery, or `None` once every publisher is gone and the topic is drained.
    fn next(&mut self) -> impl Future<Output = Option<Delivery<M>>> + Send;
}

/// Counters of one topic, shared by its publishers and subscribers.
#[derive(Debug, Default)]
pub struct TopicStats {
    pub published: AtomicU64,
    pub delivered: AtomicU64,
    pub acked: AtomicU64,
    pub redelivered: AtomicU64,
}

/// A snapshot of [`TopicStats`] plus the queue depth.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TopicCounts {
    pub published: u64,
    pub delivered: u64,
    pub acked: u64,
    pub redelivered: u64,
    /// Published and not yet acknowledged.
    pub pending: u64,
}

impl TopicStats {
    pub fn counts(&self) -> TopicCounts {
        let published = self.published.load(Ordering::Relaxed);
        let acked = self.acked.load(Ordering::Relaxed);
        TopicCounts {
            published,
            delivered: self.delivered.load(Ordering::Relaxed),
            acked,
            redelivered: self.redelivered.load(Ordering::Relaxed),
            pending: published.saturating_sub(acked),
        }
    }
}

struct Envelope<M> {
    message: M,
    attempt: u32,
}

/// One message handed to a subscriber. Acknowledge it once it is fully processed; dropping it
/// unacknowledged (a worker failed half-way) delivers it again.
pub struct Delivery<M: Message> {
    envelope: Option<Envelope<M>>,
    returns: Arc<Mutex<VecDeque<Envelope<M>>>>,
    stats: Arc<TopicStats>,
}

impl<M: Message> Delivery<M> {
    pub fn message(&self) -> &M {
        // Present until ack or drop, which consume the delivery.
        &self
            .envelope
            .as_ref()
            .expect("delivery holds its message")
            .message
    }

    /// How many times this message was delivered before (0 the first time).
    pub fn redeliveries(&self) -> u32 {
        self.envelope.as_ref().map_or(0, |e| e.attempt)
    }

    /// Marks the message processed and returns it.
    pub fn ack(mut self) -> M {
        self.stats.acked.fetch_add(1, Ordering::Relaxed);
        let envelope = self.envelope.take().expect("delivery holds its message");
        envelope.message
    }
}

impl<M: Message> Drop for Delivery<M> {
    fn drop(&mut self) {
        if let Some(mut envelope) = self.envelope.take() {
            envelope.attempt += 1;
            self.stats.redelivered.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut returns) = self.returns.lock() {
                returns.push_back(envelope);
            }
        }
    }
}

/// The in-process bus: one bounded queue per topic.
pub struct InProcessTopic;

impl InProcessTopic {
    /// A topic holding at most `capacity` messages in its queue.
    pub fn open<M: Message>(
        name: &str,
        capacity: usize,
    ) -> (
        InProcessPublisher<M>,
        InProcessSubscriber<M>,
        Arc<TopicStats>,
    ) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let stats = Arc::new(TopicStats::default());
        let publisher = InProcessPublisher {
            topic: Arc::from(name),
            sender,
            stats: stats.clone(),
        };
        let subscriber = InProcessSubscriber {
            receiver: Arc::new(tokio::sync::Mutex::new(receiver)),
            returns: Arc::new(Mutex::new(VecDeque::new())),
            stats: stats.clone(),
        };
        (publisher, subscriber, stats)
    }
}

pub struct InProcessPublisher<M> {
    topic: Arc<str>,
    sender: mpsc::Sender<Envelope<M>>,
    stats: Arc<TopicStats>,
}

impl<M> Clone for InProcessPublisher<M> {
    fn clone(&self) -> Self {
        InProcessPublisher {
            topic: self.topic.clone(),
            sender: self.sender.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<M: Message> Publisher<M> for InProcessPublisher<M> {
    async fn publish(&self, message: M) -> Result<(), BusClosed> {
        let envelope = Envelope {
            message,
            attempt: 0,
        };
        self.sender.send(envelope).await.map_err(|_| BusClosed {
            topic: self.topic.to_string(),
        })?;
        self.stats.published.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn try_publish(&self, message: M) -> Result<(), TryPublishError<M>> {
        let envelope = Envelope {
            message,
            attempt: 0,
        };
        match self.sender.try_send(envelope) {
            Ok(()) => {
                self.stats.published.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(e)) => Err(TryPublishError::Full(e.message)),
            Err(mpsc::error::TrySendError::Closed(e)) => Err(TryPublishError::Closed(e.message)),
        }
    }
}

/// A subscriber; clones share one queue (each message goes to one of them).
pub struct InProcessSubscriber<M> {
    receiver: Arc<tokio::sync::Mutex<mpsc::Receiver<Envelope<M>>>>,
    returns: Arc<Mutex<VecDeque<Envelope<M>>>>,
    stats: Arc<TopicStats>,
}

impl<M> Clone for InProcessSubscriber<M> {
    fn clone(&self) -> Self {
        InProcessSubscriber {
            receiver: self.receiver.clone(),
            returns: self.returns.clone(),
            stats: self.stats.clone(),
        }
    }
}

impl<M: Message> InProcessSubscriber<M> {
    fn deliver(&self, envelope: Envelope<M>) -> Delivery<M> {
        self.stats.delivered.fetch_add(1, Ordering::Relaxed);
        Delivery {
            envelope: Some(envelope),
            returns: self.returns.clone(),
            stats: self.stats.clone(),
        }
    }

    fn returned(&self) -> Option<Envelope<M>> {
        self.returns.lock().ok()?.pop_front()
    }
}

impl<M: Message> Subscriber<M> for InProcessSubscriber<M> {
    async fn next(&mut self) -> Option<Delivery<M>> {
        if let Some(envelope) = self.returned() {
            return Some(self.deliver(envelope));
        }
        let received = self.receiver.lock().await.recv().await;
        match received {
            Some(envelope) => Some(self.deliver(envelope)),
            // The publishers are gone; a delivery dropped meanwhile may still be waiting.
            None => self.returned().map(|envelope| self.deliver(envelope)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_flow_and_unacked_deliveries_come_back() {
        let (publisher, mut subscriber, stats) = InProcessTopic::open::<String>("events", 4);
        publisher.publish("a".into()).await.expect("publish");
        publisher.publish("b".into()).await.expect("publish");
        let first = subscriber.next().await.expect("delivery");
        assert_eq!(first.message(), "a");
        drop(first); // a worker failed: not acknowledged
        let again = subscriber.next().await.expect("redelivery");
        assert_eq!(again.message(), "a");
        assert_eq!(again.redeliveries(), 1);
        assert_eq!(again.ack(), "a");
        let second = subscriber.next().await.expect("delivery");
        assert_eq!(second.ack(), "b");
        drop(publisher);
        assert!(subscriber.next().await.is_none());
        let counts = stats.counts();
        assert_eq!(
            counts,
            TopicCounts {
                published: 2,
                delivered: 3,
                acked: 2,
                redelivered: 1,
                pending: 0
            }
        );
    }

    #[tokio::test]
    async fn a_full_topic_pushes_back_instead_of_dropping() {
        let (publisher, mut subscriber, stats) = InProcessTopic::open::<u32>("events", 2);
        publisher.try_publish(1).expect("room");
        publisher.try_publish(2).expect("room");
        assert!(matches!(
            publisher.try_publish(3),
            Err(TryPublishError::Full(3))
        ));
        // A waiting publish completes once a subscriber makes room.
        let waiting = {
            let publisher = publisher.clone();
            tokio::spawn(async move { publisher.publish(3).await })
        };
        assert_eq!(subscriber.next().await.expect("delivery").ack(), 1);
        waiting.await.expect("join").expect("publish");
        assert_eq!(stats.counts().published, 3);
    }

    #[tokio::test]
    async fn cloned_subscribers_share_the_work() {
        let (publisher, subscriber, stats) = InProcessTopic::open::<u32>("events", 64);
        for n in 0..40 {
            publisher.publish(n).await.expect("publish");
        }
        drop(publisher);
        let mut workers = Vec::new();
        for _ in 0..3 {
            let mut subscriber = subscriber.clone();
            workers.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                while let Some(delivery) = subscriber.next().await {
                    seen.push(delivery.ack());
                    tokio::task::yield_now().await;
                }
                seen
            }));
        }
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await.expect("join"));
        }
        all.sort_unstable();
        assert_eq!(all, (0..40).collect::<Vec<_>>());
        assert_eq!(stats.counts().pending, 0);
    }
}
