package controller

import (
	"encoding/json"
	"fmt"
)

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func encodeJSONForTest(v any) ([]byte, error) { return json.Marshal(v) }

// quietLogger keeps fasthttp servers in tests from logging dropped connections.
type quietLogger struct{}

func (quietLogger) Printf(string, ...any) {}
