import { type Command, Redis, type RedisOptions } from 'ioredis';

/**
 * The Redis backend's command timeout, with one timer for all commands in flight. ioredis'
 * `commandTimeout` arms and clears a timer per command (and deletes a property of the command
 * when it clears it), which cost the limits stage 1.5–2 µs on every action; here a command
 * costs a clock read and two array pushes. A command still unanswered `ms` after it was sent is
 * rejected with ioredis' own `Command timed out`, as `commandTimeout` would: a hung Redis (connected
 * but silent) denies within the timeout instead of holding the action.
 *
 * INVARIANT: replies on one connection come in the order the commands were sent, so once a
 * command is answered, every command sent before it has been too (an error reply rejects a
 * command without marking it resolved): those are dropped from the watch list.
 */
export class CommandDeadlines {
  private commands: Command[] = [];
  private deadlines: number[] = [];
  /** Index of the oldest command still watched. */
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  watch(command: Command): void {
    this.forgetAnswered();
    this.commands.push(command);
    this.deadlines.push(performance.now() + this.ms);
    if (!this.timer) this.arm(this.ms);
  }

  /** Stops the timer (the client is closing); commands still in flight are ioredis' to fail. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Drops answered commands: all when the newest is, else the oldest while answered (amortised O(1)). */
  private forgetAnswered(): void {
    const commands = this.commands;
    const last = commands.length - 1;
    if (last < this.head || (commands[last] as Command).isResolved) {
      this.clear();
      return;
    }
    while ((commands[this.head] as Command).isResolved) this.head++;
    if (this.head > 1024 && this.head * 2 > commands.length) {
      this.commands = commands.slice(this.head);
      this.deadlines = this.deadlines.slice(this.head);
      this.head = 0;
    }
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.expire, Math.max(1, ms));
    this.timer.unref();
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    this.forgetAnswered();
    const now = performance.now();
    while (this.head < this.commands.length && (this.deadlines[this.head] as number) <= now) {
      const command = this.commands[this.head] as Command;
      this.head++;
      if (!command.isResolved) command.reject(new Error('Command timed out'));
    }
    if (this.head < this.commands.length) this.arm((this.deadlines[this.head] as number) - now);
    else this.clear();
  };

  private clear(): void {
    this.commands.length = 0;
    this.deadlines.length = 0;
    this.head = 0;
  }
}

/** An ioredis client whose commands time out through `CommandDeadlines`. */
export class DeadlineRedis extends Redis {
  private deadlines: CommandDeadlines | undefined;

  constructor(url: string, options: RedisOptions & { commandTimeout: number }) {
    const { commandTimeout, ...rest } = options;
    super(url, rest);
    this.deadlines = new CommandDeadlines(commandTimeout);
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    // Set once the constructor has run; ioredis sends nothing before (the client connects lazily).
    this.deadlines?.watch(command);
    return super.sendCommand(command, stream);
  }

  override disconnect(reconnect?: boolean): void {
    if (!reconnect) this.deadlines?.stop();
    super.disconnect(reconnect);
  }
}
