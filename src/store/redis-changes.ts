import { Redis } from 'ioredis';
import type { ChangeFeed, ChangeTopic } from './change-feed.js';

/**
 * The change feed on Redis pub/sub, for deployments that run Redis already and want PostgreSQL
 * to carry no `LISTEN` connection per server: one subscriber connection and one publishing
 * connection per store, on the channel `channel`. Messages are `topic` or `topic:detail`, as on
 * PostgreSQL. A change is published after it commits; when Redis is unreachable the publish is
 * dropped and followers fall back to their reads. After the subscriber reconnects, every
 * listener is called with `reconnected` true (pub/sub keeps nothing for absent subscribers).
 */
export class RedisChangeFeed implements ChangeFeed {
  readonly #url: string;
  readonly #channel: string;
  readonly #listeners = new Map<ChangeTopic, Set<(reconnected: boolean, detail?: string) => void>>();
  #subscriber: Redis | undefined;
  #publisher: Redis | undefined;

  constructor(url: string, channel: string) {
    this.#url = url;
    this.#channel = channel;
  }

  on(topic: ChangeTopic, listener: (reconnected: boolean, detail?: string) => void): () => void {
    let set = this.#listeners.get(topic);
    if (!set) {
      set = new Set();
      this.#listeners.set(topic, set);
    }
    set.add(listener);
    this.#subscribe();
    return () => set.delete(listener);
  }

  async notify(topic: ChangeTopic, detail?: string): Promise<void> {
    this.#publisher ??= this.#connect();
    await this.#publisher.publish(this.#channel, detail === undefined ? topic : `${topic}:${detail}`);
  }

  async close(): Promise<void> {
    const clients = [this.#subscriber, this.#publisher];
    this.#subscriber = undefined;
    this.#publisher = undefined;
    for (const client of clients) client?.disconnect();
  }

  #connect(): Redis {
    // Gives up soon while Redis is away: an announcement is best effort, the reads are the fallback.
    const client = new Redis(this.#url, { maxRetriesPerRequest: 1, connectTimeout: 2000 });
    client.on('error', () => undefined);
    return client;
  }

  #subscribe(): void {
    if (this.#subscriber) return;
    const subscriber = new Redis(this.#url, { maxRetriesPerRequest: null });
    this.#subscriber = subscriber;
    subscriber.on('error', () => undefined);
    let ready = false;
    subscriber.on('ready', () => {
      // ioredis subscribes again by itself on reconnect; what was published meanwhile is lost.
      if (ready) this.#tellAll(true);
      ready = true;
    });
    subscriber.on('message', (_channel: string, message: string) => {
      const colon = message.indexOf(':');
      const topic = (colon < 0 ? message : message.slice(0, colon)) as ChangeTopic;
      this.#tell(topic, false, colon < 0 ? undefined : message.slice(colon + 1));
    });
    void subscriber.subscribe(this.#channel).catch(() => undefined);
  }

  #tellAll(reconnected: boolean): void {
    for (const topic of this.#listeners.keys()) this.#tell(topic, reconnected);
  }

  #tell(topic: ChangeTopic, reconnected: boolean, detail?: string): void {
    for (const listener of this.#listeners.get(topic) ?? []) {
      try {
        listener(reconnected, detail);
      } catch (error) {
        process.emitWarning(`a ${topic} change listener failed: ${String(error)}`);
      }
    }
  }
}
