import type { DmaPeer } from './isaDma';
import type { DmaLines } from './isaDevice';

// Two or more cards on one DMA channel. The ISA bus has one DREQn/DACKn pair per channel;
// cards that share it must float their DREQ driver while idle (the 82077AA does, through
// the DOR's DMA gate), so the line is the OR of the cards that drive it. DACKn goes to every
// card, and each card that is driving DREQ answers it: one answering card is a normal
// transfer; two put their bytes on the data bus at once, and what memory gets is neither's.
// Who may drive DREQ is software's business: on Windows, the adapter object's channel.

interface Member {
  peer: DmaPeer | null;
  dreq: boolean;
}

export class SharedDmaChannel implements DmaPeer {
  private readonly members: Member[] = [];
  /** The cards that answered the last DACK, which are the ones T/C ends a transfer for. */
  private answered: Member[] = [];
  private scratch = new Uint8Array(0);
  /** Transfers in which two or more cards drove the data bus. */
  conflicts = 0;

  constructor(
    private readonly dma: DmaLines,
    readonly channel: number,
  ) {
    dma.attach(channel, this);
  }

  /** The DREQ/DACK pair one card sees: give it to the card in place of the controller. */
  lines(): DmaLines {
    const member: Member = { peer: null, dreq: false };
    this.members.push(member);
    return {
      attach: (channel, peer) => {
        this.expectChannel(channel);
        member.peer = peer;
      },
      setDreq: (channel, level) => {
        this.expectChannel(channel);
        member.dreq = level;
        this.dma.setDreq(this.channel, this.members.some((m) => m.dreq));
      },
    };
  }

  private expectChannel(channel: number): void {
    if (channel !== this.channel) throw new Error(`a card on shared DMA channel ${this.channel} used channel ${channel}`);
  }

  private responders(): Member[] {
    this.answered = this.members.filter((m) => m.dreq && m.peer !== null);
    return this.answered;
  }

  dmaFromDevice(into: Uint8Array, channel: number): void {
    const cards = this.responders();
    if (cards.length === 0) {
      into.fill(0xff); // nobody drives the data bus
      return;
    }
    cards[0]!.peer!.dmaFromDevice(into, channel);
    if (cards.length === 1) return;
    // Bus contention: a driver pulling a line low wins over one pulling it high.
    this.conflicts += into.length;
    if (this.scratch.length < into.length) this.scratch = new Uint8Array(into.length);
    const other = this.scratch.subarray(0, into.length);
    for (const card of cards.slice(1)) {
      card.peer!.dmaFromDevice(other, channel);
      for (let i = 0; i < into.length; i++) into[i] = into[i]! & other[i]!;
    }
  }

  dmaToDevice(data: Uint8Array, channel: number): void {
    const cards = this.responders();
    if (cards.length > 1) this.conflicts += data.length;
    for (const card of cards) card.peer!.dmaToDevice(data, channel);
  }

  dmaDemandLimit(channel: number): number {
    let limit = Infinity;
    for (const m of this.members) if (m.dreq && m.peer?.dmaDemandLimit) limit = Math.min(limit, m.peer.dmaDemandLimit(channel));
    return limit;
  }

  dmaTerminalCount(channel: number): void {
    for (const card of this.answered) card.peer?.dmaTerminalCount?.(channel);
  }
}
