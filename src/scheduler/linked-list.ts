/** Doubly linked list whose nodes can be removed in O(1): the scheduler's pending queue. */

export interface ListNode<T> {
  readonly value: T;
  prev: ListNode<T> | null;
  next: ListNode<T> | null;
  list: LinkedList<T> | null;
}

export class LinkedList<T> {
  private head: ListNode<T> | null = null;
  private tail: ListNode<T> | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  push(value: T): ListNode<T> {
    const node: ListNode<T> = { value, prev: this.tail, next: null, list: this };
    if (this.tail) this.tail.next = node;
    else this.head = node;
    this.tail = node;
    this.count++;
    return node;
  }

  unshift(value: T): ListNode<T> {
    const node: ListNode<T> = { value, prev: null, next: this.head, list: this };
    if (this.head) this.head.prev = node;
    else this.tail = node;
    this.head = node;
    this.count++;
    return node;
  }

  shift(): T | undefined {
    const node = this.head;
    if (!node) return undefined;
    this.remove(node);
    return node.value;
  }

  peek(): T | undefined {
    return this.head?.value;
  }

  /** Unlinks a node; a node that is no longer in this list is ignored. */
  remove(node: ListNode<T>): boolean {
    if (node.list !== this) return false;
    if (node.prev) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = null;
    node.list = null;
    this.count--;
    return true;
  }

  /** Removes every value matching `predicate`; returns them in list order. */
  removeWhere(predicate: (value: T) => boolean): T[] {
    const removed: T[] = [];
    let node = this.head;
    while (node) {
      const next = node.next;
      if (predicate(node.value)) {
        this.remove(node);
        removed.push(node.value);
      }
      node = next;
    }
    return removed;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let node = this.head; node; node = node.next) yield node.value;
  }
}
