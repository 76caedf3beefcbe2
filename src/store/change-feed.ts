/** What a {@link ChangeFeed} announces: kills and revives, overrides, approvals, audit records (live events), tokens. */
export type ChangeTopic = 'kills' | 'overrides' | 'approvals' | 'events' | 'tokens';

/**
 * How long a follower that hears the change feed waits between its own reads: the feed wakes it
 * at once, this read only covers a notification lost on a connection that has not noticed it dropped.
 */
export const CHANGE_FEED_FALLBACK_MS = 2000;

/**
 * Changes announced to every process sharing the store, this one included. Notifications are
 * not stored: one sent while a listener's connection was down is lost, so after a reconnect every
 * listener is called with `reconnected` true and re-reads what it follows.
 */
export interface ChangeFeed {
  /**
   * Calls `listener(false, detail)` on each change of `topic` (`detail`: what changed, e.g. the
   * approval id, when the announcer said), `listener(true)` after a reconnect. Returns a function that stops it.
   */
  on(topic: ChangeTopic, listener: (reconnected: boolean, detail?: string) => void): () => void;
  /** Announces a change of `topic` that is already durable. */
  notify(topic: ChangeTopic, detail?: string): Promise<void>;
}
