//go:build goexperiment.jsonv2

package main

// The reference must use the classic encoding/json (as the seed service did), not the v2-backed one.
var _ = encodingJSONMustBeV1ForThisReference
