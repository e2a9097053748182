package main

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestTransform(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, value, want string // want "" = dead letter
	}{
		{"valid", `{"id":"a","timestamp":"2026-01-02T11:00:00Z","data":"hello world!","status":"x"}`,
			`{"id":"a","timestamp":"2026-01-02T11:00:00Z","data":"hello world!","status":"valid"}`},
		{"invalid, 10 bytes", `{"id":"a","timestamp":"2026-01-02T11:00:00Z","data":"0123456789"}`,
			`{"id":"a","timestamp":"2026-01-02T11:00:00Z","data":"0123456789","status":"invalid"}`},
		{"bytes, not characters", `{"ID":"a","timestamp":"2026-01-02T11:00:00+01:00","data":"ééééééé"}`,
			`{"id":"a","timestamp":"2026-01-02T11:00:00+01:00","data":"ééééééé","status":"valid"}`},
		{"html escaped", `{"timestamp":"2026-01-02T11:00:00Z","data":"<&>"}`,
			`{"id":"","timestamp":"2026-01-02T11:00:00Z","data":"\u003c\u0026\u003e","status":"invalid"}`},
		{"exactly 24 h", `{"timestamp":"2026-01-01T12:00:00Z"}`,
			`{"id":"","timestamp":"2026-01-01T12:00:00Z","data":"","status":"invalid"}`},
		{"older than 24 h", `{"timestamp":"2026-01-01T11:59:59.999Z"}`, ""},
		{"not RFC 3339", `{"timestamp":"2026-01-02 11:00:00Z"}`, ""},
		{"no timestamp", `{"id":"a"}`, ""},
		{"numeric status", `{"timestamp":"2026-01-02T11:00:00Z","status":1}`, ""},
		{"not JSON", `{"id":`, ""},
		{"array", `[]`, ""},
	}
	for _, c := range cases {
		out, reason := transform([]byte(c.value), now)
		if c.want == "" && reason == "" {
			t.Errorf("%s: got %s, want a dead letter", c.name, out)
		}
		if c.want != "" && string(out) != c.want {
			t.Errorf("%s: got %s (%s), want %s", c.name, out, reason, c.want)
		}
	}
	if _, reason := transform(nil, now); reason != "value is null" {
		t.Errorf("null value: %q", reason)
	}
}

func TestDeadLetterKeepsRecord(t *testing.T) {
	in := &kgo.Record{Topic: "in", Partition: 3, Offset: 7, Key: []byte("k"), Value: []byte("v"),
		Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("1")}}, Timestamp: time.UnixMilli(1234)}
	dl := deadLetter(in, "dlq", "why")
	if dl.Topic != "dlq" || string(dl.Key) != "k" || string(dl.Value) != "v" || dl.Headers[0].Key != "h" {
		t.Fatalf("dead letter lost the record: %+v", dl)
	}
	got := map[string]string{}
	for _, h := range dl.Headers[1:] {
		got[h.Key] = string(h.Value)
	}
	if got["x-processor-error"] != "why" || got["x-processor-source-offset"] != "7" || got["x-processor-source-timestamp"] != "1234" {
		t.Errorf("headers: %v", got)
	}
	if len(in.Headers) != 1 {
		t.Errorf("input headers changed: %v", in.Headers)
	}
}
