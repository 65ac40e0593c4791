// The EventBus port and its adapters, one module per concern under ./kafka/ (topics, CloudEvents
// headers, producer spans, the port, the batching publisher, consumer lag, the kafkajs adapter, the
// in-memory adapter). This file only re-exports the public surface, so the modules can share internals.
export { topics, authorityTopicSpecs, ensureTopics } from './kafka/topics';
export type { AuthorityTopics, TopicSpec } from './kafka/topics';
export {
  cloudEventHeaders,
  headerString,
  parseCloudEventHeaders,
  extractTraceContext,
  withEventBatchSignature,
  withEventSignature,
} from './kafka/cloudevents';
export type { CloudEventAttributes, ParsedCloudEvent } from './kafka/cloudevents';
export { startProducerSpan, endProducerSpan } from './kafka/producer-tracing';
export type { ProducedMessageLike, ProducerSpan } from './kafka/producer-tracing';
export type {
  EventHeaders,
  EventMessage,
  ConsumedMessage,
  ConsumedBatch,
  BatchContext,
  BatchHandler,
  ConsumerTuning,
  MessageHandler,
  ConsumeOptions,
  ConsumerEvent,
  ConsumerHandle,
  PartitionLag,
  CatchUpOptions,
  CatchUpHandle,
  EventBus,
} from './kafka/port';
export { BatchingPublisher } from './kafka/batching-publisher';
export type { BatchingPublisherOptions, BatchSender } from './kafka/batching-publisher';
export { PublishQueue, KAFKA_PRODUCER_SETTINGS, kafkajsLogCreator } from './kafka/publish-queue';
export type { PublishQueueOptions } from './kafka/publish-queue';
export { ConsumerLagTracker } from './kafka/lag-tracker';
export { InMemoryEventBus } from './kafka/in-memory-adapter';
export type { InMemoryEventBusOptions } from './kafka/in-memory-adapter';
export { KafkaEventBus, createKafka, kafkaFromConfig } from './kafka/kafkajs-adapter';
export type { CreateKafkaOptions } from './kafka/kafkajs-adapter';
export { kafkaSecurityFromConfig } from './kafka/kafkajs-security';
export type { KafkaSecurity, KafkaSasl, KafkaSecurityConfig } from './kafka/kafkajs-security';
