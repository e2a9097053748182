package main

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// batch is the records of one partition from one poll. Its offsets may be committed once pending reaches 0 and
// every earlier batch of the partition has too.
type batch struct {
	tracker *tracker
	pending atomic.Int64
	end     kgo.EpochOffset // the offset after the batch's last record, with that record's leader epoch
}

type partState struct {
	batches   []*batch // polled order; the head is the oldest not yet known to be acked
	acked     kgo.EpochOffset
	committed int64
}

// tracker knows, per owned partition, how far the outputs are acked and what is committed.
type tracker struct {
	// commitMu serialises commits with each other and with revokes, so that no commit of a partition runs after
	// its revoke has handed it over.
	commitMu sync.Mutex

	mu     sync.Mutex
	cond   *sync.Cond // broadcast when a batch is acked, on a failure, or when a waiter's context ends
	parts  map[string]map[int32]*partState
	err    error
	failed chan struct{} // closed on the first failed produce
}

func newTracker() *tracker {
	t := &tracker{parts: map[string]map[int32]*partState{}, failed: make(chan struct{})}
	t.cond = sync.NewCond(&t.mu)
	return t
}

// add registers a polled, non-empty batch of one partition.
func (t *tracker) add(topic string, partition int32, records []*kgo.Record) *batch {
	last := records[len(records)-1]
	b := &batch{tracker: t, end: kgo.EpochOffset{Epoch: last.LeaderEpoch, Offset: last.Offset + 1}}
	b.pending.Store(int64(len(records)))
	t.mu.Lock()
	defer t.mu.Unlock()
	byPartition := t.parts[topic]
	if byPartition == nil {
		byPartition = map[int32]*partState{}
		t.parts[topic] = byPartition
	}
	part := byPartition[partition]
	if part == nil {
		part = &partState{acked: kgo.EpochOffset{Epoch: -1, Offset: -1}, committed: -1}
		byPartition[partition] = part
	}
	part.batches = append(part.batches, b)
	return b
}

// done is called once per batch, when its last record is acked.
func (t *tracker) done() {
	t.mu.Lock()
	t.cond.Broadcast()
	t.mu.Unlock()
}

func (t *tracker) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.err = err
		close(t.failed)
		t.cond.Broadcast()
	}
}

func (t *tracker) failure() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// advance moves the acked offset past the fully acked batches at the head. t.mu is held.
func (part *partState) advance() {
	n := 0
	for n < len(part.batches) && part.batches[n].pending.Load() == 0 {
		part.acked = part.batches[n].end
		part.batches[n] = nil
		n++
	}
	part.batches = part.batches[n:]
}

// each calls fn for the owned partitions among only (all when only is nil). t.mu is held.
func (t *tracker) each(only map[string][]int32, fn func(topic string, partition int32, part *partState)) {
	if only == nil {
		for topic, byPartition := range t.parts {
			for partition, part := range byPartition {
				fn(topic, partition, part)
			}
		}
		return
	}
	for topic, partitions := range only {
		for _, partition := range partitions {
			if part := t.parts[topic][partition]; part != nil {
				fn(topic, partition, part)
			}
		}
	}
}

// ready returns the offsets to commit: the acked prefix of each partition, where it moved since the last commit.
func (t *tracker) ready(only map[string][]int32) map[string]map[int32]kgo.EpochOffset {
	t.mu.Lock()
	defer t.mu.Unlock()
	var offsets map[string]map[int32]kgo.EpochOffset
	t.each(only, func(topic string, partition int32, part *partState) {
		part.advance()
		if part.acked.Offset > part.committed {
			if offsets == nil {
				offsets = map[string]map[int32]kgo.EpochOffset{}
			}
			if offsets[topic] == nil {
				offsets[topic] = map[int32]kgo.EpochOffset{}
			}
			offsets[topic][partition] = part.acked
		}
	})
	return offsets
}

// committed records a commit response; it returns the first partition error.
func (t *tracker) committed(offsets map[string]map[int32]kgo.EpochOffset, resp *kmsg.OffsetCommitResponse) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var first error
	for _, topic := range resp.Topics {
		for _, p := range topic.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				if first == nil {
					first = err
				}
				continue
			}
			if part := t.parts[topic.Topic][p.Partition]; part != nil {
				part.committed = offsets[topic.Topic][p.Partition].Offset
			}
		}
	}
	return first
}

// waitAcked waits until every registered batch of the partitions is acked; false if a produce failed or ctx ended.
func (t *tracker) waitAcked(ctx context.Context, partitions map[string][]int32) bool {
	stop := context.AfterFunc(ctx, func() {
		t.mu.Lock()
		t.cond.Broadcast()
		t.mu.Unlock()
	})
	defer stop()
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		all := true
		t.each(partitions, func(_ string, _ int32, part *partState) {
			part.advance()
			all = all && len(part.batches) == 0
		})
		if all {
			return true
		}
		if t.err != nil || ctx.Err() != nil {
			return false
		}
		t.cond.Wait()
	}
}

// forget drops partitions this member no longer owns.
func (t *tracker) forget(partitions map[string][]int32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for topic, ps := range partitions {
		for _, partition := range ps {
			delete(t.parts[topic], partition)
		}
	}
}
