package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// message is the seed service's message struct.
type message struct {
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Data      string `json:"data"`
	Status    string `json:"status"`
}

// transform is the seed rule: the output value, or why the record belongs in the dead-letter topic.
func transform(value []byte, now time.Time) (out []byte, reason string) {
	var msg message
	if err := json.Unmarshal(value, &msg); err != nil {
		if value == nil {
			return nil, "value is null"
		}
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, "value is not valid JSON: " + err.Error()
		}
		return nil, err.Error()
	}
	t, err := time.Parse(time.RFC3339, msg.Timestamp)
	if err != nil {
		return nil, "timestamp is not RFC 3339: " + err.Error()
	}
	if now.Sub(t) > 24*time.Hour {
		return nil, "timestamp is older than 24 hours: " + msg.Timestamp
	}
	if len(msg.Data) > 10 {
		msg.Status = "valid"
	} else {
		msg.Status = "invalid"
	}
	out, err = json.Marshal(msg)
	if err != nil { // cannot happen: four strings always marshal
		return nil, err.Error()
	}
	return out, ""
}

// deadLetter is the DLQ copy processor writes (src/pipeline/dead-letter.ts): the input's key, value and headers,
// then x-processor-* headers saying why and where the original is.
func deadLetter(in *kgo.Record, topic, reason string) *kgo.Record {
	headers := make([]kgo.RecordHeader, len(in.Headers), len(in.Headers)+8)
	copy(headers, in.Headers)
	header := func(name, value string) {
		headers = append(headers, kgo.RecordHeader{Key: "x-processor-" + name, Value: []byte(value)})
	}
	header("error", reason)
	header("error-kind", "permanent")
	header("attempts", "1")
	header("source-topic", in.Topic)
	header("source-partition", strconv.FormatInt(int64(in.Partition), 10))
	header("source-offset", strconv.FormatInt(in.Offset, 10))
	header("source-timestamp", strconv.FormatInt(in.Timestamp.UnixMilli(), 10))
	header("failed-at", time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	return &kgo.Record{Topic: topic, Key: in.Key, Value: in.Value, Headers: headers}
}
