package main

import "crypto/tls"

// insecureTLS is for the simulator's self-signed certificate in tests.
func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }
