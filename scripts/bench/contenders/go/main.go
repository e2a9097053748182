// Command go-contender is the Go contender of scripts/bench/compare.ts: the seed rule as an at-least-once
// consume → transform → produce loop on franz-go, written the way a Go team would write it for production.
//
//	go-contender [-lanes N] BROKERS INPUT OUTPUT DLQ GROUP
//
// BROKERS is a comma-separated list. It runs until SIGTERM or SIGINT, then finishes the records it has polled,
// waits for their acks, commits and exits 0. It logs one line at start and one at stop; errors go to stderr.
//
// The rule (seed.go) is the seed's Go service verbatim: encoding/json Unmarshal into {id,timestamp,data,status},
// time.Parse(time.RFC3339), reject when older than 24 h, status = "valid" when len(data) > 10, json.Marshal.
// Outputs keep the input's key and headers; a rejected record goes to DLQ unchanged (key, value, headers) plus the
// x-processor-* headers processor puts on its dead-letter copies (x-processor-error says why).
//
// Design:
//   - One kgo.Client consumes (group, earliest, auto-commit off) and produces (franz-go defaults: idempotent,
//     acks=all; linger 5 ms and no compression like the other contenders).
//   - Parallelism: a poll loop hands records to N lanes (goroutines) by a hash of the key, N = 4 × GOMAXPROCS.
//     Key lanes keep per-key order (one key → one lane → Produce calls in input order → one output partition,
//     ordered by the idempotent producer) while using every core whatever the partition count or assignment; a
//     goroutine per partition would leave cores idle when this member owns fewer partitions than it has cores.
//     More lanes than cores absorb key skew and the moments a lane blocks in Produce on a full producer buffer.
//   - Lanes never wait for acks: Produce is asynchronous, its promise counts down the record's batch (the records
//     of one partition from one poll). Polling, transforming and producing overlap.
//   - Commits (tracker.go): per partition a FIFO of batches; the committed offset is the end of the longest prefix
//     of fully acked batches, so it never passes a record whose output or dead-letter copy is not acked. A
//     committer commits what advanced every 1 s, on revoke and at shutdown.
//   - Rebalances: BlockRebalanceOnPoll, so a revoke callback never runs between a poll and the registration of its
//     batches. OnPartitionsRevoked waits until every batch of the revoked partitions is acked, commits them
//     synchronously and forgets them, holding the commit lock so the ticker cannot commit a partition this member
//     no longer owns. OnPartitionsLost forgets without committing (the group has moved on).
//   - A produce error (franz-go retries retriable ones itself, without limit) is fatal: the process exits 1 without
//     committing past the failed record, so the record is consumed again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/maphash"
	"log"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	commitInterval = time.Second
	// Memory bounds. PollFetches would hand over everything fetched at once (a whole backlog's worth of records
	// held at a time); maxPoll records per poll, two polls queued per lane and at most maxBuffered records awaiting
	// their ack keep the heap at a few tens of MB at full speed, with no loss of throughput.
	maxPoll     = 5000
	maxBuffered = 10000
)

// work is one polled record on its way through a lane.
type work struct {
	rec   *kgo.Record
	batch *batch
}

type processor struct {
	client       *kgo.Client
	output, dlq  string
	tracker      *tracker
	lanes        []chan []work
	seed         maphash.Seed
	outputs, dls []int64 // per lane, read after the lanes stop
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("go-contender: ")
	lanes := flag.Int("lanes", 4*runtime.GOMAXPROCS(0), "goroutines transforming and producing, records spread by key")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go-contender [-lanes N] BROKERS INPUT OUTPUT DLQ GROUP")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 5 || *lanes < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), flag.Arg(1), flag.Arg(2), flag.Arg(3), flag.Arg(4), *lanes); err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

func run(brokers, input, output, dlq, group string, lanes int) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	p := &processor{
		output:  output,
		dlq:     dlq,
		tracker: newTracker(),
		lanes:   make([]chan []work, lanes),
		seed:    maphash.MakeSeed(),
		outputs: make([]int64, lanes),
		dls:     make([]int64, lanes),
	}
	client, err := kgo.NewClient(
		kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.ClientID("go-contender"),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsRevoked(p.revoked),
		kgo.OnPartitionsLost(p.lost),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(maxBuffered),
		// uncompressed like the other contenders (the Kafka clients' default; franz-go's is snappy)
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	)
	if err != nil {
		return err
	}
	p.client = client
	started := time.Now()
	log.Printf("consuming %s (group %s) → %s, dead letters → %s, %d lanes", input, group, output, dlq, lanes)

	var lanesDone sync.WaitGroup
	for i := range p.lanes {
		p.lanes[i] = make(chan []work, 2)
		lanesDone.Go(func() { p.lane(i) })
	}
	committerCtx, stopCommitter := context.WithCancel(context.Background())
	var committerDone sync.WaitGroup
	committerDone.Go(func() { p.committer(committerCtx) })

	// the poll loop ends on a signal or a failed produce
	loopCtx, stopLoop := context.WithCancel(ctx)
	go func() {
		select {
		case <-p.tracker.failed:
			stopLoop()
		case <-loopCtx.Done():
		}
	}()
	p.poll(loopCtx)
	stopLoop()
	stop() // a second signal now kills at once

	// shutdown: finish what was polled, wait for every ack, commit, leave the group
	for _, lane := range p.lanes {
		close(lane)
	}
	lanesDone.Wait()
	flushCtx, cancelFlush := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelFlush()
	flushErr := client.Flush(flushCtx)
	stopCommitter()
	committerDone.Wait()
	// safe even after a failed produce: its batch never counts as acked, so the commit stops before it
	p.tracker.commitMu.Lock()
	err = p.commit(flushCtx, nil)
	p.tracker.commitMu.Unlock()
	client.Close() // leaves the group; the final revoke finds nothing left to commit
	if fatal := p.tracker.failure(); fatal != nil {
		return fatal
	}
	if flushErr != nil {
		return fmt.Errorf("flush at shutdown: %w", flushErr)
	}
	if err != nil {
		return fmt.Errorf("commit at shutdown: %w", err)
	}
	var outputs, deadLetters int64
	for i := range p.outputs {
		outputs += p.outputs[i]
		deadLetters += p.dls[i]
	}
	log.Printf("stopped after %s: %d outputs, %d dead letters", time.Since(started).Round(time.Millisecond), outputs, deadLetters)
	return nil
}

// poll hands polled records to the lanes until ctx ends.
func (p *processor) poll(ctx context.Context) {
	perLane := make([][]work, len(p.lanes))
	for {
		fetches := p.client.PollRecords(ctx, maxPoll)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			p.client.AllowRebalance()
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if !errors.Is(err, context.Canceled) {
				log.Printf("fetch %s[%d]: %v", topic, partition, err)
			}
		})
		fetches.EachPartition(func(part kgo.FetchTopicPartition) {
			if len(part.Records) == 0 {
				return
			}
			b := p.tracker.add(part.Topic, part.Partition, part.Records)
			for _, rec := range part.Records {
				i := p.laneOf(rec)
				perLane[i] = append(perLane[i], work{rec, b})
			}
		})
		// one send per lane and poll, in poll order: a key's records reach its lane in offset order
		for i, items := range perLane {
			if len(items) > 0 {
				p.lanes[i] <- items
				perLane[i] = nil
			}
		}
		// the batches are registered: a revoke may now run, and will wait for them
		p.client.AllowRebalance()
	}
}

func (p *processor) laneOf(rec *kgo.Record) int {
	if rec.Key == nil { // no key, no order to keep
		return int(rec.Offset % int64(len(p.lanes)))
	}
	return int(maphash.Bytes(p.seed, rec.Key) % uint64(len(p.lanes)))
}

// lane applies the seed rule and produces, in the order records arrive; acks come back through the batch.
func (p *processor) lane(i int) {
	for items := range p.lanes[i] {
		for _, w := range items {
			out, reason := transform(w.rec.Value, time.Now())
			var rec *kgo.Record
			if reason == "" {
				rec = &kgo.Record{Topic: p.output, Key: w.rec.Key, Value: out, Headers: w.rec.Headers}
				p.outputs[i]++
			} else {
				rec = deadLetter(w.rec, p.dlq, reason)
				p.dls[i]++
			}
			// background, not the poll context: records already polled are produced even while shutting down
			p.client.Produce(context.Background(), rec, w.batch.ack)
		}
	}
}

// ack is the promise of every record of one batch.
func (b *batch) ack(rec *kgo.Record, err error) {
	if err != nil {
		b.tracker.fail(fmt.Errorf("produce to %s: %w", rec.Topic, err))
		return
	}
	if b.pending.Add(-1) == 0 {
		b.tracker.done()
	}
}

// committer commits every commitInterval what has been acked since the last commit.
func (p *processor) committer(ctx context.Context) {
	tick := time.NewTicker(commitInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.tracker.commitMu.Lock()
			if err := p.commit(ctx, nil); err != nil && !errors.Is(err, context.Canceled) {
				log.Printf("commit: %v", err) // retried at the next tick
			}
			p.tracker.commitMu.Unlock()
		}
	}
}

// commit commits the acked prefix of the given partitions (all when nil). The caller holds tracker.commitMu.
func (p *processor) commit(ctx context.Context, only map[string][]int32) error {
	offsets := p.tracker.ready(only)
	if len(offsets) == 0 {
		return nil
	}
	var err error
	p.client.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, e error) {
		if e != nil {
			err = e
			return
		}
		err = p.tracker.committed(offsets, resp)
	})
	return err
}

// revoked runs with no poll in flight (BlockRebalanceOnPoll): every batch of the revoked partitions is registered.
func (p *processor) revoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	if len(revoked) == 0 {
		return
	}
	p.tracker.commitMu.Lock()
	defer p.tracker.commitMu.Unlock()
	// false only after a failed produce or at close: the acked prefix is still right to commit
	p.tracker.waitAcked(ctx, revoked)
	if err := p.commit(ctx, revoked); err != nil && !errors.Is(err, context.Canceled) {
		log.Printf("commit on revoke: %v", err)
	}
	p.tracker.forget(revoked)
}

func (p *processor) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	p.tracker.commitMu.Lock()
	defer p.tracker.commitMu.Unlock()
	p.tracker.forget(lost)
}
