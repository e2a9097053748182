// Command seedruleref is the reference for processor's default message rule (src/handlers/seed-rule.ts):
// the seed's Go service rule, written with the standard library only, exactly as the service did it:
//
//	json.Unmarshal(value, &msg)                 // reject on error
//	t, err := time.Parse(time.RFC3339, msg.Timestamp) // reject on error
//	time.Since(t) > 24*time.Hour                // reject
//	msg.Status = "valid" if len(msg.Data) > 10 else "invalid"; json.Marshal(msg)
//
// It reads a corpus from stdin, one JSON object per line: {"value_b64": "...", "null": false}, and prints one
// line per case: "valid", "invalid" or "dead-letter". With --with-output each line also gets a tab and, for
// valid/invalid, the base64 of json.Marshal(msg), for dead-letter the error text.
// --now-ms fixes "now" (epoch milliseconds) so both sides compute the same age.
//
// encoding/json here must be the classic (v1) implementation: legacy_json.go refuses to build with
// GOEXPERIMENT=jsonv2.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"
)

type Message struct {
	ID        string `json:"id"`
	Timestamp string `json:"timestamp"`
	Data      string `json:"data"`
	Status    string `json:"status"`
}

type corpusCase struct {
	ValueB64 string `json:"value_b64"`
	Null     bool   `json:"null"`
}

// rule is the seed service's decision for one Kafka value (nil = null value).
func rule(value []byte, now time.Time) (out []byte, status string, err error) {
	if value == nil {
		// what the service saw for a null value: Unmarshal of nil bytes
		var msg Message
		if err := json.Unmarshal(value, &msg); err != nil {
			return nil, "", err
		}
		return nil, "", errors.New("Unmarshal accepted a null value")
	}
	var msg Message
	if err := json.Unmarshal(value, &msg); err != nil {
		return nil, "", err
	}
	t, err := time.Parse(time.RFC3339, msg.Timestamp)
	if err != nil {
		return nil, "", err
	}
	// time.Since(t) is time.Now().Sub(t); the same with a fixed now
	if now.Sub(t) > 24*time.Hour {
		return nil, "", fmt.Errorf("older than 24 hours: %s", msg.Timestamp)
	}
	if len(msg.Data) > 10 {
		msg.Status = "valid"
	} else {
		msg.Status = "invalid"
	}
	out, err = json.Marshal(msg)
	if err != nil {
		return nil, "", err
	}
	return out, msg.Status, nil
}

func main() {
	nowMs := flag.Int64("now-ms", -1, "now, epoch milliseconds (required)")
	withOutput := flag.Bool("with-output", false, "append a tab and the serialised message (base64) or the error text")
	flag.Parse()
	if *nowMs < 0 {
		fmt.Fprintln(os.Stderr, "seedruleref: --now-ms is required")
		os.Exit(2)
	}
	now := time.UnixMilli(*nowMs)

	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	defer out.Flush()
	line := 0
	for {
		text, readErr := in.ReadBytes('\n')
		if len(text) > 0 && !(len(text) == 1 && text[0] == '\n') {
			line++
			var c corpusCase
			if err := json.Unmarshal(text, &c); err != nil {
				fmt.Fprintf(os.Stderr, "seedruleref: corpus line %d: %v\n", line, err)
				os.Exit(2)
			}
			var value []byte
			if !c.Null {
				decoded, err := base64.StdEncoding.DecodeString(c.ValueB64)
				if err != nil {
					fmt.Fprintf(os.Stderr, "seedruleref: corpus line %d: bad base64: %v\n", line, err)
					os.Exit(2)
				}
				value = decoded
				if value == nil {
					value = []byte{}
				}
			}
			serialised, status, err := rule(value, now)
			verdict := status
			if err != nil {
				verdict = "dead-letter"
			}
			out.WriteString(verdict)
			if *withOutput {
				out.WriteByte('\t')
				if err != nil {
					// base64 keeps the line one line
					out.WriteString(base64.StdEncoding.EncodeToString([]byte(err.Error())))
				} else {
					out.WriteString(base64.StdEncoding.EncodeToString(serialised))
				}
			}
			out.WriteByte('\n')
		}
		if readErr != nil {
			break
		}
	}
}
