//go:build goexperiment.jsonv2

package main

// The seed service used the classic encoding/json; under GOEXPERIMENT=jsonv2 it is backed by v2, whose edge cases
// differ. Refuse to build rather than apply a different rule.
var _ = encodingJSONMustBeV1ForTheSeedRule
