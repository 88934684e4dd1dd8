package main

import (
	"context"
	"errors"
	"io"
)

// serve wires the configuration into the proxy and runs it until ctx ends.
func serve(ctx context.Context, cfg *Config, stdout io.Writer) error {
	return errors.New("serve: not wired yet")
}
